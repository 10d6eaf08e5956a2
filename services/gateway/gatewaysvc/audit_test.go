package gatewaysvc_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/gateway/gatewaysvc"
)

// TestAuditOfRefusals refuses calls for each reason, over gRPC and HTTP,
// through a gateway in front of a real participant service, and reads the
// audit.access_denied events from an embedded JetStream.
func TestAuditOfRefusals(t *testing.T) {
	g := startGatewayWith(t, []string{"acme"}, func(cfg *gatewaysvc.Config, h *servicetest.Harness) {
		// Each subject may make one call: its second is rate limited.
		cfg.RateLimit = gatewaysvc.RateLimitConfig{ClientPerSecond: 0.001, ClientBurst: 1}
		cfg.Audit = gatewaysvc.AuditConfig{JetStream: h.JS, SubjectPrefix: h.Prefix}
	})
	h, base := g.svc, g.base
	client := participantv1.NewParticipantServiceClient(g.conn)
	as := func(subject string, roles ...string) (context.Context, string) {
		tok, err := h.Signer.Sign(auth.Principal{Tenant: "acme", Subject: subject, Roles: roles}, time.Hour)
		require.NoError(t, err)
		return metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tok), tok
	}
	httpCall := func(method, path, token, body string) int {
		req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	testkit.Eventually(t, servicetest.WaitFor, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}, "gateway not serving")

	admin, _ := as("root", auth.RoleTenantAdmin)
	program, err := client.CreateProgram(admin, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "Audited", Type: participantv1.ProgramType_PROGRAM_TYPE_PEER}})
	require.NoError(t, err)

	const svc = "/tandem.participant.v1.ParticipantService/"
	var want []*eventsv1.AccessDenied
	refused := func(actor, tenant, method, protocol, decision, reason string) {
		want = append(want, &eventsv1.AccessDenied{Actor: actor, Tenant: tenant, Method: method, Protocol: protocol, Decision: decision, Reason: reason})
	}

	_, err = client.ListPrograms(t.Context(), &participantv1.ListProgramsRequest{})
	require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	refused("", "", svc+"ListPrograms", "grpc", "UNAUTHENTICATED", "missing_token")

	analyst, _ := as("ana", auth.RoleAnalyst)
	_, err = client.CreateProgram(analyst, &participantv1.CreateProgramRequest{Program: &participantv1.Program{DisplayName: "x", Type: participantv1.ProgramType_PROGRAM_TYPE_PEER}})
	require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
	refused("ana", "acme", svc+"CreateProgram", "grpc", "PERMISSION_DENIED", "role")

	tom, _ := as("tom", auth.RoleProgramManager)
	_, err = client.UpdateProgram(tom, &participantv1.UpdateProgramRequest{Program: &participantv1.Program{Id: program.GetId(), Description: "mine now"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}}})
	require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
	refused("tom", "acme", svc+"UpdateProgram", "grpc", "PERMISSION_DENIED", "object")

	_, err = client.ListPrograms(tom, &participantv1.ListProgramsRequest{})
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "tom's second call: %v", err)
	refused("tom", "acme", svc+"ListPrograms", "grpc", "RESOURCE_EXHAUSTED", "rate_limit")

	require.Equal(t, http.StatusUnauthorized, httpCall(http.MethodGet, "/v1/programs", "forged", ""))
	refused("", "", "GET /v1/programs", "http", "UNAUTHENTICATED", "invalid_token")

	_, analystToken := as("ann", auth.RoleAnalyst)
	require.Equal(t, http.StatusForbidden, httpCall(http.MethodPost, "/v1/programs", analystToken, `{"displayName":"x","type":"PROGRAM_TYPE_PEER"}`))
	refused("ann", "acme", "POST /v1/programs", "http", "PERMISSION_DENIED", "role")

	_, managerToken := as("max", auth.RoleProgramManager)
	require.Equal(t, http.StatusForbidden, httpCall(http.MethodPost, "/v1/programs/"+program.GetId()+":transition", managerToken, `{"state":"PROGRAM_STATE_CANCELLED","reason":"x"}`))
	refused("max", "acme", "POST /v1/programs/"+program.GetId()+":transition", "http", "PERMISSION_DENIED", "object")
	require.Equal(t, http.StatusTooManyRequests, httpCall(http.MethodGet, "/v1/programs", managerToken, ""))
	refused("max", "acme", "GET /v1/programs", "http", "RESOURCE_EXHAUSTED", "rate_limit")

	got := auditEvents(t, h, len(want))
	require.Empty(t, cmp.Diff(want, got, protocmp.Transform(), protocmp.IgnoreFields(&eventsv1.AccessDenied{}, "time")))
	for _, e := range got {
		require.WithinDuration(t, time.Now(), e.GetTime().AsTime(), time.Minute)
	}
}

// auditEvents waits for n audit.access_denied events of any tenant and
// returns them in stream order, after checking their headers.
func auditEvents(t *testing.T, h *servicetest.Harness, n int) []*eventsv1.AccessDenied {
	t.Helper()
	stream, err := h.JS.Stream(t.Context(), h.Stream)
	require.NoError(t, err)
	filter := h.Prefix + ".*.audit.access_denied"
	testkit.Eventually(t, servicetest.WaitFor, func() bool {
		info, err := stream.Info(t.Context(), jetstream.WithSubjectFilter(filter))
		if err != nil {
			return false
		}
		total := 0
		for _, c := range info.State.Subjects {
			total += int(c)
		}
		return total >= n
	}, "want %d audit events", n)
	cons, err := stream.OrderedConsumer(t.Context(), jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	require.NoError(t, err)
	batch, err := cons.FetchNoWait(n + 1)
	require.NoError(t, err)
	var out []*eventsv1.AccessDenied
	for msg := range batch.Messages() {
		require.Equal(t, "tandem.audit.access_denied", msg.Headers().Get(eventbus.HeaderType))
		require.Equal(t, msg.Headers().Get(eventbus.HeaderID), msg.Headers().Get(jetstream.MsgIDHeader))
		var e eventsv1.AccessDenied
		require.NoError(t, proto.Unmarshal(msg.Data(), &e))
		tenant := e.GetTenant()
		if tenant == "" {
			tenant = "_"
		}
		require.Equal(t, h.Prefix+"."+tenant+".audit.access_denied", msg.Subject())
		out = append(out, &e)
	}
	require.Len(t, out, n, "exactly one event per refusal")
	return out
}
