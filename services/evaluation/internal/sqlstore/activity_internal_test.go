package sqlstore

import (
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

// TestPairActivity checks what a pair's health is computed from: held
// sessions, cancellations by a side only, ratings oldest first, the newest
// agreement, and thresholds with defaults.
func TestPairActivity(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		db, err := sqlstore.Open(ctx, url, eventbus.Migrations, Migrations)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		store := New(db)
		t0 := time.Date(2027, 3, 1, 9, 0, 0, 123456000, time.UTC)
		at := func(d time.Duration) time.Time { return t0.Add(d) }
		m := evaluation.Match{ID: "m1", ProgramID: "prog-1", MentorPersonID: "carol", MenteePersonID: "dave",
			State: evaluation.MatchActive, ActivateTime: t0, EventTime: t0}
		activity := func(t *testing.T) evaluation.PairActivity {
			t.Helper()
			var a evaluation.PairActivity
			require.NoError(t, db.InTx(ctx, func(tx *sql.Tx) error {
				var err error
				a, err = pairActivity(ctx, tx, "acme", m)
				return err
			}))
			return a
		}

		t.Run("a pair without activity has the default thresholds", func(t *testing.T) {
			require.Empty(t, cmp.Diff(evaluation.PairActivity{Match: m, Health: evaluation.DefaultThresholds}, activity(t)))
		})

		t.Run("the activity holds the pair's sessions, ratings, agreement and thresholds", func(t *testing.T) {
			cancelled := func(id, by string, when time.Time) evaluation.Session {
				return evaluation.Session{ID: id, MatchID: "m1", State: evaluation.SessionCancelled, StartTime: when.Add(time.Hour),
					CancelTime: when, CancelledBy: by, EventTime: when}
			}
			require.NoError(t, db.InTx(ctx, func(tx *sql.Tx) error {
				for _, x := range []evaluation.Session{
					{ID: "s1", MatchID: "m1", State: evaluation.SessionCompleted, StartTime: at(3 * time.Hour), EventTime: t0},
					{ID: "s2", MatchID: "m1", State: evaluation.SessionCompleted, StartTime: at(time.Hour), EventTime: t0},
					{ID: "s3", MatchID: "m1", State: evaluation.SessionConfirmed, StartTime: at(2 * time.Hour), EventTime: t0},
					{ID: "s4", MatchID: "m2", State: evaluation.SessionCompleted, StartTime: at(time.Hour), EventTime: t0},
					cancelled("c1", "dave", at(5*time.Hour)),
					cancelled("c2", "", at(6*time.Hour)),
					cancelled("c3", "manager", at(7*time.Hour)),
					cancelled("c4", "carol", at(4*time.Hour)),
				} {
					if err := store.ApplySession(ctx, tx, "acme", x); err != nil {
						return err
					}
				}
				for _, f := range []evaluation.Feedback{
					{ID: "b", SessionID: "s1", MatchID: "m1", AuthorPersonID: "carol", Rating: 5, SubmitTime: at(2 * time.Hour)},
					{ID: "c", SessionID: "s2", MatchID: "m1", AuthorPersonID: "carol", Rating: 2, SubmitTime: at(time.Hour)},
					{ID: "a", SessionID: "s2", MatchID: "m1", AuthorPersonID: "dave", Rating: 4, SubmitTime: at(time.Hour)},
					{ID: "d", SessionID: "s4", MatchID: "m2", AuthorPersonID: "dave", Rating: 1, SubmitTime: at(time.Hour)},
				} {
					if err := store.ApplyFeedback(ctx, tx, "acme", f); err != nil {
						return err
					}
				}
				for _, a := range []evaluation.Agreement{{MatchID: "m1", Version: 2}, {MatchID: "m1", Version: 1}} {
					if err := store.ApplyAgreement(ctx, tx, "acme", a); err != nil {
						return err
					}
				}
				return store.ApplySettings(ctx, tx, "acme", evaluation.Settings{ProgramID: "prog-1",
					Health: evaluation.HealthThresholds{DaysWithoutSession: 10, LowRating: 2.5}, UpdateTime: t0})
			}))
			want := evaluation.PairActivity{
				Match:       m,
				HeldStarts:  []time.Time{at(time.Hour), at(3 * time.Hour)},
				CancelTimes: []time.Time{at(4 * time.Hour), at(5 * time.Hour)},
				Ratings:     []int{4, 2, 5},
				Agreement:   &evaluation.Agreement{MatchID: "m1", Version: 2},
				Health:      evaluation.HealthThresholds{DaysWithoutSession: 10, Cancellations: 2, LowRating: 2.5, UnsignedAgreementDays: 14},
			}
			require.Empty(t, cmp.Diff(want, activity(t)))
		})
	})
}
