package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	pkgsql "github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/participant/internal/participant"
	"github.com/tandem-oss/tandem/services/participant/internal/sqlstore"
)

func open(t *testing.T, url string) (*pkgsql.DB, *participant.Service) {
	t.Helper()
	db, err := pkgsql.Open(context.Background(), url, eventbus.Migrations, sqlstore.Migrations)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db, participant.NewService(sqlstore.New(db, nil))
}

// TestStoreConformance runs the same behaviour checks on every engine.
func TestStoreConformance(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db, svc := open(t, url)

		_, created, err := svc.EnsureTenant(ctx, "acme", "Acme")
		require.NoError(t, err)
		require.True(t, created)
		_, created, err = svc.EnsureTenant(ctx, "acme", "Acme")
		require.NoError(t, err)
		require.False(t, created, "second EnsureTenant is a no-op")
		_, _, err = svc.EnsureTenant(ctx, "globex", "")
		require.NoError(t, err)

		boss, err := svc.CreatePerson(ctx, "acme", participant.Person{HRISID: "E1", DisplayName: "Ada Boss", Email: "ada@acme.example",
			TimeZone: "Europe/London", SeniorityLevel: 9, Languages: []string{"en", "fr"}, HireDate: "2010-04-01"})
		require.NoError(t, err)
		junior, err := svc.CreatePerson(ctx, "acme", participant.Person{HRISID: "E2", DisplayName: "Jun Ior", Email: "jun@acme.example",
			TimeZone: "Asia/Kolkata", SeniorityLevel: 2, ManagerID: boss.ID})
		require.NoError(t, err)

		t.Run("person round trip", func(t *testing.T) {
			got, err := svc.GetPerson(ctx, "acme", boss.ID)
			require.NoError(t, err)
			if diff := cmp.Diff(boss, got); diff != "" {
				t.Errorf("GetPerson (-want +got):\n%s", diff)
			}
		})

		t.Run("duplicate HRIS id is AlreadyExists and stores nothing", func(t *testing.T) {
			before := len(servicetest.Outbox(t, db))
			_, err := svc.CreatePerson(ctx, "acme", participant.Person{HRISID: "E1", DisplayName: "Copy", Email: "c@acme.example", TimeZone: "UTC"})
			require.ErrorIs(t, err, apperr.ErrAlreadyExists)
			require.Len(t, servicetest.Outbox(t, db), before, "no event for a failed change")
		})

		t.Run("same HRIS id in another tenant is fine", func(t *testing.T) {
			_, err := svc.CreatePerson(ctx, "globex", participant.Person{HRISID: "E1", DisplayName: "Other", Email: "o@globex.example", TimeZone: "UTC"})
			require.NoError(t, err)
		})

		t.Run("tenants are isolated", func(t *testing.T) {
			_, err := svc.GetPerson(ctx, "globex", boss.ID)
			require.ErrorIs(t, err, apperr.ErrNotFound)
			people, err := svc.ListPeople(ctx, "globex", participant.PersonFilter{}, participant.Page{})
			require.NoError(t, err)
			require.Len(t, people, 1)
		})

		t.Run("invalid update leaves the row unchanged", func(t *testing.T) {
			_, err := svc.UpdatePerson(ctx, "acme", junior.ID, func(p *participant.Person) error {
				p.DisplayName = "Changed"
				p.TimeZone = "Mars/Olympus"
				return nil
			})
			var invalid *apperr.InvalidError
			require.True(t, errors.As(err, &invalid), "got %v", err)
			require.Equal(t, "person.time_zone", invalid.Violations[0].Field)
			got, err := svc.GetPerson(ctx, "acme", junior.ID)
			require.NoError(t, err)
			require.Equal(t, "Jun Ior", got.DisplayName)
		})

		t.Run("skills catalogue", func(t *testing.T) {
			_, err := svc.CreateSkill(ctx, "acme", participant.Skill{ID: "genai", DisplayName: "Generative AI", Category: "AI"})
			require.NoError(t, err)
			_, err = svc.CreateSkill(ctx, "acme", participant.Skill{ID: "genai", DisplayName: "again"})
			require.ErrorIs(t, err, apperr.ErrAlreadyExists)
			_, err = svc.CreateSkill(ctx, "acme", participant.Skill{ID: "Bad Id", DisplayName: "x"})
			require.ErrorIs(t, err, apperr.ErrInvalid)
			sk, err := svc.UpdateSkill(ctx, "acme", "genai", func(sk *participant.Skill) error { sk.Category = "Digital"; return nil })
			require.NoError(t, err)
			require.Equal(t, "Digital", sk.Category)
			list, err := svc.ListSkills(ctx, "acme", participant.SkillFilter{Category: "Digital"}, participant.Page{})
			require.NoError(t, err)
			require.Len(t, list, 1)
			list, err = svc.ListSkills(ctx, "globex", participant.SkillFilter{}, participant.Page{})
			require.NoError(t, err)
			require.Empty(t, list, "catalogues are per tenant")
		})

		program, err := svc.CreateProgram(ctx, "acme", participant.Program{DisplayName: "AI for leaders", Type: participant.ProgramReverse,
			Goals: []string{"AI fluency"}, EnrollmentOpenTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), EnrollmentCloseTime: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
		require.NoError(t, err)

		t.Run("program round trip", func(t *testing.T) {
			got, err := svc.GetProgram(ctx, "acme", program.ID)
			require.NoError(t, err)
			if diff := cmp.Diff(program, got); diff != "" {
				t.Errorf("GetProgram (-want +got):\n%s", diff)
			}
		})

		t.Run("lifecycle", func(t *testing.T) {
			_, err := svc.TransitionProgram(ctx, "acme", program.ID, participant.ProgramActive, "")
			require.ErrorIs(t, err, apperr.ErrFailedPrecondition, "draft cannot jump to active")
			p, err := svc.TransitionProgram(ctx, "acme", program.ID, participant.ProgramEnrolling, "")
			require.NoError(t, err)
			require.Equal(t, participant.ProgramEnrolling, p.State)
		})

		var mentee participant.Participant
		t.Run("enrolment", func(t *testing.T) {
			mentee, err = svc.Enroll(ctx, "acme", participant.Participant{ProgramID: program.ID, PersonID: boss.ID, Role: participant.RoleMentee,
				Profile: participant.Profile{DevelopmentAreas: []participant.DevelopmentArea{{SkillID: "genai", CurrentLevel: 1, TargetLevel: 3}}}})
			require.NoError(t, err)
			_, err = svc.Enroll(ctx, "acme", participant.Participant{ProgramID: program.ID, PersonID: boss.ID, Role: participant.RoleMentor})
			require.ErrorIs(t, err, apperr.ErrAlreadyExists)
			_, err = svc.Enroll(ctx, "acme", participant.Participant{ProgramID: program.ID, PersonID: junior.ID, Role: participant.RoleMentor,
				Profile: participant.Profile{Competencies: []participant.Competency{{SkillID: "genai", Level: 4}}, Capacity: 2}})
			require.NoError(t, err)
			got, err := svc.GetParticipant(ctx, "acme", mentee.ID)
			require.NoError(t, err)
			if diff := cmp.Diff(mentee, got); diff != "" {
				t.Errorf("GetParticipant (-want +got):\n%s", diff)
			}
		})

		t.Run("listing filters and pages", func(t *testing.T) {
			mentors, err := svc.ListParticipants(ctx, "acme", participant.ParticipantFilter{ProgramID: program.ID, Role: participant.RoleMentor}, participant.Page{})
			require.NoError(t, err)
			require.Len(t, mentors, 1)
			require.Equal(t, junior.ID, mentors[0].PersonID)

			first, err := svc.ListParticipants(ctx, "acme", participant.ParticipantFilter{ProgramID: program.ID}, participant.Page{Size: 1})
			require.NoError(t, err)
			require.Len(t, first, 1)
			second, err := svc.ListParticipants(ctx, "acme", participant.ParticipantFilter{ProgramID: program.ID}, participant.Page{Size: 1, After: first[0].ID})
			require.NoError(t, err)
			require.Len(t, second, 1)
			require.NotEqual(t, first[0].ID, second[0].ID)
		})

		t.Run("withdraw", func(t *testing.T) {
			p, err := svc.Withdraw(ctx, "acme", mentee.ID, "too busy")
			require.NoError(t, err)
			require.Equal(t, participant.ParticipantWithdrawn, p.State)
			_, err = svc.Withdraw(ctx, "acme", mentee.ID, "again")
			require.ErrorIs(t, err, apperr.ErrFailedPrecondition)
		})

		t.Run("every change wrote its event in order", func(t *testing.T) {
			want := []string{
				"tandem.tenant.created", "tandem.tenant.created",
				"tandem.person.created", "tandem.person.created", "tandem.person.created",
				"tandem.skill.created", "tandem.skill.updated",
				"tandem.program.created", "tandem.program.state_changed",
				"tandem.participant.enrolled", "tandem.participant.enrolled",
				"tandem.participant.withdrawn",
			}
			var got []string
			for _, e := range servicetest.Outbox(t, db) {
				got = append(got, e.Type)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("outbox (-want +got):\n%s", diff)
			}
		})
	})
}
