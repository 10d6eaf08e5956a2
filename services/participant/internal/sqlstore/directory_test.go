package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/participant/internal/participant"
)

func outboxTypes(t *testing.T, rows []servicetest.OutboxRow) []string {
	t.Helper()
	var out []string
	for _, r := range rows {
		out = append(out, r.Type)
	}
	return out
}

func requireField(t *testing.T, err error, field string) {
	t.Helper()
	var invalid *apperr.InvalidError
	require.True(t, errors.As(err, &invalid), "want InvalidArgument on %s, got %v", field, err)
	require.Equal(t, field, invalid.Violations[0].Field)
}

// TestDirectoryAndPrivacyConformance covers upserts, the reporting chain,
// skills checks, the department filter and erasure, on both engines.
func TestDirectoryAndPrivacyConformance(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db, svc := open(t, url)
		_, _, err := svc.EnsureTenant(ctx, "acme", "")
		require.NoError(t, err)
		person := func(hris, name, manager, dept string) participant.Person {
			return participant.Person{HRISID: hris, DisplayName: name, Email: hris + "@acme.example", TimeZone: "Europe/Berlin",
				ManagerID: manager, Department: dept, SeniorityLevel: 5}
		}

		ceo, changed, err := svc.UpsertPerson(ctx, "acme", person("E1", "Cee Oh", "", "Board"))
		require.NoError(t, err)
		require.True(t, changed)
		require.Equal(t, "E1@acme.example", ceo.Subject, "the login defaults to the email")
		vp, _, err := svc.UpsertPerson(ctx, "acme", person("E2", "Vee Pee", ceo.ID, "Sales"))
		require.NoError(t, err)
		rep, _, err := svc.UpsertPerson(ctx, "acme", person("E3", "Rep", vp.ID, "Sales"))
		require.NoError(t, err)

		t.Run("an unchanged upsert writes nothing", func(t *testing.T) {
			before := len(servicetest.Outbox(t, db))
			again, changed, err := svc.UpsertPerson(ctx, "acme", person("E3", "Rep", vp.ID, "Sales"))
			require.NoError(t, err)
			require.False(t, changed)
			require.Equal(t, rep.ID, again.ID)
			require.Len(t, servicetest.Outbox(t, db), before)

			moved, changed, err := svc.UpsertPerson(ctx, "acme", person("E3", "Rep", vp.ID, "Marketing"))
			require.NoError(t, err)
			require.True(t, changed)
			require.Equal(t, rep.ID, moved.ID)
			require.Equal(t, "tandem.person.updated", servicetest.Outbox(t, db)[before].Type)
			rep = moved
		})

		t.Run("reporting chain", func(t *testing.T) {
			chain, err := svc.ReportingChain(ctx, "acme", rep.ID, 5)
			require.NoError(t, err)
			require.Equal(t, []string{vp.ID, ceo.ID}, chain)
			chain, err = svc.ReportingChain(ctx, "acme", rep.ID, 0)
			require.NoError(t, err)
			require.Equal(t, []string{vp.ID, ceo.ID}, chain, "tenant default depth 2")
			chain, err = svc.ReportingChain(ctx, "acme", rep.ID, 1)
			require.NoError(t, err)
			require.Equal(t, []string{vp.ID}, chain)
		})

		t.Run("a reporting cycle is refused", func(t *testing.T) {
			_, err := svc.UpdatePerson(ctx, "acme", ceo.ID, func(p *participant.Person) error { p.ManagerID = rep.ID; return nil })
			requireField(t, err, "person.manager_id")
		})

		program, err := svc.CreateProgram(ctx, "acme", participant.Program{DisplayName: "P", Type: participant.ProgramReverse, MaxMentorCapacity: 3})
		require.NoError(t, err)
		_, err = svc.CreateProgram(ctx, "acme", participant.Program{DisplayName: "P", Type: participant.ProgramReverse, DefaultMentorCapacity: 4, MaxMentorCapacity: 3})
		requireField(t, err, "program.max_mentor_capacity")
		_, err = svc.CreateSkill(ctx, "acme", participant.Skill{ID: "genai", DisplayName: "GenAI"})
		require.NoError(t, err)

		t.Run("unknown skills are refused with the field", func(t *testing.T) {
			_, err := svc.Enroll(ctx, "acme", participant.Participant{ProgramID: program.ID, PersonID: ceo.ID, Role: participant.RoleMentee,
				Profile: participant.Profile{DevelopmentAreas: []participant.DevelopmentArea{{SkillID: "genai", TargetLevel: 3}, {SkillID: "quantum", TargetLevel: 2}}}})
			requireField(t, err, "participant.development_areas[1].skill_id")
			parts, err := svc.ParticipationsOf(ctx, "acme", ceo.ID)
			require.NoError(t, err)
			require.Empty(t, parts, "nothing stored")
		})

		mentee, err := svc.Enroll(ctx, "acme", participant.Participant{ProgramID: program.ID, PersonID: ceo.ID, Role: participant.RoleMentee,
			Profile: participant.Profile{Motivation: "learn AI", DevelopmentAreas: []participant.DevelopmentArea{{SkillID: "genai", TargetLevel: 4}}}})
		require.NoError(t, err)
		_, err = svc.Enroll(ctx, "acme", participant.Participant{ProgramID: program.ID, PersonID: rep.ID, Role: participant.RoleMentor,
			Profile: participant.Profile{Competencies: []participant.Competency{{SkillID: "genai", Level: 5}}}})
		require.NoError(t, err)

		t.Run("capacity rule", func(t *testing.T) {
			_, err := svc.Enroll(ctx, "acme", participant.Participant{ProgramID: program.ID, PersonID: vp.ID, Role: participant.RoleMentor,
				Profile: participant.Profile{Capacity: 4}})
			requireField(t, err, "participant.capacity")
		})

		t.Run("participants filtered by department", func(t *testing.T) {
			got, err := svc.ListParticipants(ctx, "acme", participant.ParticipantFilter{ProgramID: program.ID, Department: "Marketing"}, participant.Page{})
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, rep.ID, got[0].PersonID)
		})

		t.Run("export returns everything and is audited", func(t *testing.T) {
			before := len(servicetest.Outbox(t, db))
			p, parts, _, err := svc.ExportPerson(ctx, "acme", "dpo@acme.example", ceo.ID, "GDPR access request 42")
			require.NoError(t, err)
			require.Equal(t, ceo.ID, p.ID)
			require.Len(t, parts, 1)
			require.Equal(t, "learn AI", parts[0].Profile.Motivation)
			require.Equal(t, []string{"tandem.audit.person_exported"}, outboxTypes(t, servicetest.Outbox(t, db)[before:]))
			_, _, _, err = svc.ExportPerson(ctx, "acme", "dpo", ceo.ID, " ")
			requireField(t, err, "reason")
		})

		t.Run("erasure", func(t *testing.T) {
			before := len(servicetest.Outbox(t, db))
			e, err := svc.ErasePerson(ctx, "acme", "dpo@acme.example", ceo.ID, "GDPR erasure request 43")
			require.NoError(t, err)
			require.Equal(t, 1, e.ParticipationsAnonymised)
			require.Equal(t, []string{"tandem.audit.person_erased", "tandem.person.erased", "tandem.participant.withdrawn"},
				outboxTypes(t, servicetest.Outbox(t, db)[before:]))

			p, err := svc.GetPerson(ctx, "acme", ceo.ID)
			require.NoError(t, err)
			want := participant.Person{ID: ceo.ID, HRISID: "E1", Erased: true, CreateTime: ceo.CreateTime, UpdateTime: p.UpdateTime}
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("erased person keeps only id and HRIS tombstone (-want +got):\n%s", diff)
			}
			part, err := svc.GetParticipant(ctx, "acme", mentee.ID)
			require.NoError(t, err)
			require.Equal(t, participant.ParticipantWithdrawn, part.State)
			require.Equal(t, participant.Profile{}, part.Profile)

			again, err := svc.ErasePerson(ctx, "acme", "dpo", ceo.ID, "again")
			require.NoError(t, err)
			require.Zero(t, again.ParticipationsAnonymised)

			_, _, err = svc.UpsertPerson(ctx, "acme", person("E1", "Cee Oh", "", "Board"))
			require.ErrorIs(t, err, apperr.ErrFailedPrecondition, "an import cannot revive an erased person")
			_, err = svc.UpdatePerson(ctx, "acme", ceo.ID, func(p *participant.Person) error { p.DisplayName = "x"; return nil })
			require.ErrorIs(t, err, apperr.ErrFailedPrecondition)
			chain, err := svc.ReportingChain(ctx, "acme", rep.ID, 5)
			require.NoError(t, err)
			require.Equal(t, []string{vp.ID, ceo.ID}, chain, "pseudonymous links stay for the matcher")
		})
	})
}
