package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/testing/protocmp"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
	"github.com/tandem-oss/tandem/services/evaluation/internal/pbconv"
)

// TestSettings checks program settings: round trip, event, and replays
// that keep the newest.
func TestSettings(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		st := evaluation.Settings{
			ProgramID: "prog-1",
			AgreementTemplate: evaluation.AgreementTerms{TopicScope: "careers", Confidentiality: "strict",
				Expectations: []string{"be on time", "prepare"}, MeetingStructure: "check-in, topic, actions"},
			PulseSurveyDays: []int{30, 60, 90},
			Health:          evaluation.HealthThresholds{DaysWithoutSession: 10, Cancellations: 3, LowRating: 3.5, UnsignedAgreementDays: 7},
			UpdateTime:      at(0),
		}

		t.Run("unset settings are not found", func(t *testing.T) {
			_, err := store.Settings(ctx, "acme", "prog-1")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("settings round trip and write their event", func(t *testing.T) {
			before := outboxLen(t, db)
			require.NoError(t, store.PutSettings(ctx, "acme", st))
			got, err := store.Settings(ctx, "acme", "prog-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(st, got))
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.evaluation_settings.updated acme/prog-1"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.EvaluationSettingsUpdated{Settings: pbconv.Settings(st)},
				payload(t, events[0], &eventsv1.EvaluationSettingsUpdated{}), protocmp.Transform()))
			_, err = store.Settings(ctx, "globex", "prog-1")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("replayed settings keep the newest, without events", func(t *testing.T) {
			before := outboxLen(t, db)
			older := st
			older.AgreementTemplate, older.PulseSurveyDays, older.UpdateTime = evaluation.AgreementTerms{}, nil, at(-time.Hour)
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplySettings(ctx, tx, "acme", older) })
			got, err := store.Settings(ctx, "acme", "prog-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(st, got))

			newer := st
			newer.PulseSurveyDays, newer.Health, newer.UpdateTime = []int{14}, evaluation.HealthThresholds{}, at(time.Hour)
			for range 2 {
				inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplySettings(ctx, tx, "acme", newer) })
			}
			got, err = store.Settings(ctx, "acme", "prog-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(newer, got))
			require.Equal(t, before, outboxLen(t, db))
		})
	})
}

// TestAgreements checks a pair's agreement versions and signatures.
func TestAgreements(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		v1 := evaluation.Agreement{
			MatchID: "m1", ProgramID: "prog-1", Version: 1,
			Terms: evaluation.AgreementTerms{TopicScope: "leadership", Confidentiality: "pair only",
				Expectations: []string{"weekly"}, MeetingStructure: "free"},
			MentorPersonID: "carol", MenteePersonID: "dave", AuthorPersonID: "dave", CreateTime: at(0), UpdateTime: at(0),
		}
		agreement := func(t *testing.T, tenant string, version int) evaluation.Agreement {
			t.Helper()
			a, err := store.Agreement(ctx, tenant, "m1", version)
			require.NoError(t, err)
			return a
		}
		// change runs ChangeAgreement and returns the result and the events
		// it wrote.
		change := func(t *testing.T, fn func(cur evaluation.Agreement) (evaluation.Agreement, string, error)) (evaluation.Agreement, []string, error) {
			t.Helper()
			before := outboxLen(t, db)
			a, err := store.ChangeAgreement(ctx, "acme", "m1", at(time.Hour), fn)
			return a, kinds(outboxSince(t, db, before)), err
		}

		t.Run("a pair without an agreement has none", func(t *testing.T) {
			_, err := store.Agreement(ctx, "acme", "m1", 0)
			require.ErrorIs(t, err, apperr.ErrNotFound)
			_, err = store.ChangeAgreement(ctx, "acme", "m1", at(0), func(cur evaluation.Agreement) (evaluation.Agreement, string, error) {
				t.Fatal("fn called without an agreement")
				return cur, "", nil
			})
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("the first version round trips and writes agreement.created", func(t *testing.T) {
			before := outboxLen(t, db)
			require.NoError(t, store.CreateAgreement(ctx, "acme", v1, at(0)))
			require.Empty(t, cmp.Diff(v1, agreement(t, "acme", 0)))
			require.Empty(t, cmp.Diff(v1, agreement(t, "acme", 1)))
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.agreement.created acme/m1"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.AgreementCreated{Agreement: pbconv.Agreement(v1)},
				payload(t, events[0], &eventsv1.AgreementCreated{}), protocmp.Transform()))
		})

		t.Run("a pair has one agreement", func(t *testing.T) {
			before := outboxLen(t, db)
			err := store.CreateAgreement(ctx, "acme", v1, at(0))
			require.ErrorIs(t, err, apperr.ErrAlreadyExists)
			require.Equal(t, before, outboxLen(t, db))
			require.NoError(t, store.CreateAgreement(ctx, "globex", v1, at(0)), "tenants are separate")
		})

		t.Run("signing stores the version's signatures and writes agreement.signed", func(t *testing.T) {
			a, events, err := change(t, func(cur evaluation.Agreement) (evaluation.Agreement, string, error) {
				require.Empty(t, cmp.Diff(v1, cur))
				cur.MentorSignTime, cur.UpdateTime = at(time.Hour), at(time.Hour)
				return cur, "carol", nil
			})
			require.NoError(t, err)
			want := v1
			want.MentorSignTime, want.UpdateTime = at(time.Hour), at(time.Hour)
			require.Empty(t, cmp.Diff(want, a))
			require.Empty(t, cmp.Diff(want, agreement(t, "acme", 0)))
			require.Equal(t, []string{"tandem.agreement.signed acme/m1"}, events)
			e := lastEvent(t, db)
			require.Empty(t, cmp.Diff(&eventsv1.AgreementSigned{Agreement: pbconv.Agreement(want), PersonId: "carol"},
				payload(t, e, &eventsv1.AgreementSigned{}), protocmp.Transform()))
		})

		t.Run("a new version is stored beside the old and writes agreement.updated", func(t *testing.T) {
			var v2 evaluation.Agreement
			a, events, err := change(t, func(cur evaluation.Agreement) (evaluation.Agreement, string, error) {
				v2 = cur
				v2.Version, v2.Terms.TopicScope, v2.AuthorPersonID = 2, "careers", "carol"
				v2.MentorSignTime, v2.CreateTime, v2.UpdateTime = time.Time{}, at(2*time.Hour), at(2*time.Hour)
				return v2, "", nil
			})
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(v2, a))
			require.Empty(t, cmp.Diff(v2, agreement(t, "acme", 0)))
			require.Equal(t, at(time.Hour), agreement(t, "acme", 1).MentorSignTime, "version 1 stays")
			require.Equal(t, []string{"tandem.agreement.updated acme/m1"}, events)
			require.Empty(t, cmp.Diff(&eventsv1.AgreementUpdated{Agreement: pbconv.Agreement(v2)},
				payload(t, lastEvent(t, db), &eventsv1.AgreementUpdated{}), protocmp.Transform()))
			_, err = store.Agreement(ctx, "acme", "m1", 3)
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("a failed or backwards change stores nothing", func(t *testing.T) {
			refused := errors.New("refused")
			_, events, err := change(t, func(cur evaluation.Agreement) (evaluation.Agreement, string, error) {
				return cur, "", refused
			})
			require.ErrorIs(t, err, refused)
			require.Empty(t, events)
			_, events, err = change(t, func(cur evaluation.Agreement) (evaluation.Agreement, string, error) {
				cur.Version = 1
				return cur, "", nil
			})
			require.ErrorIs(t, err, apperr.ErrFailedPrecondition)
			require.Empty(t, events)
			require.Equal(t, 2, agreement(t, "acme", 0).Version)
		})

		t.Run("replayed versions keep the earliest signatures, without events", func(t *testing.T) {
			before := outboxLen(t, db)
			signed := v1
			signed.MentorSignTime, signed.UpdateTime = at(time.Hour), at(time.Hour)
			both := v1
			both.MentorSignTime, both.MenteeSignTime, both.UpdateTime = at(3*time.Hour), at(2*time.Hour), at(3*time.Hour)
			for _, a := range []evaluation.Agreement{both, signed, signed, v1} {
				inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyAgreement(ctx, tx, "initech", a) })
			}
			want := v1
			want.MentorSignTime, want.MenteeSignTime, want.UpdateTime = at(time.Hour), at(2*time.Hour), at(3*time.Hour)
			require.Empty(t, cmp.Diff(want, agreement(t, "initech", 0)))
			require.Equal(t, before, outboxLen(t, db))
		})

		t.Run("concurrent changes apply one after the other", func(t *testing.T) {
			const changers = 6
			errs := make([]error, changers)
			ready := make(chan struct{})
			var wg sync.WaitGroup
			for i := range changers {
				wg.Go(func() {
					<-ready
					_, errs[i] = store.ChangeAgreement(ctx, "acme", "m1", at(day), func(cur evaluation.Agreement) (evaluation.Agreement, string, error) {
						cur.Version++
						cur.Terms.MeetingStructure = fmt.Sprintf("by changer %d", i)
						return cur, "", nil
					})
				})
			}
			close(ready)
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			require.Equal(t, 2+changers, agreement(t, "acme", 0).Version)
		})
	})
}

// TestGoals checks goals: round trip, revisions, replays and concurrent
// updates.
func TestGoals(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		g1 := evaluation.Goal{
			ID: "g1", MatchID: "m1", ProgramID: "prog-1", Title: "Lead a design review", Description: "end to end",
			Milestones: []evaluation.Milestone{{Title: "pick a design", Done: true, DoneTime: at(time.Hour)}, {Title: "run it"}},
			Progress:   50, State: evaluation.GoalOpen, DueDate: "2027-06-30", Revision: 1, AuthorPersonID: "dave",
			CreateTime: at(0), UpdateTime: at(time.Hour),
		}
		g2 := evaluation.Goal{ID: "g0", MatchID: "m1", ProgramID: "prog-1", Title: "Second", State: evaluation.GoalOpen,
			Revision: 1, AuthorPersonID: "carol", CreateTime: at(time.Minute), UpdateTime: at(time.Minute)}
		goal := func(t *testing.T, tenant, id string) evaluation.Goal {
			t.Helper()
			g, err := store.Goal(ctx, tenant, id)
			require.NoError(t, err)
			return g
		}

		t.Run("a goal round trips and writes goal.created", func(t *testing.T) {
			before := outboxLen(t, db)
			require.NoError(t, store.CreateGoal(ctx, "acme", g1))
			require.NoError(t, store.CreateGoal(ctx, "acme", g2))
			require.Empty(t, cmp.Diff(g1, goal(t, "acme", "g1")))
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.goal.created acme/g1", "tandem.goal.created acme/g0"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.GoalCreated{Goal: pbconv.Goal(g1)},
				payload(t, events[0], &eventsv1.GoalCreated{}), protocmp.Transform()))
			require.ErrorIs(t, store.CreateGoal(ctx, "acme", g1), apperr.ErrAlreadyExists)
			_, err := store.Goal(ctx, "globex", "g1")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("a pair's goals are listed by create time", func(t *testing.T) {
			goals, err := store.Goals(ctx, "acme", "m1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff([]evaluation.Goal{g1, g2}, goals))
			goals, err = store.Goals(ctx, "acme", "m2")
			require.NoError(t, err)
			require.Empty(t, goals)
		})

		t.Run("an update bumps the revision, keeps the goal's identity and writes goal.updated", func(t *testing.T) {
			before := outboxLen(t, db)
			got, err := store.UpdateGoal(ctx, "acme", "g1", func(g *evaluation.Goal) error {
				require.Empty(t, cmp.Diff(g1, *g))
				g.ID, g.MatchID, g.ProgramID, g.AuthorPersonID, g.CreateTime = "other", "m9", "prog-9", "eve", at(day)
				g.Milestones[1].Done, g.Milestones[1].DoneTime = true, at(2*time.Hour)
				g.Progress, g.State, g.UpdateTime, g.CompleteTime = 100, evaluation.GoalCompleted, at(2*time.Hour), at(2*time.Hour)
				g.Revision = 40
				return nil
			})
			require.NoError(t, err)
			want := g1
			want.Milestones = []evaluation.Milestone{g1.Milestones[0], {Title: "run it", Done: true, DoneTime: at(2 * time.Hour)}}
			want.Progress, want.State, want.UpdateTime, want.CompleteTime = 100, evaluation.GoalCompleted, at(2*time.Hour), at(2*time.Hour)
			want.Revision = 2
			require.Empty(t, cmp.Diff(want, got))
			require.Empty(t, cmp.Diff(want, goal(t, "acme", "g1")))
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.goal.updated acme/g1"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.GoalUpdated{Goal: pbconv.Goal(want)},
				payload(t, events[0], &eventsv1.GoalUpdated{}), protocmp.Transform()))
		})

		t.Run("a failed update stores nothing", func(t *testing.T) {
			before := outboxLen(t, db)
			refused := errors.New("refused")
			_, err := store.UpdateGoal(ctx, "acme", "g1", func(g *evaluation.Goal) error {
				g.Title = "changed"
				return refused
			})
			require.ErrorIs(t, err, refused)
			require.Equal(t, "Lead a design review", goal(t, "acme", "g1").Title)
			_, err = store.UpdateGoal(ctx, "acme", "nope", func(*evaluation.Goal) error { return nil })
			require.ErrorIs(t, err, apperr.ErrNotFound)
			require.Equal(t, before, outboxLen(t, db))
		})

		t.Run("a replayed goal applies only over an older revision, without events", func(t *testing.T) {
			before := outboxLen(t, db)
			r2 := g1
			r2.Title, r2.Revision = "revision 2", 2
			r3 := g1
			r3.Title, r3.Revision, r3.Milestones = "revision 3", 3, nil
			for _, g := range []evaluation.Goal{r2, r2, r3, r2, g1} {
				inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyGoal(ctx, tx, "initech", g) })
			}
			require.Empty(t, cmp.Diff(r3, goal(t, "initech", "g1")))
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyGoal(ctx, tx, "acme", r2) })
			require.Equal(t, "Lead a design review", goal(t, "acme", "g1").Title, "revision 2 is stored already")
			require.Equal(t, before, outboxLen(t, db))
		})

		t.Run("concurrent updates each apply to the previous one's result", func(t *testing.T) {
			const updaters = 6
			errs := make([]error, updaters)
			ready := make(chan struct{})
			var wg sync.WaitGroup
			for i := range updaters {
				wg.Go(func() {
					<-ready
					_, errs[i] = store.UpdateGoal(ctx, "acme", "g0", func(g *evaluation.Goal) error {
						g.Milestones = append(g.Milestones, evaluation.Milestone{Title: fmt.Sprintf("step %d", i)})
						return nil
					})
				})
			}
			close(ready)
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			g := goal(t, "acme", "g0")
			require.Equal(t, 1+updaters, g.Revision)
			require.Len(t, g.Milestones, updaters, "no update was lost")
		})
	})
}
