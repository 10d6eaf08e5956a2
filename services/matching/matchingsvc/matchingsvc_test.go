package matchingsvc_test

import (
	"context"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/matching/matchingsvc"
)

func TestPolicyCoversEveryRPC(t *testing.T) {
	t.Parallel()
	for _, m := range matchingv1.MatchingService_ServiceDesc.Methods {
		method := "/" + matchingv1.MatchingService_ServiceDesc.ServiceName + "/" + m.MethodName
		require.NotEmpty(t, matchingsvc.Policy[method], "no roles for %s", method)
	}
	require.Len(t, matchingsvc.Policy, len(matchingv1.MatchingService_ServiceDesc.Methods))
}

func TestScoringConfigAPI(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		h := servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
			return matchingsvc.Run(ctx, lis, matchingsvc.Config{DatabaseURL: url}, env)
		})
		client := matchingv1.NewMatchingServiceClient(h.Conn)
		acme := testkit.RandomName("acme")
		manager := h.As(t, acme, auth.RoleTenantAdmin) // the program names no manager
		analyst := h.As(t, acme, auth.RoleAnalyst)
		(&service{Harness: h}).publish(t, acme, "program", "prog-1", "created", &eventsv1.ProgramCreated{Program: &participantv1.Program{Id: "prog-1"}}, "")
		testkit.Eventually(t, servicetest.WaitFor, func() bool {
			_, err := client.GetScoringConfig(analyst, &matchingv1.GetScoringConfigRequest{ProgramId: "prog-1"})
			return err == nil
		}, "the program has not reached the projection")

		defaults := &matchingv1.ScoringConfig{
			ProgramId: "prog-1",
			Weights: &matchingv1.Weights{
				CompetencyCoverage: 30, SeniorityGap: 15, CrossDepartment: 10, TimeZoneOverlap: 15,
				SharedLanguage: 10, FormatFit: 5, StyleComplement: 5, Motivation: 5, Preference: 5,
			},
			ReportingChainDepth:   2,
			RequireSharedLanguage: true,
			Acceptance:            matchingv1.Acceptance_ACCEPTANCE_BOTH,
			MaxPendingRequests:    3,
			RequestTtlHours:       168,
		}
		ignoreUpdateTime := protocmp.IgnoreFields(&matchingv1.ScoringConfig{}, "update_time")

		t.Run("defaults before any update", func(t *testing.T) {
			got, err := client.GetScoringConfig(analyst, &matchingv1.GetScoringConfigRequest{ProgramId: "prog-1"})
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(defaults, got, protocmp.Transform()))
		})

		var v1 *matchingv1.ScoringConfig
		t.Run("update stores version 1 and publishes it", func(t *testing.T) {
			change := proto.CloneOf(defaults)
			change.Weights.CompetencyCoverage = 60
			change.MinPairScore = 40
			change.Version = 0
			var err error
			v1, err = client.UpdateScoringConfig(manager, &matchingv1.UpdateScoringConfigRequest{Config: change})
			require.NoError(t, err)
			want := proto.CloneOf(change)
			want.Version = 1
			require.Empty(t, cmp.Diff(want, v1, protocmp.Transform(), ignoreUpdateTime))
			require.NotNil(t, v1.GetUpdateTime())

			got, err := client.GetScoringConfig(analyst, &matchingv1.GetScoringConfigRequest{ProgramId: "prog-1"})
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(v1, got, protocmp.Transform()))

			msg := h.LastEvent(t, acme+".scoring_config.updated", 1)
			require.Equal(t, "tandem.scoring_config.updated", msg.Header.Get(eventbus.HeaderType))
			require.Equal(t, acme, msg.Header.Get(eventbus.HeaderTenant))
			require.Equal(t, "prog-1", msg.Header.Get(eventbus.HeaderSubject))
			var payload eventsv1.ScoringConfigUpdated
			require.NoError(t, proto.Unmarshal(msg.Data, &payload))
			require.Empty(t, cmp.Diff(&eventsv1.ScoringConfigUpdated{Config: v1}, &payload, protocmp.Transform()))
		})

		t.Run("unset policies take their defaults", func(t *testing.T) {
			change := proto.CloneOf(v1)
			change.Acceptance, change.MaxPendingRequests, change.RequestTtlHours = 0, 0, 0
			change.Weights.Motivation = 0
			got, err := client.UpdateScoringConfig(manager, &matchingv1.UpdateScoringConfigRequest{Config: change})
			require.NoError(t, err)
			require.Equal(t, matchingv1.Acceptance_ACCEPTANCE_BOTH, got.GetAcceptance())
			require.EqualValues(t, 3, got.GetMaxPendingRequests())
			require.EqualValues(t, 168, got.GetRequestTtlHours())
			require.Zero(t, got.GetWeights().GetMotivation())
			change = proto.CloneOf(got)
			change.Acceptance, change.MaxPendingRequests, change.RequestTtlHours = matchingv1.Acceptance_ACCEPTANCE_MENTEE, 7, 24
			v1, err = client.UpdateScoringConfig(manager, &matchingv1.UpdateScoringConfigRequest{Config: change})
			require.NoError(t, err)
			require.Equal(t, matchingv1.Acceptance_ACCEPTANCE_MENTEE, v1.GetAcceptance())
			require.EqualValues(t, 7, v1.GetMaxPendingRequests())
			require.EqualValues(t, 24, v1.GetRequestTtlHours())
			require.EqualValues(t, 3, v1.GetVersion())
		})

		t.Run("stale version is aborted", func(t *testing.T) {
			stale := proto.CloneOf(defaults) // still version 0
			_, err := client.UpdateScoringConfig(manager, &matchingv1.UpdateScoringConfigRequest{Config: stale})
			require.Equal(t, codes.Aborted, status.Code(err), "%v", err)
			got, err := client.GetScoringConfig(analyst, &matchingv1.GetScoringConfigRequest{ProgramId: "prog-1"})
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(v1, got, protocmp.Transform()))
		})

		t.Run("invalid input names the field", func(t *testing.T) {
			tests := []struct {
				name   string
				change func(*matchingv1.ScoringConfig)
				field  string
			}{
				{"all weights zero", func(c *matchingv1.ScoringConfig) { c.Weights = &matchingv1.Weights{} }, "config.weights"},
				{"no weights", func(c *matchingv1.ScoringConfig) { c.Weights = nil }, "config.weights"},
				{"negative weight", func(c *matchingv1.ScoringConfig) { c.Weights.CompetencyCoverage = -1 }, "config.weights.competency_coverage"},
				{"chain depth", func(c *matchingv1.ScoringConfig) { c.ReportingChainDepth = 11 }, "config.reporting_chain_depth"},
				{"no program", func(c *matchingv1.ScoringConfig) { c.ProgramId = "" }, "config.program_id"},
				{"motivation weight", func(c *matchingv1.ScoringConfig) { c.Weights.Motivation = 100.5 }, "config.weights.motivation"},
				{"undefined acceptance", func(c *matchingv1.ScoringConfig) { c.Acceptance = 9 }, "config.acceptance"},
				{"pending requests", func(c *matchingv1.ScoringConfig) { c.MaxPendingRequests = 21 }, "config.max_pending_requests"},
				{"request ttl", func(c *matchingv1.ScoringConfig) { c.RequestTtlHours = 2161 }, "config.request_ttl_hours"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					c := proto.CloneOf(v1)
					tt.change(c)
					_, err := client.UpdateScoringConfig(manager, &matchingv1.UpdateScoringConfigRequest{Config: c})
					servicetest.RequireFieldViolation(t, err, tt.field)
				})
			}
			_, err := client.UpdateScoringConfig(manager, &matchingv1.UpdateScoringConfigRequest{})
			servicetest.RequireFieldViolation(t, err, "config")
		})

		t.Run("roles", func(t *testing.T) {
			c := proto.CloneOf(v1)
			for _, role := range []string{auth.RoleAnalyst, auth.RoleParticipant, auth.RoleService} {
				_, err := client.UpdateScoringConfig(h.As(t, acme, role), &matchingv1.UpdateScoringConfigRequest{Config: c})
				require.Equal(t, codes.PermissionDenied, status.Code(err), "update as %s: %v", role, err)
			}
			_, err := client.GetScoringConfig(h.As(t, acme, auth.RoleParticipant), &matchingv1.GetScoringConfigRequest{ProgramId: "prog-1"})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
			_, err = client.GetScoringConfig(t.Context(), &matchingv1.GetScoringConfigRequest{ProgramId: "prog-1"})
			require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)

			got, err := client.GetScoringConfig(h.As(t, acme, auth.RoleService), &matchingv1.GetScoringConfigRequest{ProgramId: "prog-1"})
			require.NoError(t, err)
			require.Equal(t, int64(3), got.GetVersion())
			got, err = client.UpdateScoringConfig(h.As(t, acme, auth.RoleTenantAdmin), &matchingv1.UpdateScoringConfigRequest{Config: c})
			require.NoError(t, err)
			require.Equal(t, int64(4), got.GetVersion())
		})

		t.Run("another tenant sees nothing of the first", func(t *testing.T) {
			globex := testkit.RandomName("globex")
			_, err := client.GetScoringConfig(h.As(t, globex, auth.RoleTenantAdmin), &matchingv1.GetScoringConfigRequest{ProgramId: "prog-1"})
			require.Equal(t, codes.NotFound, status.Code(err), "another tenant's program: %v", err)
			_, err = client.UpdateScoringConfig(h.As(t, globex, auth.RoleTenantAdmin), &matchingv1.UpdateScoringConfigRequest{Config: v1})
			require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
		})
	})
}
