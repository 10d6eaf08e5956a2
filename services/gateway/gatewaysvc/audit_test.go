package gatewaysvc_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
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
		want = append(want, &eventsv1.AccessDenied{Actor: actor, Tenant: tenant, Method: method, Protocol: protocol, Decision: decision, Reason: reason, Count: 1})
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

	// Rate-limit refusals are published with the second's sums, after
	// the others: the order is not the calls'.
	got := auditEvents(t, h, len(want))
	byCall := cmpopts.SortSlices(func(a, b *eventsv1.AccessDenied) bool {
		return a.GetMethod()+a.GetReason()+a.GetActor() < b.GetMethod()+b.GetReason()+b.GetActor()
	})
	require.Empty(t, cmp.Diff(want, got, byCall, protocmp.Transform(), protocmp.IgnoreFields(&eventsv1.AccessDenied{}, "time", "last_time")))
	for _, e := range got {
		require.WithinDuration(t, time.Now(), e.GetTime().AsTime(), time.Minute)
		require.Equal(t, e.GetTime().AsTime(), e.GetLastTime().AsTime(), "one call each")
	}
}

// TestAuditSumsRateLimitRefusals floods the gateway as one caller over
// gRPC and HTTP: the rate-limit refusals arrive summed, a few events whose
// counts add up to every refused call, none dropped.
func TestAuditSumsRateLimitRefusals(t *testing.T) {
	g := startGatewayWith(t, []string{"acme"}, func(cfg *gatewaysvc.Config, h *servicetest.Harness) {
		cfg.RateLimit = gatewaysvc.RateLimitConfig{ClientPerSecond: 0.001, ClientBurst: 1}
		cfg.Audit = gatewaysvc.AuditConfig{JetStream: h.JS, SubjectPrefix: h.Prefix, Buffer: 8}
	})
	tok, err := g.svc.Signer.Sign(auth.Principal{Tenant: "acme", Subject: "flood", Roles: []string{auth.RoleTenantAdmin}}, time.Hour)
	require.NoError(t, err)
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tok)
	client := participantv1.NewParticipantServiceClient(g.conn)
	_, err = client.ListPrograms(ctx, &participantv1.ListProgramsRequest{})
	require.NoError(t, err, "the first call is within the burst")
	const grpcCalls, httpCalls = 300, 40 // far more than the queue holds
	for range grpcCalls {
		_, err := client.ListPrograms(ctx, &participantv1.ListProgramsRequest{})
		require.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
	}
	for range httpCalls {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, g.base+"/v1/programs", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	}

	counts := map[string]int{}
	var events []*eventsv1.AccessDenied
	testkit.Eventually(t, servicetest.WaitFor, func() bool {
		events = storedAuditEvents(t, g.svc)
		clear(counts)
		for _, e := range events {
			counts[e.GetProtocol()] += int(e.GetCount())
		}
		return counts["grpc"] == grpcCalls && counts["http"] == httpCalls
	}, "every refusal counted")
	require.Less(t, len(events), 10, "summed, not one event per call")
	for _, e := range events {
		require.Equal(t, "flood", e.GetActor())
		require.Equal(t, "acme", e.GetTenant())
		require.Equal(t, "rate_limit", e.GetReason())
		require.Equal(t, "RESOURCE_EXHAUSTED", e.GetDecision())
		require.False(t, e.GetLastTime().AsTime().Before(e.GetTime().AsTime()), "last_time not before time")
	}
}

// auditEvents waits for n audit.access_denied events of any tenant and
// returns them in stream order, after checking their headers.
func auditEvents(t *testing.T, h *servicetest.Harness, n int) []*eventsv1.AccessDenied {
	t.Helper()
	var out []*eventsv1.AccessDenied
	testkit.Eventually(t, servicetest.WaitFor, func() bool {
		out = storedAuditEvents(t, h)
		return len(out) >= n
	}, "want %d audit events", n)
	require.Len(t, out, n, "exactly one event per refusal")
	return out
}

// storedAuditEvents returns the audit.access_denied events stored so far,
// in stream order, after checking their headers.
func storedAuditEvents(t *testing.T, h *servicetest.Harness) []*eventsv1.AccessDenied {
	t.Helper()
	stream, err := h.JS.Stream(t.Context(), h.Stream)
	require.NoError(t, err)
	info, err := stream.Info(t.Context())
	require.NoError(t, err)
	// Read message by message (no consumer left behind per poll).
	var out []*eventsv1.AccessDenied
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		msg, err := stream.GetMsg(t.Context(), seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		require.NoError(t, err)
		if msg.Header.Get(eventbus.HeaderType) != "tandem.audit.access_denied" {
			continue
		}
		require.Equal(t, msg.Header.Get(eventbus.HeaderID), msg.Header.Get(jetstream.MsgIDHeader))
		var e eventsv1.AccessDenied
		require.NoError(t, proto.Unmarshal(msg.Data, &e))
		tenant := e.GetTenant()
		if tenant == "" {
			tenant = "_"
		}
		require.Equal(t, h.Prefix+"."+tenant+".audit.access_denied", msg.Subject)
		out = append(out, &e)
	}
	return out
}
