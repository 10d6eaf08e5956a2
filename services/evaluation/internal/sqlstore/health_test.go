package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/testing/protocmp"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
	"github.com/tandem-oss/tandem/services/evaluation/internal/pbconv"
	evaluationsql "github.com/tandem-oss/tandem/services/evaluation/internal/sqlstore"
)

// TestHealth follows one pair's health through the rules of
// evaluation.EvaluateHealth: the store's part is when it evaluates, what
// it keeps (since, evaluate time, next check) and when it writes
// match.health_changed.
func TestHealth(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		m1 := activeMatch("m1", "carol", "dave", t0)
		health := func(t *testing.T, matchID string) evaluation.Health {
			t.Helper()
			h, err := store.Health(ctx, "acme", matchID)
			require.NoError(t, err)
			return h
		}
		refresh := func(t *testing.T, now time.Time) []servicetest.OutboxRow {
			t.Helper()
			before := outboxLen(t, db)
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.RefreshHealth(ctx, tx, "acme", "m1", now) })
			return outboxSince(t, db, before)
		}
		changed := func(t *testing.T, e servicetest.OutboxRow, h evaluation.Health, previous evaluation.HealthStatus) {
			t.Helper()
			require.Equal(t, "tandem.match.health_changed", e.Type)
			require.Equal(t, h.MatchID, e.AggregateID)
			require.Empty(t, cmp.Diff(&eventsv1.MatchHealthChanged{Health: pbconv.Health(h), PreviousStatus: pbconv.HealthStatus(previous)},
				payload(t, e, &eventsv1.MatchHealthChanged{}), protocmp.Transform()))
		}

		t.Run("a pair that is not active has no health", func(t *testing.T) {
			proposed := m1
			proposed.State, proposed.ActivateTime, proposed.AcceptTime, proposed.EventTime = evaluation.MatchProposed, time.Time{}, time.Time{}, at(-2*day)
			activate(t, store, db, "acme", proposed)
			_, err := store.Health(ctx, "acme", "m1")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			require.Empty(t, refresh(t, at(0)), "nor does an unknown match")
		})

		t.Run("a pair that becomes active starts ON_TRACK without an event", func(t *testing.T) {
			before := outboxLen(t, db)
			activate(t, store, db, "acme", m1)
			want := evaluation.Health{MatchID: "m1", ProgramID: "prog-1", MentorPersonID: "carol", MenteePersonID: "dave",
				Status: evaluation.OnTrack, SinceTime: t0, EvaluateTime: t0, NextCheck: at(14 * day)}
			require.Empty(t, cmp.Diff(want, health(t, "m1")))
			require.Equal(t, before, outboxLen(t, db))
		})

		t.Run("a status change writes match.health_changed", func(t *testing.T) {
			events := refresh(t, at(15*day))
			want := evaluation.Health{MatchID: "m1", ProgramID: "prog-1", MentorPersonID: "carol", MenteePersonID: "dave",
				Status: evaluation.NeedsAttention, Reasons: []string{"agreement not signed 15 days after the pair started"},
				SinceTime: at(15 * day), EvaluateTime: at(15 * day), NextCheck: at(21 * day)}
			require.Empty(t, cmp.Diff(want, health(t, "m1")))
			require.Len(t, events, 1)
			changed(t, events[0], want, evaluation.OnTrack)
		})

		t.Run("an evaluation without a change keeps the since time and writes nothing", func(t *testing.T) {
			require.Empty(t, refresh(t, at(16*day)))
			h := health(t, "m1")
			require.Equal(t, evaluation.NeedsAttention, h.Status)
			require.Equal(t, at(15*day), h.SinceTime)
			require.Equal(t, at(16*day), h.EvaluateTime)
		})

		t.Run("agreement and feedback writes re-evaluate the pair", func(t *testing.T) {
			before := outboxLen(t, db)
			a := evaluation.Agreement{MatchID: "m1", ProgramID: "prog-1", Version: 1, MentorPersonID: "carol", MenteePersonID: "dave",
				AuthorPersonID: "carol", CreateTime: at(17 * day), UpdateTime: at(17 * day)}
			require.NoError(t, store.CreateAgreement(ctx, "acme", a, at(17*day)))
			require.Equal(t, at(17*day), health(t, "m1").EvaluateTime)
			for i, signer := range []string{"carol", "dave"} {
				now := at(time.Duration(17+i) * day)
				_, err := store.ChangeAgreement(ctx, "acme", "m1", now, func(cur evaluation.Agreement) (evaluation.Agreement, string, error) {
					if signer == "carol" {
						cur.MentorSignTime = now
					} else {
						cur.MenteeSignTime = now
					}
					return cur, signer, nil
				})
				require.NoError(t, err)
			}
			h := health(t, "m1")
			require.Equal(t, evaluation.OnTrack, h.Status)
			require.Equal(t, at(18*day), h.SinceTime)
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.agreement.created acme/m1", "tandem.agreement.signed acme/m1",
				"tandem.agreement.signed acme/m1", "tandem.match.health_changed acme/m1"}, kinds(events))
			changed(t, events[3], h, evaluation.NeedsAttention)

			before = outboxLen(t, db)
			require.NoError(t, store.CreateFeedback(ctx, "acme", evaluation.Feedback{ID: "f1", SessionID: "s1", MatchID: "m1",
				ProgramID: "prog-1", AuthorPersonID: "dave", Rating: 1, SubmitTime: at(19 * day)}, at(19*day)))
			h = health(t, "m1")
			require.Equal(t, evaluation.AtRisk, h.Status)
			events = outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.feedback.submitted acme/f1", "tandem.match.health_changed acme/m1"}, kinds(events))
			changed(t, events[1], h, evaluation.OnTrack)
		})

		t.Run("a changed stored status is the previous status of the next change", func(t *testing.T) {
			setStatus(t, db, "acme", "m1", evaluation.NeedsAttention)
			events := refresh(t, at(20*day))
			h := health(t, "m1")
			require.Equal(t, evaluation.AtRisk, h.Status)
			require.Equal(t, at(20*day), h.SinceTime)
			require.Len(t, events, 1)
			changed(t, events[0], h, evaluation.NeedsAttention)
		})

		t.Run("new settings make the program's healths due at once", func(t *testing.T) {
			activate(t, store, db, "acme", evaluation.Match{ID: "m2", ProgramID: "prog-2", MentorPersonID: "erin",
				MenteePersonID: "frank", State: evaluation.MatchActive, ActivateTime: at(19 * day), EventTime: at(19 * day)})
			other := health(t, "m2").NextCheck
			require.NoError(t, store.PutSettings(ctx, "acme", evaluation.Settings{ProgramID: "prog-1", UpdateTime: at(20*day + time.Hour)}))
			require.Equal(t, at(20*day+time.Hour), health(t, "m1").NextCheck)
			require.Equal(t, other, health(t, "m2").NextCheck)
			next, ok, err := store.NextHealthCheck(ctx)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, at(20*day+time.Hour), next)
		})

		t.Run("a pair that ends loses its health", func(t *testing.T) {
			before := outboxLen(t, db)
			ended := m1
			ended.State, ended.EndTime, ended.EventTime = evaluation.MatchEnded, at(21*day), at(21*day)
			activate(t, store, db, "acme", ended)
			_, err := store.Health(ctx, "acme", "m1")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			require.Equal(t, before, outboxLen(t, db))
		})
	})
}

// TestHealthSweep checks RefreshDueHealth and NextHealthCheck across
// tenants.
func TestHealthSweep(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		evaluated := func(t *testing.T, tenant, matchID string) time.Time {
			t.Helper()
			h, err := store.Health(ctx, tenant, matchID)
			require.NoError(t, err)
			return h.EvaluateTime
		}
		sweep := func(t *testing.T, now time.Time, limit int) int {
			t.Helper()
			n, err := store.RefreshDueHealth(ctx, now, limit)
			require.NoError(t, err)
			return n
		}
		next := func(t *testing.T) (time.Time, bool) {
			t.Helper()
			next, ok, err := store.NextHealthCheck(ctx)
			require.NoError(t, err)
			return next, ok
		}

		t.Run("without healths nothing is due", func(t *testing.T) {
			_, ok := next(t)
			require.False(t, ok)
			require.Equal(t, 0, sweep(t, at(100*day), 10))
		})

		activate(t, store, db, "acme", activeMatch("a1", "carol", "dave", t0))
		activate(t, store, db, "acme", activeMatch("a2", "erin", "frank", at(day)))
		activate(t, store, db, "globex", activeMatch("g1", "carol", "dave", t0))

		t.Run("the next check is the earliest of any tenant", func(t *testing.T) {
			due, ok := next(t)
			require.True(t, ok)
			require.Equal(t, at(14*day), due)
		})

		t.Run("nothing is evaluated before it is due", func(t *testing.T) {
			require.Equal(t, 0, sweep(t, at(14*day-time.Microsecond), 10))
		})

		t.Run("due healths are evaluated in order of next check, at most limit", func(t *testing.T) {
			before := outboxLen(t, db)
			require.Equal(t, 1, sweep(t, at(14*day), 1))
			require.Equal(t, at(14*day), evaluated(t, "acme", "a1"))
			require.Equal(t, t0, evaluated(t, "globex", "g1"))
			require.Equal(t, 2, sweep(t, at(15*day), 10))
			require.Equal(t, at(15*day), evaluated(t, "globex", "g1"))
			require.Equal(t, at(15*day), evaluated(t, "acme", "a2"))
			require.Equal(t, at(14*day), evaluated(t, "acme", "a1"))
			require.Equal(t, []string{"tandem.match.health_changed acme/a1", "tandem.match.health_changed globex/g1",
				"tandem.match.health_changed acme/a2"}, kinds(outboxSince(t, db, before)))
			due, ok := next(t)
			require.True(t, ok)
			require.Equal(t, at(21*day), due)
		})

		t.Run("a due health of a pair no longer active is removed", func(t *testing.T) {
			ended := activeMatch("a2", "erin", "frank", at(day))
			ended.State, ended.EndTime, ended.EventTime = evaluation.MatchEnded, at(16*day), at(16*day)
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyMatch(ctx, tx, "acme", ended) })
			require.Equal(t, 3, sweep(t, at(22*day), 10))
			_, err := store.Health(ctx, "acme", "a2")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			require.Equal(t, at(22*day), evaluated(t, "acme", "a1"))
		})
	})
}

// TestListHealth checks the order and paging of a program's healths.
func TestListHealth(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		// Each pair's status and since time, set directly.
		pairs := []struct {
			id     string
			status evaluation.HealthStatus
			since  time.Time
		}{
			{"h1", evaluation.OnTrack, at(0)},
			{"h2", evaluation.AtRisk, at(2 * day)},
			{"h3", evaluation.NeedsAttention, at(day)},
			{"h4", evaluation.AtRisk, at(day)},
			{"h5", evaluation.AtRisk, at(2 * day)},
			{"h6", evaluation.NeedsAttention, at(day)},
			{"h7", evaluation.AtRisk, at(day)},
		}
		for _, p := range pairs {
			activate(t, store, db, "acme", activeMatch(p.id, "mentor-"+p.id, "mentee-"+p.id, t0))
			_, err := db.ExecContext(ctx, `UPDATE healths SET status = $1, since_micros = $2 WHERE match_id = $3`,
				int(p.status), p.since.UnixMicro(), p.id)
			require.NoError(t, err)
		}
		other := activeMatch("x1", "mentor-x", "mentee-x", t0)
		other.ProgramID = "prog-2"
		activate(t, store, db, "acme", other)
		activate(t, store, db, "globex", activeMatch("y1", "mentor-y", "mentee-y", t0))
		list := func(t *testing.T, min evaluation.HealthStatus, limit int) []string {
			t.Helper()
			var ids []string
			after := evaluation.HealthCursor{}
			for {
				page, err := store.ListHealth(ctx, "acme", "prog-1", min, after, limit)
				require.NoError(t, err)
				for _, h := range page {
					ids = append(ids, h.MatchID)
				}
				if len(page) < limit {
					return ids
				}
				last := page[len(page)-1]
				after = evaluation.HealthCursor{Status: last.Status, Since: last.SinceTime, ID: last.MatchID}
			}
		}

		for _, tc := range []struct {
			name  string
			min   evaluation.HealthStatus
			limit int
			want  []string
		}{
			{"worst first, longest first, then by id", evaluation.OnTrack, 100, []string{"h4", "h7", "h2", "h5", "h3", "h6", "h1"}},
			{"pages of two", evaluation.OnTrack, 2, []string{"h4", "h7", "h2", "h5", "h3", "h6", "h1"}},
			{"pages of one", evaluation.OnTrack, 1, []string{"h4", "h7", "h2", "h5", "h3", "h6", "h1"}},
			{"at least needs attention", evaluation.NeedsAttention, 3, []string{"h4", "h7", "h2", "h5", "h3", "h6"}},
			{"at risk only", evaluation.AtRisk, 3, []string{"h4", "h7", "h2", "h5"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				require.Equal(t, tc.want, list(t, tc.min, tc.limit))
			})
		}

		t.Run("a listed health has every field", func(t *testing.T) {
			page, err := store.ListHealth(ctx, "acme", "prog-2", evaluation.OnTrack, evaluation.HealthCursor{}, 10)
			require.NoError(t, err)
			h, err := store.Health(ctx, "acme", "x1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff([]evaluation.Health{h}, page))
			require.Equal(t, "mentor-x", h.MentorPersonID)
		})
	})
}

// TestHealthSweepRace runs the sweep from two database handles at once
// over 100 due healths whose status each evaluation changes: every health
// is evaluated exactly once, as the one event per pair shows.
func TestHealthSweepRace(t *testing.T) {
	t.Parallel()
	const pairs = 100
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		second, _ := openStore(t, url)
		inTx(t, db, func(ctx context.Context, tx *sql.Tx) error {
			for i := range pairs {
				m := activeMatch(fmt.Sprintf("m%03d", i), fmt.Sprintf("mentor%d", i), fmt.Sprintf("mentee%d", i), t0)
				if err := store.ApplyMatch(ctx, tx, "acme", m); err != nil {
					return err
				}
				if err := store.RefreshHealth(ctx, tx, "acme", m.ID, t0); err != nil {
					return err
				}
			}
			return nil
		})
		// Every pair is due and stored AT_RISK; evaluated a day after
		// activation it is ON_TRACK, so each evaluation writes one event.
		_, err := db.ExecContext(ctx, `UPDATE healths SET status = $1, next_check_micros = $2`, int(evaluation.AtRisk), t0.UnixMicro())
		require.NoError(t, err)
		before := outboxLen(t, db)

		counts := make([]int, 2)
		errs := make([]error, 2)
		ready := make(chan struct{})
		var wg sync.WaitGroup
		for i, s := range []*evaluationsql.Store{store, second} {
			wg.Go(func() {
				<-ready
				for {
					n, err := s.RefreshDueHealth(ctx, at(day), 7)
					if err != nil || n == 0 {
						errs[i] = err
						return
					}
					counts[i] += n
				}
			})
		}
		close(ready)
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		require.Equal(t, pairs, counts[0]+counts[1], "evaluations per handle: %v", counts)

		events := outboxSince(t, db, before)
		require.Len(t, events, pairs)
		seen := map[string]bool{}
		for _, e := range events {
			require.Equal(t, "tandem.match.health_changed", e.Type)
			require.Equal(t, evaluationv1.HealthStatus_HEALTH_STATUS_AT_RISK, payload(t, e, &eventsv1.MatchHealthChanged{}).GetPreviousStatus())
			require.False(t, seen[e.AggregateID], "pair %s evaluated twice", e.AggregateID)
			seen[e.AggregateID] = true
		}
		var due int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM healths WHERE next_check_micros <= $1`,
			at(day).UnixMicro()).Scan(&due))
		require.Zero(t, due)
		requireStatus(t, db, evaluation.OnTrack, pairs)
	})
}

// requireStatus checks that n healths have status.
func requireStatus(t *testing.T, db *sqlstore.DB, status evaluation.HealthStatus, n int) {
	t.Helper()
	var got int
	require.NoError(t, db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM healths WHERE status = $1`, int(status)).Scan(&got))
	require.Equal(t, n, got)
}
