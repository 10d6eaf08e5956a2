package participantsvc_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

func TestParticipantAPI(t *testing.T) {
	url := testkit.SQLiteURL(t)
	for _, tenant := range []string{"acme", "globex"} {
		_, err := participantsvc.EnsureTenant(t.Context(), url, tenant, "")
		require.NoError(t, err)
	}
	h := servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
		return participantsvc.Run(ctx, lis, participantsvc.Config{DatabaseURL: url, PageTokenKey: []byte("0123456789abcdef0123456789abcdef")}, env)
	})
	client := participantv1.NewParticipantServiceClient(h.Conn)
	admin := h.As(t, "acme", auth.RoleTenantAdmin)

	program, err := client.CreateProgram(admin, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "AI for leaders", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE, DurationWeeks: 12,
	}})
	require.NoError(t, err)

	t.Run("protovalidate rejects out-of-range input with the field", func(t *testing.T) {
		_, err := client.CreateProgram(admin, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
			DisplayName: "x", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE, DurationWeeks: 9999,
		}})
		require.Equal(t, []string{"program.duration_weeks"}, servicetest.FieldViolations(t, err))
	})

	t.Run("domain validation names the field", func(t *testing.T) {
		_, err := client.CreatePerson(admin, &participantv1.CreatePersonRequest{Person: &participantv1.Person{
			DisplayName: "Ada", Email: "ada@acme.example", TimeZone: "Europe/Atlantis",
		}})
		require.Equal(t, []string{"person.time_zone"}, servicetest.FieldViolations(t, err))
	})

	t.Run("update mask changes only the named fields", func(t *testing.T) {
		got, err := client.UpdateProgram(admin, &participantv1.UpdateProgramRequest{
			Program:    &participantv1.Program{Id: program.GetId(), Description: "Executives learn GenAI", DurationWeeks: 1},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}},
		})
		require.NoError(t, err)
		require.Equal(t, "Executives learn GenAI", got.GetDescription())
		require.EqualValues(t, 12, got.GetDurationWeeks())
		require.Equal(t, "AI for leaders", got.GetDisplayName())

		_, err = client.UpdateProgram(admin, &participantv1.UpdateProgramRequest{
			Program:    &participantv1.Program{Id: program.GetId(), Type: participantv1.ProgramType_PROGRAM_TYPE_CLASSIC},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"type"}},
		})
		require.Equal(t, []string{"update_mask"}, servicetest.FieldViolations(t, err))
	})

	t.Run("illegal transition is FailedPrecondition", func(t *testing.T) {
		_, err := client.TransitionProgram(admin, &participantv1.TransitionProgramRequest{Id: program.GetId(), State: participantv1.ProgramState_PROGRAM_STATE_COMPLETED})
		require.Equal(t, codes.FailedPrecondition, status.Code(err))
	})

	t.Run("roles are enforced", func(t *testing.T) {
		_, err := client.CreateProgram(h.As(t, "acme", auth.RoleParticipant), &participantv1.CreateProgramRequest{Program: &participantv1.Program{
			DisplayName: "Mine", Type: participantv1.ProgramType_PROGRAM_TYPE_PEER,
		}})
		require.Equal(t, codes.PermissionDenied, status.Code(err))
		_, err = client.GetProgram(h.As(t, "acme", auth.RoleAnalyst), &participantv1.GetProgramRequest{Id: program.GetId()})
		require.NoError(t, err)
	})

	t.Run("another tenant cannot see or change it", func(t *testing.T) {
		other := h.As(t, "globex", auth.RoleTenantAdmin)
		_, err := client.GetProgram(other, &participantv1.GetProgramRequest{Id: program.GetId()})
		require.Equal(t, codes.NotFound, status.Code(err))
		_, err = client.TransitionProgram(other, &participantv1.TransitionProgramRequest{Id: program.GetId(), State: participantv1.ProgramState_PROGRAM_STATE_CANCELLED, Reason: "x"})
		require.Equal(t, codes.NotFound, status.Code(err))
		got, err := client.GetProgram(admin, &participantv1.GetProgramRequest{Id: program.GetId()})
		require.NoError(t, err)
		require.Equal(t, participantv1.ProgramState_PROGRAM_STATE_DRAFT, got.GetState())
	})

	t.Run("page tokens page through and resist tampering", func(t *testing.T) {
		for range 4 {
			_, err := client.CreateProgram(admin, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
				DisplayName: "p", Type: participantv1.ProgramType_PROGRAM_TYPE_CLASSIC,
			}})
			require.NoError(t, err)
		}
		seen := map[string]bool{}
		token := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10)
			resp, err := client.ListPrograms(admin, &participantv1.ListProgramsRequest{PageSize: 2, PageToken: token})
			require.NoError(t, err)
			for _, p := range resp.GetPrograms() {
				require.False(t, seen[p.GetId()], "program listed twice")
				seen[p.GetId()] = true
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
			tampered := token[:len(token)-2] + "AA"
			_, err = client.ListPrograms(admin, &participantv1.ListProgramsRequest{PageSize: 2, PageToken: tampered})
			require.Equal(t, []string{"page_token"}, servicetest.FieldViolations(t, err))
			_, err = client.ListPrograms(admin, &participantv1.ListProgramsRequest{PageSize: 2, PageToken: token, State: participantv1.ProgramState_PROGRAM_STATE_ACTIVE})
			require.Equal(t, []string{"page_token"}, servicetest.FieldViolations(t, err), "a token is bound to its filter")
			_, err = client.ListPrograms(h.As(t, "globex", auth.RoleTenantAdmin), &participantv1.ListProgramsRequest{PageSize: 2, PageToken: token})
			require.Equal(t, []string{"page_token"}, servicetest.FieldViolations(t, err), "a token is bound to its tenant")
		}
		require.Len(t, seen, 5)
	})

	t.Run("events reach the stream", func(t *testing.T) {
		testkit.Eventually(t, 10*time.Second, func() bool {
			info, err := h.JS.Stream(context.Background(), h.Stream)
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

// TestProgramManagers checks that a program manager acts only on the
// programs they manage, and that only a tenant admin changes who does.
func TestProgramManagers(t *testing.T) {
	url := testkit.SQLiteURL(t)
	_, err := participantsvc.EnsureTenant(t.Context(), url, "acme", "")
	require.NoError(t, err)
	h := servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
		return participantsvc.Run(ctx, lis, participantsvc.Config{DatabaseURL: url, PageTokenKey: []byte("0123456789abcdef0123456789abcdef")}, env)
	})
	client := participantv1.NewParticipantServiceClient(h.Conn)
	admin := h.As(t, "acme", auth.RoleTenantAdmin)
	mia := h.AsSubject(t, "acme", "mia@acme.example", auth.RoleProgramManager)
	tom := h.AsSubject(t, "acme", "tom@acme.example", auth.RoleProgramManager)
	mine, err := client.CreateProgram(mia, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "Mia's", Type: participantv1.ProgramType_PROGRAM_TYPE_PEER, ManagerSubjects: []string{"ann@acme.example"},
	}})
	require.NoError(t, err)
	require.Equal(t, []string{"mia@acme.example", "ann@acme.example"}, mine.GetManagerSubjects(), "the creator manages it")

	rename := &participantv1.UpdateProgramRequest{Program: &participantv1.Program{Id: mine.GetId(), Description: "by tom"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}}}
	_, err = client.UpdateProgram(tom, rename)
	require.Equal(t, codes.PermissionDenied, status.Code(err), "another manager's program: %v", err)
	_, err = client.TransitionProgram(tom, &participantv1.TransitionProgramRequest{Id: mine.GetId(), State: participantv1.ProgramState_PROGRAM_STATE_CANCELLED, Reason: "x"})
	require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
	_, err = client.ListParticipants(tom, &participantv1.ListParticipantsRequest{ProgramId: mine.GetId()})
	require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
	_, err = client.UpdateProgram(mia, rename)
	require.NoError(t, err)

	addTom := &participantv1.UpdateProgramRequest{Program: &participantv1.Program{Id: mine.GetId(), ManagerSubjects: []string{"mia@acme.example", "tom@acme.example"}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"manager_subjects"}}}
	_, err = client.UpdateProgram(mia, addTom)
	require.Equal(t, codes.PermissionDenied, status.Code(err), "only a tenant admin changes the managers: %v", err)
	_, err = client.UpdateProgram(admin, addTom)
	require.NoError(t, err)
	_, err = client.UpdateProgram(tom, rename)
	require.NoError(t, err, "tom manages it now")
	got, err := client.GetProgram(admin, &participantv1.GetProgramRequest{Id: mine.GetId()})
	require.NoError(t, err)
	require.Equal(t, "by tom", got.GetDescription())
}
