package participantsvc_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

type fixture struct {
	client participantv1.ParticipantServiceClient
	signer *auth.DevSigner
	js     jetstream.JetStream
	stream string
}

// start runs the participant service on a loopback port with a real
// interceptor chain, database, embedded NATS and dev token verifier.
func start(t *testing.T, dbURL string) fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	nc, err := nats.Connect(testkit.EmbeddedNATS(t))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	stream, prefix := testkit.RandomName("S"), testkit.RandomName("p")
	require.NoError(t, eventbus.EnsureStream(ctx, js, stream, prefix))
	signer, err := auth.LoadOrCreateDevSigner(t.TempDir())
	require.NoError(t, err)
	verifier, err := signer.Verifier()
	require.NoError(t, err)
	env := platform.Env{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), JetStream: js, Verifier: verifier, Stream: stream, SubjectPrefix: prefix}
	if _, err := participantsvc.EnsureTenant(ctx, dbURL, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := participantsvc.EnsureTenant(ctx, dbURL, "globex"); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		done <- participantsvc.Run(ctx, lis, participantsvc.Config{DatabaseURL: dbURL, PageTokenKey: []byte("0123456789abcdef0123456789abcdef")}, env)
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return fixture{client: participantv1.NewParticipantServiceClient(conn), signer: signer, js: js, stream: stream}
}

func (f fixture) as(t *testing.T, tenant, role string) context.Context {
	t.Helper()
	tok, err := f.signer.Sign(auth.Principal{Tenant: tenant, Subject: role + "@" + tenant, Roles: []string{role}}, time.Hour)
	require.NoError(t, err)
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
}

func fieldViolations(t *testing.T, err error) []string {
	t.Helper()
	st := status.Convert(err)
	require.Equal(t, codes.InvalidArgument, st.Code(), "err: %v", err)
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

func TestParticipantAPI(t *testing.T) {
	f := start(t, testkit.SQLiteURL(t))
	admin := f.as(t, "acme", auth.RoleTenantAdmin)

	program, err := f.client.CreateProgram(admin, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "AI for leaders", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE, DurationWeeks: 12,
	}})
	require.NoError(t, err)

	t.Run("protovalidate rejects out-of-range input with the field", func(t *testing.T) {
		_, err := f.client.CreateProgram(admin, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
			DisplayName: "x", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE, DurationWeeks: 9999,
		}})
		require.Equal(t, []string{"program.duration_weeks"}, fieldViolations(t, err))
	})

	t.Run("domain validation names the field", func(t *testing.T) {
		_, err := f.client.CreatePerson(admin, &participantv1.CreatePersonRequest{Person: &participantv1.Person{
			DisplayName: "Ada", Email: "ada@acme.example", TimeZone: "Europe/Atlantis",
		}})
		require.Equal(t, []string{"person.time_zone"}, fieldViolations(t, err))
	})

	t.Run("update mask changes only the named fields", func(t *testing.T) {
		got, err := f.client.UpdateProgram(admin, &participantv1.UpdateProgramRequest{
			Program:    &participantv1.Program{Id: program.GetId(), Description: "Executives learn GenAI", DurationWeeks: 1},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}},
		})
		require.NoError(t, err)
		require.Equal(t, "Executives learn GenAI", got.GetDescription())
		require.EqualValues(t, 12, got.GetDurationWeeks())
		require.Equal(t, "AI for leaders", got.GetDisplayName())

		_, err = f.client.UpdateProgram(admin, &participantv1.UpdateProgramRequest{
			Program:    &participantv1.Program{Id: program.GetId(), Type: participantv1.ProgramType_PROGRAM_TYPE_CLASSIC},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"type"}},
		})
		require.Equal(t, []string{"update_mask"}, fieldViolations(t, err))
	})

	t.Run("illegal transition is FailedPrecondition", func(t *testing.T) {
		_, err := f.client.TransitionProgram(admin, &participantv1.TransitionProgramRequest{Id: program.GetId(), State: participantv1.ProgramState_PROGRAM_STATE_COMPLETED})
		require.Equal(t, codes.FailedPrecondition, status.Code(err))
	})

	t.Run("roles are enforced", func(t *testing.T) {
		_, err := f.client.CreateProgram(f.as(t, "acme", auth.RoleParticipant), &participantv1.CreateProgramRequest{Program: &participantv1.Program{
			DisplayName: "Mine", Type: participantv1.ProgramType_PROGRAM_TYPE_PEER,
		}})
		require.Equal(t, codes.PermissionDenied, status.Code(err))
		_, err = f.client.GetProgram(f.as(t, "acme", auth.RoleAnalyst), &participantv1.GetProgramRequest{Id: program.GetId()})
		require.NoError(t, err)
	})

	t.Run("another tenant cannot see or change it", func(t *testing.T) {
		other := f.as(t, "globex", auth.RoleTenantAdmin)
		_, err := f.client.GetProgram(other, &participantv1.GetProgramRequest{Id: program.GetId()})
		require.Equal(t, codes.NotFound, status.Code(err))
		_, err = f.client.TransitionProgram(other, &participantv1.TransitionProgramRequest{Id: program.GetId(), State: participantv1.ProgramState_PROGRAM_STATE_CANCELLED, Reason: "x"})
		require.Equal(t, codes.NotFound, status.Code(err))
		got, err := f.client.GetProgram(admin, &participantv1.GetProgramRequest{Id: program.GetId()})
		require.NoError(t, err)
		require.Equal(t, participantv1.ProgramState_PROGRAM_STATE_DRAFT, got.GetState())
	})

	t.Run("page tokens page through and resist tampering", func(t *testing.T) {
		for range 4 {
			_, err := f.client.CreateProgram(admin, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
				DisplayName: "p", Type: participantv1.ProgramType_PROGRAM_TYPE_CLASSIC,
			}})
			require.NoError(t, err)
		}
		seen := map[string]bool{}
		token := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10)
			resp, err := f.client.ListPrograms(admin, &participantv1.ListProgramsRequest{PageSize: 2, PageToken: token})
			require.NoError(t, err)
			for _, p := range resp.GetPrograms() {
				require.False(t, seen[p.GetId()], "program listed twice")
				seen[p.GetId()] = true
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
			tampered := token[:len(token)-2] + "AA"
			_, err = f.client.ListPrograms(admin, &participantv1.ListProgramsRequest{PageSize: 2, PageToken: tampered})
			require.Equal(t, []string{"page_token"}, fieldViolations(t, err))
			_, err = f.client.ListPrograms(admin, &participantv1.ListProgramsRequest{PageSize: 2, PageToken: token, State: participantv1.ProgramState_PROGRAM_STATE_ACTIVE})
			require.Equal(t, []string{"page_token"}, fieldViolations(t, err), "a token is bound to its filter")
			_, err = f.client.ListPrograms(f.as(t, "globex", auth.RoleTenantAdmin), &participantv1.ListProgramsRequest{PageSize: 2, PageToken: token})
			require.Equal(t, []string{"page_token"}, fieldViolations(t, err), "a token is bound to its tenant")
		}
		require.Len(t, seen, 5)
	})

	t.Run("events reach the stream", func(t *testing.T) {
		testkit.Eventually(t, 10*time.Second, func() bool {
			info, err := f.js.Stream(context.Background(), f.stream)
			if err != nil {
				return false
			}
			st, err := info.Info(context.Background())
			// 2 tenants, 5 programs, 1 update.
			return err == nil && st.State.Msgs == 8
		}, "8 events on the stream")
	})
}

// TestPolicyCoversEveryRPC fails when an RPC is added without a policy.
func TestPolicyCoversEveryRPC(t *testing.T) {
	sd := participantv1.File_tandem_participant_v1_participant_proto.Services().ByName("ParticipantService")
	for i := range sd.Methods().Len() {
		m := "/" + string(sd.FullName()) + "/" + string(sd.Methods().Get(i).Name())
		require.NotEmpty(t, participantsvc.Policy[m], "no policy for %s", m)
	}
	require.Len(t, participantsvc.Policy, sd.Methods().Len(), "policy names a method the service lacks")
}
