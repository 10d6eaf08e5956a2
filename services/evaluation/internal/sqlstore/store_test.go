package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
	evaluationsql "github.com/tandem-oss/tandem/services/evaluation/internal/sqlstore"
)

// TestStore is the conformance suite of the store, run on both engines.
func TestStore(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		db, err := sqlstore.Open(ctx, url, eventbus.Migrations, evaluationsql.Migrations)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		store := evaluationsql.New(db)
		apply := func(t *testing.T, tenant string, p evaluation.Participant) {
			t.Helper()
			require.NoError(t, db.InTx(ctx, func(tx *sql.Tx) error { return store.ApplyParticipant(ctx, tx, tenant, p) }))
		}
		report := func(t *testing.T, tenant, program string) evaluation.ProgramReport {
			t.Helper()
			r, err := store.ProgramReport(ctx, tenant, program)
			require.NoError(t, err)
			return r
		}
		t0 := time.Date(2026, 3, 29, 0, 59, 59, 999999000, time.UTC)
		at := func(d time.Duration) time.Time { return t0.Add(d) }
		participant := func(id string, role evaluation.Role, state evaluation.ParticipantState, when time.Time) evaluation.Participant {
			return evaluation.Participant{ID: id, ProgramID: "prog-1", Role: role, State: state, EventTime: when}
		}

		t.Run("a program without events has an empty report", func(t *testing.T) {
			require.Empty(t, cmp.Diff(evaluation.ProgramReport{ProgramID: "prog-1"}, report(t, "acme", "prog-1")))
		})

		t.Run("counts by role and state as of the newest event", func(t *testing.T) {
			apply(t, "acme", participant("mentor-1", evaluation.RoleMentor, evaluation.ParticipantEnrolled, at(0)))
			apply(t, "acme", participant("mentor-2", evaluation.RoleMentor, evaluation.ParticipantEnrolled, at(time.Millisecond)))
			apply(t, "acme", participant("mentee-1", evaluation.RoleMentee, evaluation.ParticipantEnrolled, at(time.Microsecond)))
			apply(t, "acme", participant("mentee-2", evaluation.RoleMentee, evaluation.ParticipantEnrolled, at(time.Second)))
			apply(t, "acme", participant("mentee-2", evaluation.RoleMentee, evaluation.ParticipantWithdrawn, at(2*time.Second)))
			apply(t, "acme", evaluation.Participant{ID: "elsewhere", ProgramID: "prog-2", Role: evaluation.RoleMentee,
				State: evaluation.ParticipantEnrolled, EventTime: at(time.Hour)})
			want := evaluation.ProgramReport{ProgramID: "prog-1", EnrolledMentors: 2, EnrolledMentees: 1, Withdrawn: 1, AsOfTime: at(2 * time.Second)}
			require.Empty(t, cmp.Diff(want, report(t, "acme", "prog-1")))
		})

		t.Run("a late event does not undo a newer one", func(t *testing.T) {
			apply(t, "acme", participant("mentee-2", evaluation.RoleMentee, evaluation.ParticipantEnrolled, at(time.Second)))
			apply(t, "acme", participant("mentee-2", evaluation.RoleMentee, evaluation.ParticipantEnrolled, at(1500*time.Millisecond)))
			r := report(t, "acme", "prog-1")
			require.Equal(t, 1, r.Withdrawn)
			require.Equal(t, 1, r.EnrolledMentees)
		})

		t.Run("an event of the same time as the stored one applies", func(t *testing.T) {
			apply(t, "acme", participant("mentor-1", evaluation.RoleMentor, evaluation.ParticipantWithdrawn, at(0)))
			r := report(t, "acme", "prog-1")
			require.Equal(t, 1, r.EnrolledMentors)
			require.Equal(t, 2, r.Withdrawn)
		})

		t.Run("tenants are separate", func(t *testing.T) {
			require.Empty(t, cmp.Diff(evaluation.ProgramReport{ProgramID: "prog-1"}, report(t, "other", "prog-1")))
			apply(t, "other", participant("mentor-1", evaluation.RoleMentor, evaluation.ParticipantEnrolled, at(time.Hour)))
			want := evaluation.ProgramReport{ProgramID: "prog-1", EnrolledMentors: 1, AsOfTime: at(time.Hour)}
			require.Empty(t, cmp.Diff(want, report(t, "other", "prog-1")))
			r := report(t, "acme", "prog-1")
			require.Equal(t, 1, r.EnrolledMentors)
			require.Equal(t, at(2*time.Second), r.AsOfTime)
		})

		t.Run("a failed transaction projects nothing", func(t *testing.T) {
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				if err := store.ApplyParticipant(ctx, tx, "acme", participant("mentor-9", evaluation.RoleMentor, evaluation.ParticipantEnrolled, at(time.Hour))); err != nil {
					return err
				}
				return context.Canceled
			})
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, 1, report(t, "acme", "prog-1").EnrolledMentors)
		})
	})
}
