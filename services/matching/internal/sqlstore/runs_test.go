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
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
)

var t0 = time.Date(2026, 4, 1, 9, 30, 0, 123456000, time.UTC)

func newRun(id, program string) matching.MatchRun {
	c := matching.DefaultScoringConfig(program)
	return matching.MatchRun{ID: id, ProgramID: program, State: matching.RunRunning, Strategy: matching.StrategyOptimal,
		MaximiseParticipation: true, Config: c, ConfigVersion: c.Version, CreateTime: t0}
}

func pairsOf(n int, prefix string) []matching.RunPair {
	out := make([]matching.RunPair, n)
	for i := range out {
		out[i] = matching.RunPair{MentorID: "m", MenteeID: fmt.Sprintf("%s%03d", prefix, i), MentorPersonID: "pm",
			MenteePersonID: fmt.Sprintf("p%s%03d", prefix, i), Score: float64(i),
			Factors: []matching.Factor{{Name: "competency_coverage", Value: 0.5, Weight: 30, Explanation: "why"}}}
	}
	return out
}

func TestMatchRunStore(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)

		run := newRun("run-1", "prog")
		t.Run("a new run is stored with its event and claimable", func(t *testing.T) {
			require.NoError(t, store.CreateMatchRun(ctx, "acme", run))
			got, err := store.MatchRun(ctx, "acme", "run-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(run, got))
			events := servicetest.Outbox(t, db)
			require.Len(t, events, 1)
			require.Equal(t, "tandem.match_run.created", events[0].Type)
			var payload eventsv1.MatchRunCreated
			require.NoError(t, proto.Unmarshal(events[0].Payload, &payload))
			require.Equal(t, "run-1", payload.GetRun().GetId())
			_, err = store.MatchRun(ctx, "globex", "run-1")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("one claim wins; the others find nothing", func(t *testing.T) {
			var wg sync.WaitGroup
			won := make([]bool, 5)
			for i := range won {
				wg.Go(func() {
					job, ok, err := store.ClaimMatchRun(ctx, fmt.Sprintf("owner-%d", i), time.Hour)
					require.NoError(t, err)
					if ok {
						require.Equal(t, "acme", job.Tenant)
						require.Equal(t, "run-1", job.Run.ID)
						won[i] = true
					}
				})
			}
			wg.Wait()
			winners := 0
			for i, w := range won {
				if w {
					winners++
					// Hand the run to owner-a for the rest of the test.
					require.NoError(t, store.ReleaseMatchRun(ctx, "acme", "run-1", fmt.Sprintf("owner-%d", i)))
				}
			}
			require.Equal(t, 1, winners)
			_, ok, err := store.ClaimMatchRun(ctx, "owner-a", time.Hour)
			require.NoError(t, err)
			require.True(t, ok)
		})

		t.Run("only the holder renews; progress never goes back", func(t *testing.T) {
			require.ErrorIs(t, store.RenewMatchRun(ctx, "acme", "run-1", "owner-b", time.Hour, 50), matching.ErrLeaseLost)
			require.NoError(t, store.RenewMatchRun(ctx, "acme", "run-1", "owner-a", time.Hour, 40))
			require.NoError(t, store.RenewMatchRun(ctx, "acme", "run-1", "owner-a", time.Hour, 20))
			got, err := store.MatchRun(ctx, "acme", "run-1")
			require.NoError(t, err)
			require.Equal(t, 40, got.ProgressPercent)
		})

		t.Run("results are saved in batches and listed in pages", func(t *testing.T) {
			pairs := pairsOf(250, "e")
			require.NoError(t, store.SaveRunResults(ctx, "acme", "run-1", "owner-a", pairs[:120], nil))
			require.NoError(t, store.SaveRunResults(ctx, "acme", "run-1", "owner-a", pairs[120:],
				[]matching.Unmatched{{ParticipantID: "x", PersonID: "px", Role: matching.RoleMentor, Reason: "not_chosen", Detail: "d"}}))
			require.ErrorIs(t, store.SaveRunResults(ctx, "acme", "run-1", "owner-b", pairsOf(1, "z"), nil), matching.ErrLeaseLost)
			var got []matching.RunPair
			page := matching.Page{Size: 100}
			for {
				batch, err := store.ListRunPairs(ctx, "acme", "run-1", page)
				require.NoError(t, err)
				got = append(got, batch...)
				if len(batch) < page.Size {
					break
				}
				page.After = batch[len(batch)-1].MenteeID
			}
			require.Empty(t, cmp.Diff(pairs, got))
			unmatched, err := store.ListRunUnmatched(ctx, "acme", "run-1", matching.Page{})
			require.NoError(t, err)
			require.Equal(t, []matching.Unmatched{{ParticipantID: "x", PersonID: "px", Role: matching.RoleMentor, Reason: "not_chosen", Detail: "d"}}, unmatched)
			_, err = store.ListRunPairs(ctx, "acme", "nothing", matching.Page{})
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("a run taken over starts over", func(t *testing.T) {
			// owner-a's process dies: its lease runs out.
			require.NoError(t, store.RenewMatchRun(ctx, "acme", "run-1", "owner-a", time.Millisecond, 0))
			testkit.Eventually(t, 5*time.Second, func() bool {
				job, ok, err := store.ClaimMatchRun(ctx, "owner-b", time.Hour)
				require.NoError(t, err)
				if ok {
					require.Equal(t, 0, job.Run.ProgressPercent)
				}
				return ok
			}, "the expired run was not claimed")
			pairs, err := store.ListRunPairs(ctx, "acme", "run-1", matching.Page{})
			require.NoError(t, err)
			require.Empty(t, pairs, "the earlier holder's results are dropped")
			_, err = store.FinishMatchRun(ctx, "acme", "run-1", "owner-a", matching.RunOutcome{State: matching.RunSucceeded})
			require.ErrorIs(t, err, matching.ErrLeaseLost)
		})

		metrics := matching.RunMetrics{Mentees: 3, Mentors: 2, Pairs: 2, Coverage: 2.0 / 3, MeanScore: 50, MinScore: 40, TotalScore: 100,
			Histogram: [10]int{4: 1, 6: 1}, Segments: []matching.Segment{{Dimension: "department", Name: "Eng", Mentees: 3, Matched: 2,
				MeanScore: 50, MinScore: 40}}, ExcludedMentees: 1}
		t.Run("the holder finishes the run with its event", func(t *testing.T) {
			require.NoError(t, store.SaveRunResults(ctx, "acme", "run-1", "owner-b", pairsOf(2, "e"), nil))
			got, err := store.FinishMatchRun(ctx, "acme", "run-1", "owner-b", matching.RunOutcome{State: matching.RunSucceeded,
				Metrics: metrics, Certified: true, Epoch: 7, FinishTime: t0.Add(time.Minute)})
			require.NoError(t, err)
			want := run
			want.State, want.Metrics, want.Certified, want.Epoch, want.FinishTime, want.ProgressPercent =
				matching.RunSucceeded, metrics, true, 7, t0.Add(time.Minute), 100
			require.Empty(t, cmp.Diff(want, got))
			events := servicetest.Outbox(t, db)
			require.Equal(t, "tandem.match_run.succeeded", events[len(events)-1].Type)
			_, ok, err := store.ClaimMatchRun(ctx, "owner-c", time.Hour)
			require.NoError(t, err)
			require.False(t, ok, "a finished run is never claimed")
		})

		t.Run("a failed run says why", func(t *testing.T) {
			require.NoError(t, store.CreateMatchRun(ctx, "acme", newRun("run-2", "prog")))
			_, ok, err := store.ClaimMatchRun(ctx, "owner-a", time.Hour)
			require.NoError(t, err)
			require.True(t, ok)
			got, err := store.FinishMatchRun(ctx, "acme", "run-2", "owner-a", matching.RunOutcome{State: matching.RunFailed,
				Error: "no program", FinishTime: t0})
			require.NoError(t, err)
			require.Equal(t, matching.RunFailed, got.State)
			require.Equal(t, "no program", got.Error)
			events := servicetest.Outbox(t, db)
			require.Equal(t, "tandem.match_run.failed", events[len(events)-1].Type)
		})

		t.Run("runs are listed by program in id order", func(t *testing.T) {
			require.NoError(t, store.CreateMatchRun(ctx, "acme", newRun("run-3", "elsewhere")))
			got, err := store.ListMatchRuns(ctx, "acme", "prog", matching.Page{Size: 1})
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, "run-1", got[0].ID)
			got, err = store.ListMatchRuns(ctx, "acme", "prog", matching.Page{Size: 10, After: "run-1"})
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, "run-2", got[0].ID)
		})

		t.Run("publishing writes the planned matches or nothing", func(t *testing.T) {
			seedPair(t, store, db)
			before := len(servicetest.Outbox(t, db))
			boom := fmt.Errorf("conflict: %w", apperr.ErrFailedPrecondition)
			_, err := store.PublishMatchRun(ctx, "acme", "run-1", t0, func(matching.MatchRun, []matching.RunPair, matching.Snapshot) ([]matching.Match, error) {
				return nil, boom
			})
			require.ErrorIs(t, err, boom)
			require.Len(t, servicetest.Outbox(t, db), before)

			var seen matching.Snapshot
			published, err := store.PublishMatchRun(ctx, "acme", "run-1", t0.Add(time.Hour),
				func(r matching.MatchRun, pairs []matching.RunPair, snap matching.Snapshot) ([]matching.Match, error) {
					require.Equal(t, matching.RunSucceeded, r.State)
					require.Len(t, pairs, 2)
					seen = snap
					return []matching.Match{newMatch("match-1", "men", "mee", matching.MatchProposed)}, nil
				})
			require.NoError(t, err)
			require.Equal(t, matching.RunPublished, published.State)
			require.Equal(t, 1, published.MatchesCreated)
			require.Equal(t, t0.Add(time.Hour), published.PublishTime)
			require.True(t, seen.ProgramFound)
			require.Empty(t, seen.Participants, "the pairs name no projected participant")
			events := servicetest.Outbox(t, db)
			require.Equal(t, []string{"tandem.match_run.published", "tandem.match.proposed"},
				[]string{events[before].Type, events[before+1].Type})
			in, err := store.ProgramInput(ctx, "acme", "prog")
			require.NoError(t, err)
			require.Equal(t, map[string]bool{"men": true, "mee": true}, in.Live)
			require.Equal(t, 0, in.Remaining["men"])
		})
	})
}

// seedPair projects program "prog" with mentor "men" and mentee "mee".
func seedPair(t *testing.T, store interface {
	ApplyPerson(context.Context, *sql.Tx, string, matching.Person) error
	ApplyProgram(context.Context, *sql.Tx, string, matching.Program) error
	ApplyParticipant(context.Context, *sql.Tx, string, matching.Participant) error
}, db interface {
	InTx(context.Context, func(*sql.Tx) error) error
}) {
	t.Helper()
	require.NoError(t, db.InTx(t.Context(), func(tx *sql.Tx) error {
		ctx := t.Context()
		if err := store.ApplyProgram(ctx, tx, "acme", matching.Program{ID: "prog", Type: matching.ProgramClassic,
			State: matching.ProgramMatching, DefaultCapacity: 1}); err != nil {
			return err
		}
		for _, id := range []string{"p-men", "p-mee"} {
			if err := store.ApplyPerson(ctx, tx, "acme", matching.Person{ID: id, Status: matching.EmploymentActive}); err != nil {
				return err
			}
		}
		if err := store.ApplyParticipant(ctx, tx, "acme", matching.Participant{ID: "men", ProgramID: "prog", PersonID: "p-men",
			Role: matching.RoleMentor, State: matching.ParticipantEnrolled}); err != nil {
			return err
		}
		return store.ApplyParticipant(ctx, tx, "acme", matching.Participant{ID: "mee", ProgramID: "prog", PersonID: "p-mee",
			Role: matching.RoleMentee, State: matching.ParticipantEnrolled})
	}))
}

// newMatch is a match of program "prog" between mentor and mentee.
func newMatch(id, mentor, mentee string, state matching.MatchState) matching.Match {
	return matching.Match{ID: id, ProgramID: "prog", Source: matching.SourceManual, MentorID: mentor, MenteeID: mentee,
		MentorPersonID: "p-" + mentor, MenteePersonID: "p-" + mentee, State: state, Score: 61.5,
		Factors:    []matching.Factor{{Name: "seniority_gap", Value: 1, Weight: 15, Explanation: "a gap of 3 levels"}},
		CreateTime: t0, UpdateTime: t0}
}
