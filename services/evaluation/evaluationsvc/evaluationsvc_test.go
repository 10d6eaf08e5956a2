package evaluationsvc_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/evaluation/evaluationsvc"
)

func TestPolicyCoversEveryRPC(t *testing.T) {
	t.Parallel()
	for _, m := range evaluationv1.EvaluationService_ServiceDesc.Methods {
		method := "/" + evaluationv1.EvaluationService_ServiceDesc.ServiceName + "/" + m.MethodName
		require.NotEmpty(t, evaluationsvc.Policy[method], "no roles for %s", method)
	}
	require.Len(t, evaluationsvc.Policy, len(evaluationv1.EvaluationService_ServiceDesc.Methods))
}

func participant(id, program string, role participantv1.ParticipantRole, state participantv1.ParticipantState) *participantv1.Participant {
	return &participantv1.Participant{Id: id, ProgramId: program, PersonId: "person-" + id, Role: role, State: state}
}

const (
	mentor    = participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR
	mentee    = participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE
	enrolled  = participantv1.ParticipantState_PARTICIPANT_STATE_ENROLLED
	withdrawn = participantv1.ParticipantState_PARTICIPANT_STATE_WITHDRAWN
)

func TestProgramReportFromEvents(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		h := servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
			return evaluationsvc.Run(ctx, lis, evaluationsvc.Config{DatabaseURL: url}, env)
		})
		outbox := newParticipantOutbox(t, h)
		client := evaluationv1.NewEvaluationServiceClient(h.Conn)
		acme, globex := testkit.RandomName("acme"), testkit.RandomName("globex")
		analyst := h.As(t, acme, auth.RoleAnalyst)
		ignoreAsOf := protocmp.IgnoreFields(&evaluationv1.ProgramReport{}, "as_of_time")
		report := func(t *testing.T, tenant, program string) *evaluationv1.ProgramReport {
			t.Helper()
			r, err := client.GetProgramReport(h.As(t, tenant, auth.RoleProgramManager), &evaluationv1.GetProgramReportRequest{ProgramId: program})
			require.NoError(t, err)
			return r
		}
		t.Run("a program without events has an empty report", func(t *testing.T) {
			got, err := client.GetProgramReport(analyst, &evaluationv1.GetProgramReportRequest{ProgramId: "prog-1"})
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(&evaluationv1.ProgramReport{ProgramId: "prog-1"}, got, protocmp.Transform()))
		})

		// Other programs and tenants first, so that the last enrolment of
		// acme is the one of mentee-3.
		outbox.publish(t, globex, "enrolled", participant("g-mentor", "prog-1", mentor, enrolled))
		outbox.publish(t, acme, "enrolled", participant("other-mentee", "prog-2", mentee, enrolled))
		outbox.publish(t, acme, "enrolled", participant("mentor-1", "prog-1", mentor, enrolled))
		outbox.publish(t, acme, "enrolled", participant("mentor-2", "prog-1", mentor, enrolled))
		outbox.publish(t, acme, "enrolled", participant("mentee-1", "prog-1", mentee, enrolled))
		outbox.publish(t, acme, "enrolled", participant("mentee-2", "prog-1", mentee, enrolled))
		outbox.publish(t, acme, "enrolled", participant("mentee-3", "prog-1", mentee, enrolled))
		outbox.publish(t, acme, "withdrawn", participant("mentee-3", "prog-1", mentee, withdrawn))
		outbox.publish(t, acme, "updated", participant("mentee-1", "prog-1", mentee, enrolled))
		want := &evaluationv1.ProgramReport{ProgramId: "prog-1", EnrolledMentors: 2, EnrolledMentees: 2, Withdrawn: 1}

		var first *evaluationv1.ProgramReport
		t.Run("the report counts the projected events as of the newest", func(t *testing.T) {
			newest := h.LastEvent(t, acme+".participant.updated", 1)
			awaitConsumed(t, h, newest.Sequence)
			eventTime, err := time.Parse(time.RFC3339Nano, newest.Header.Get(eventbus.HeaderTime))
			require.NoError(t, err)
			want.AsOfTime = timestamppb.New(eventTime)
			first = report(t, acme, "prog-1")
			require.Empty(t, cmp.Diff(want, first, protocmp.Transform()))
			got := report(t, acme, "prog-2")
			require.Empty(t, cmp.Diff(&evaluationv1.ProgramReport{ProgramId: "prog-2", EnrolledMentees: 1}, got, protocmp.Transform(), ignoreAsOf))
		})

		t.Run("another tenant sees nothing of the first", func(t *testing.T) {
			got := report(t, globex, "prog-1")
			require.Empty(t, cmp.Diff(&evaluationv1.ProgramReport{ProgramId: "prog-1", EnrolledMentors: 1}, got, protocmp.Transform(), ignoreAsOf))
			got = report(t, testkit.RandomName("initech"), "prog-1")
			require.Empty(t, cmp.Diff(&evaluationv1.ProgramReport{ProgramId: "prog-1"}, got, protocmp.Transform()))
		})

		t.Run("a redelivered event is applied once", func(t *testing.T) {
			// The enrolment of mentee-3, who withdrew since: applied again
			// it would count mentee-3 as enrolled. JetStream's duplicate
			// window would drop a copy with the same Nats-Msg-Id, so the
			// copy gets a new one: only the ce-id still says it is the same
			// event, as after a republish outside the window. The inbox
			// skips it; the projection's newest-event rule would too.
			original := h.LastEvent(t, acme+".participant.enrolled", 6)
			require.Equal(t, "tandem.participant.enrolled", original.Header.Get(eventbus.HeaderType))
			copied := nats.NewMsg(original.Subject)
			copied.Data = original.Data
			for k, v := range original.Header {
				copied.Header[k] = v
			}
			copied.Header.Set(jetstream.MsgIDHeader, testkit.RandomName("redelivery-"))
			ack, err := h.JS.PublishMsg(t.Context(), copied)
			require.NoError(t, err)
			require.False(t, ack.Duplicate, "the copy must reach the stream")

			awaitConsumed(t, h, ack.Sequence)
			got := report(t, acme, "prog-1")
			require.Empty(t, cmp.Diff(first, got, protocmp.Transform()))
		})

		t.Run("invalid input names the field", func(t *testing.T) {
			_, err := client.GetProgramReport(analyst, &evaluationv1.GetProgramReportRequest{})
			servicetest.RequireFieldViolation(t, err, "program_id")
		})

		t.Run("roles", func(t *testing.T) {
			for _, role := range []string{auth.RoleParticipant, auth.RoleService} {
				_, err := client.GetProgramReport(h.As(t, acme, role), &evaluationv1.GetProgramReportRequest{ProgramId: "prog-1"})
				require.Equal(t, codes.PermissionDenied, status.Code(err), "as %s: %v", role, err)
			}
			_, err := client.GetProgramReport(t.Context(), &evaluationv1.GetProgramReportRequest{ProgramId: "prog-1"})
			require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
			for _, role := range []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleAnalyst} {
				_, err := client.GetProgramReport(h.As(t, acme, role), &evaluationv1.GetProgramReportRequest{ProgramId: "prog-1"})
				require.NoError(t, err, role)
			}
		})
	})
}

// awaitConsumed waits until the evaluation consumer has acknowledged every
// message up to stream sequence seq. It acknowledges only after the
// handler's transaction committed or the inbox recognised a duplicate.
func awaitConsumed(t *testing.T, h *servicetest.Harness, seq uint64) {
	t.Helper()
	testkit.Eventually(t, servicetest.WaitFor, func() bool {
		cons, err := h.JS.Consumer(t.Context(), h.Stream, "evaluation")
		if err != nil {
			return false
		}
		info, err := cons.Info(t.Context())
		return err == nil && info.AckFloor.Stream >= seq && info.NumAckPending == 0
	}, "consumer did not acknowledge up to stream sequence %d", seq)
}
