package participantsvc_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

// TestSelfServiceAndPrivacyAPI covers self-enrolment, the skills
// catalogue, upserts, and audited export and erasure over gRPC.
func TestSelfServiceAndPrivacyAPI(t *testing.T) {
	url := testkit.SQLiteURL(t)
	_, err := participantsvc.EnsureTenant(t.Context(), url, "acme", "")
	require.NoError(t, err)
	h := servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
		return participantsvc.Run(ctx, lis, participantsvc.Config{DatabaseURL: url, PageTokenKey: []byte("k")}, env)
	})
	client := participantv1.NewParticipantServiceClient(h.Conn)
	admin := h.As(t, "acme", auth.RoleTenantAdmin)
	manager := h.As(t, "acme", auth.RoleProgramManager)
	login := func(subject string) context.Context {
		tok, err := h.Signer.Sign(auth.Principal{Tenant: "acme", Subject: subject, Roles: []string{auth.RoleParticipant}}, time.Hour)
		require.NoError(t, err)
		return metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tok)
	}

	_, err = client.CreateSkill(manager, &participantv1.CreateSkillRequest{Skill: &participantv1.Skill{Id: "genai", DisplayName: "Generative AI", Category: "AI"}})
	require.NoError(t, err)
	grace, err := client.UpsertPerson(manager, &participantv1.UpsertPersonRequest{Person: &participantv1.Person{
		HrisId: "E100", DisplayName: "Grace", Email: "grace@acme.example", TimeZone: "America/New_York", SeniorityLevel: 11,
	}})
	require.NoError(t, err)
	junior, err := client.UpsertPerson(manager, &participantv1.UpsertPersonRequest{Person: &participantv1.Person{
		HrisId: "E200", DisplayName: "Jun", Email: "jun@acme.example", TimeZone: "Asia/Kolkata", SeniorityLevel: 2,
	}})
	require.NoError(t, err)

	now := time.Now()
	open, err := client.CreateProgram(manager, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "Open now", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE,
		EnrollmentOpenTime: timestamppb.New(now.Add(-time.Hour)), EnrollmentCloseTime: timestamppb.New(now.Add(time.Hour)),
	}})
	require.NoError(t, err)
	_, err = client.TransitionProgram(manager, &participantv1.TransitionProgramRequest{Id: open.GetId(), State: participantv1.ProgramState_PROGRAM_STATE_ENROLLING})
	require.NoError(t, err)
	closed, err := client.CreateProgram(manager, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "Closed", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE,
		EnrollmentOpenTime: timestamppb.New(now.Add(-2 * time.Hour)), EnrollmentCloseTime: timestamppb.New(now.Add(-time.Hour)),
	}})
	require.NoError(t, err)
	_, err = client.TransitionProgram(manager, &participantv1.TransitionProgramRequest{Id: closed.GetId(), State: participantv1.ProgramState_PROGRAM_STATE_ENROLLING})
	require.NoError(t, err)

	mentee := func(program, person string) *participantv1.EnrollParticipantRequest {
		return &participantv1.EnrollParticipantRequest{Participant: &participantv1.Participant{
			ProgramId: program, PersonId: person, Role: participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE,
			DevelopmentAreas: []*participantv1.DevelopmentArea{{SkillId: "genai", CurrentLevel: 1, TargetLevel: 4}},
		}}
	}

	t.Run("self-enrolment", func(t *testing.T) {
		_, err := client.EnrollParticipant(login("grace@acme.example"), mentee(closed.GetId(), ""))
		require.Equal(t, codes.FailedPrecondition, status.Code(err), "outside the window: %v", err)
		_, err = client.EnrollParticipant(login("grace@acme.example"), mentee(open.GetId(), junior.GetId()))
		require.Equal(t, codes.PermissionDenied, status.Code(err), "only oneself: %v", err)
		_, err = client.EnrollParticipant(login("stranger@acme.example"), mentee(open.GetId(), ""))
		require.Equal(t, codes.PermissionDenied, status.Code(err), "not in the directory: %v", err)

		p, err := client.EnrollParticipant(login("grace@acme.example"), mentee(open.GetId(), ""))
		require.NoError(t, err)
		require.Equal(t, grace.GetId(), p.GetPersonId())
	})

	t.Run("unknown skill names the field over gRPC", func(t *testing.T) {
		req := mentee(open.GetId(), junior.GetId())
		req.Participant.DevelopmentAreas[0].SkillId = "quantum"
		_, err := client.EnrollParticipant(manager, req)
		require.Equal(t, []string{"participant.development_areas[0].skill_id"}, servicetest.FieldViolations(t, err))
	})

	t.Run("reporting chain needs a reader role", func(t *testing.T) {
		_, err := client.GetReportingChain(login("grace@acme.example"), &participantv1.GetReportingChainRequest{Id: grace.GetId()})
		require.Equal(t, codes.PermissionDenied, status.Code(err))
		chain, err := client.GetReportingChain(manager, &participantv1.GetReportingChainRequest{Id: grace.GetId()})
		require.NoError(t, err)
		require.Empty(t, chain.GetManagerIds())
	})

	t.Run("export and erasure are for tenant admins, with a reason", func(t *testing.T) {
		_, err := client.ExportPerson(manager, &participantv1.ExportPersonRequest{Id: grace.GetId(), Reason: "curious"})
		require.Equal(t, codes.PermissionDenied, status.Code(err))
		_, err = client.ExportPerson(admin, &participantv1.ExportPersonRequest{Id: grace.GetId()})
		require.Equal(t, []string{"reason"}, servicetest.FieldViolations(t, err))

		export, err := client.ExportPerson(admin, &participantv1.ExportPersonRequest{Id: grace.GetId(), Reason: "DSAR 7"})
		require.NoError(t, err)
		require.Equal(t, "grace@acme.example", export.GetPerson().GetEmail())
		require.Len(t, export.GetParticipations(), 1)

		_, err = client.ErasePerson(manager, &participantv1.ErasePersonRequest{Id: grace.GetId(), Reason: "x"})
		require.Equal(t, codes.PermissionDenied, status.Code(err))
		erased, err := client.ErasePerson(admin, &participantv1.ErasePersonRequest{Id: grace.GetId(), Reason: "erasure request 8"})
		require.NoError(t, err)
		require.EqualValues(t, 1, erased.GetParticipationsAnonymised())

		got, err := client.GetPerson(admin, &participantv1.GetPersonRequest{Id: grace.GetId()})
		require.NoError(t, err)
		require.True(t, got.GetErased())
		require.Empty(t, got.GetEmail())
		require.Empty(t, got.GetDisplayName())

		_, err = client.EnrollParticipant(login("grace@acme.example"), mentee(open.GetId(), ""))
		require.Equal(t, codes.PermissionDenied, status.Code(err), "an erased person's login no longer resolves")

		h.LastEvent(t, "acme.person.erased", 1)
		audit := h.LastEvent(t, "acme.audit.person_erased", 1)
		require.Equal(t, grace.GetId(), audit.Header.Get("ce-subject"))
	})
}
