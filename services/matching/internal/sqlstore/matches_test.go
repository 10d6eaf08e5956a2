package sqlstore_test

import (
	"database/sql"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
)

func TestMatchStore(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		seedPair(t, store, db)

		m1 := newMatch("match-1", "men", "mee", matching.MatchProposed)
		t.Run("a match is created with its snapshot and event", func(t *testing.T) {
			var seen matching.Snapshot
			got, err := store.CreateMatch(ctx, "acme", m1, func(snap matching.Snapshot) (matching.Match, error) {
				seen = snap
				return m1, nil
			})
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(m1, got))
			require.True(t, seen.ProgramFound)
			require.Equal(t, matching.DefaultScoringConfig("prog"), seen.Config)
			require.Equal(t, []string{"p-mee", "p-men"}, sortedKeys(seen.People))
			require.Equal(t, matching.RoleMentor, seen.Participants["men"].Role)
			stored, err := store.Match(ctx, "acme", "match-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(m1, stored))
			events := servicetest.Outbox(t, db)
			require.Equal(t, "tandem.match.proposed", events[len(events)-1].Type)
		})

		t.Run("the snapshot sees the live matches", func(t *testing.T) {
			boom := errors.New("planned failure")
			_, err := store.CreateMatch(ctx, "acme", newMatch("match-x", "men", "mee", matching.MatchProposed),
				func(snap matching.Snapshot) (matching.Match, error) {
					require.Equal(t, map[string]int{"men": 1, "mee": 1}, snap.Live)
					return matching.Match{}, boom
				})
			require.ErrorIs(t, err, boom)
			_, err = store.Match(ctx, "acme", "match-x")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("a second live match of a mentee is refused by the database too", func(t *testing.T) {
			dup := newMatch("match-dup", "men", "mee", matching.MatchProposed)
			_, err := store.CreateMatch(ctx, "acme", dup, func(matching.Snapshot) (matching.Match, error) { return dup, nil })
			require.ErrorIs(t, err, apperr.ErrFailedPrecondition)
		})

		t.Run("updates write the event of a new state only", func(t *testing.T) {
			before := len(servicetest.Outbox(t, db))
			got, err := store.UpdateMatch(ctx, "acme", "match-1", func(m *matching.Match) error {
				m.MenteeAccepted, m.UpdateTime = true, t0.Add(time.Minute)
				return nil
			})
			require.NoError(t, err)
			require.True(t, got.MenteeAccepted)
			require.Len(t, servicetest.Outbox(t, db), before, "no state change, no event")
			unchanged, err := store.UpdateMatch(ctx, "acme", "match-1", func(m *matching.Match) error {
				m.UpdateTime = t0.Add(time.Hour)
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, t0.Add(time.Minute), unchanged.UpdateTime, "nothing else changed: nothing is written")
			got, err = store.UpdateMatch(ctx, "acme", "match-1", func(m *matching.Match) error {
				m.State, m.DeclineReason, m.DeclinedBy, m.UpdateTime = matching.MatchDeclined, "busy", "mee", t0.Add(2*time.Minute)
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, matching.MatchDeclined, got.State)
			events := servicetest.Outbox(t, db)
			require.Equal(t, "tandem.match.declined", events[len(events)-1].Type)
			stored, err := store.Match(ctx, "acme", "match-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(got, stored))
			_, err = store.UpdateMatch(ctx, "acme", "nothing", func(*matching.Match) error { return nil })
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("declined and ended pairs are past pairs", func(t *testing.T) {
			in, err := store.ProgramInput(ctx, "acme", "prog")
			require.NoError(t, err)
			require.Equal(t, [][2]string{{"p-men", "p-mee"}}, in.PastPairs)
			require.Equal(t, in.PastPairs, in.Rules.PastPairs)
			require.Empty(t, in.Live)
		})

		t.Run("concurrent creations of one program are serialised", func(t *testing.T) {
			// Each writer checks the mentee is free in its snapshot; the
			// program's lock lets exactly one see it free.
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					m := newMatch("race-"+string(rune('a'+i)), "men", "mee", matching.MatchProposed)
					_, errs[i] = store.CreateMatch(ctx, "acme", m, func(snap matching.Snapshot) (matching.Match, error) {
						if snap.Live["mee"] > 0 {
							return matching.Match{}, apperr.ErrFailedPrecondition
						}
						return m, nil
					})
				})
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				if err == nil {
					won++
					continue
				}
				require.ErrorIs(t, err, apperr.ErrFailedPrecondition)
			}
			require.Equal(t, 1, won)
		})

		t.Run("listings filter and page", func(t *testing.T) {
			all, err := store.ListMatches(ctx, "acme", matching.MatchFilter{ProgramID: "prog"}, matching.Page{Size: 10})
			require.NoError(t, err)
			require.Len(t, all, 2)
			require.Equal(t, "match-1", all[0].ID)
			live, err := store.ListMatches(ctx, "acme", matching.MatchFilter{State: matching.MatchProposed, ParticipantID: "men"}, matching.Page{Size: 10})
			require.NoError(t, err)
			require.Len(t, live, 1)
			next, err := store.ListMatches(ctx, "acme", matching.MatchFilter{}, matching.Page{Size: 1, After: "match-1"})
			require.NoError(t, err)
			require.Len(t, next, 1)
			require.NotEqual(t, "match-1", next[0].ID)
			none, err := store.ListMatches(ctx, "globex", matching.MatchFilter{}, matching.Page{Size: 10})
			require.NoError(t, err)
			require.Empty(t, none)
		})

		t.Run("erasure blanks the texts about the person", func(t *testing.T) {
			require.NoError(t, db.InTx(ctx, func(tx *sql.Tx) error { return store.ErasePerson(ctx, tx, "acme", "p-mee") }))
			m, err := store.Match(ctx, "acme", "match-1")
			require.NoError(t, err)
			require.Empty(t, m.Factors)
			require.Empty(t, m.DeclineReason)
			require.Equal(t, "p-mee", m.MenteePersonID)
			require.Equal(t, 61.5, m.Score)
		})
	})
}

func TestMatchRequestStore(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		seedPair(t, store, db)
		request := func(id string, created time.Time) matching.MatchRequest {
			return matching.MatchRequest{ID: id, ProgramID: "prog", RequesterID: "mee", TargetID: "men", RequesterPersonID: "p-mee",
				TargetPersonID: "p-men", RequesterRole: matching.RoleMentee, Message: "hello", State: matching.RequestPending,
				CreateTime: created, UpdateTime: created, ExpireTime: created.Add(time.Hour)}
		}
		r1 := request("req-1", t0)

		t.Run("a request is created with its snapshot and event", func(t *testing.T) {
			var seen matching.RequestSnapshot
			require.NoError(t, store.CreateMatchRequest(ctx, "acme", r1, func(snap matching.RequestSnapshot) error {
				seen = snap
				return nil
			}))
			require.Zero(t, seen.Pending)
			require.False(t, seen.Duplicate)
			require.True(t, seen.ProgramFound)
			got, err := store.MatchRequest(ctx, "acme", "req-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(r1, got))
			events := servicetest.Outbox(t, db)
			require.Equal(t, "tandem.match_request.created", events[len(events)-1].Type)
		})

		t.Run("pending and duplicate requests are counted until they expire", func(t *testing.T) {
			check := func(at time.Time) matching.RequestSnapshot {
				var seen matching.RequestSnapshot
				err := store.CreateMatchRequest(ctx, "acme", request("req-probe", at), func(snap matching.RequestSnapshot) error {
					seen = snap
					return errors.New("only looking")
				})
				require.Error(t, err)
				return seen
			}
			now := check(t0.Add(time.Minute))
			require.Equal(t, 1, now.Pending)
			require.True(t, now.Duplicate)
			later := check(t0.Add(time.Hour))
			require.Zero(t, later.Pending)
			require.False(t, later.Duplicate)
		})

		t.Run("listings read expiry at the given time", func(t *testing.T) {
			list := func(state matching.RequestState, at time.Time) int {
				got, err := store.ListMatchRequests(ctx, "acme", matching.RequestFilter{ProgramID: "prog", ParticipantID: "men", State: state}, at,
					matching.Page{Size: 10})
				require.NoError(t, err)
				return len(got)
			}
			require.Equal(t, 1, list(matching.RequestPending, t0))
			require.Equal(t, 0, list(matching.RequestExpired, t0))
			require.Equal(t, 0, list(matching.RequestPending, t0.Add(time.Hour)))
			require.Equal(t, 1, list(matching.RequestExpired, t0.Add(time.Hour)))
			require.Equal(t, 1, list("", t0.Add(time.Hour)))
		})

		t.Run("the sweeper expires what is due, once", func(t *testing.T) {
			require.NoError(t, store.CreateMatchRequest(ctx, "acme", request("req-2", t0.Add(30*time.Minute)),
				func(matching.RequestSnapshot) error { return nil }))
			n, err := store.ExpireMatchRequests(ctx, t0.Add(59*time.Minute), 10)
			require.NoError(t, err)
			require.Zero(t, n)
			n, err = store.ExpireMatchRequests(ctx, t0.Add(time.Hour), 10)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			n, err = store.ExpireMatchRequests(ctx, t0.Add(time.Hour), 10)
			require.NoError(t, err)
			require.Zero(t, n, "an expired request is expired once")
			got, err := store.MatchRequest(ctx, "acme", "req-1")
			require.NoError(t, err)
			require.Equal(t, matching.RequestExpired, got.State)
			require.Equal(t, t0.Add(time.Hour), got.UpdateTime)
			events := servicetest.Outbox(t, db)
			require.Equal(t, "tandem.match_request.expired", events[len(events)-1].Type)
		})

		// Only PostgreSQL lets another writer in while a transaction is
		// open; SQLite has one writer at a time, so there the race cannot
		// happen.
		if db.Dialect == sqlstore.Postgres {
			t.Run("an update of a request changed meanwhile is aborted", func(t *testing.T) {
				_, err := store.UpdateMatchRequest(ctx, "acme", "req-2", func(r *matching.MatchRequest) error {
					// Another answer wins while this one decides.
					_, err := db.ExecContext(ctx, `UPDATE match_requests SET state = 'cancelled' WHERE id = 'req-2'`)
					require.NoError(t, err)
					r.State = matching.RequestRejected
					return nil
				})
				require.ErrorIs(t, err, apperr.ErrAborted)
			})
		}

		t.Run("approval stores the request and its match together", func(t *testing.T) {
			r3 := request("req-3", t0.Add(2*time.Hour))
			require.NoError(t, store.CreateMatchRequest(ctx, "acme", r3, func(matching.RequestSnapshot) error { return nil }))
			m := newMatch("match-r3", "men", "mee", matching.MatchAccepted)
			got, match, err := store.ApproveMatchRequest(ctx, "acme", "req-3", func(r matching.MatchRequest, snap matching.Snapshot) (matching.MatchRequest, matching.Match, error) {
				require.Empty(t, snap.Live)
				r.State, r.MatchID = matching.RequestApproved, m.ID
				return r, m, nil
			})
			require.NoError(t, err)
			require.Equal(t, matching.RequestApproved, got.State)
			require.Equal(t, "match-r3", match.ID)
			stored, err := store.Match(ctx, "acme", "match-r3")
			require.NoError(t, err)
			require.Equal(t, matching.MatchAccepted, stored.State)
			events := servicetest.Outbox(t, db)
			require.Equal(t, []string{"tandem.match_request.approved", "tandem.match.accepted"},
				[]string{events[len(events)-2].Type, events[len(events)-1].Type})
		})

		t.Run("erasure blanks messages and reasons", func(t *testing.T) {
			require.NoError(t, db.InTx(ctx, func(tx *sql.Tx) error { return store.ErasePerson(ctx, tx, "acme", "p-men") }))
			got, err := store.MatchRequest(ctx, "acme", "req-1")
			require.NoError(t, err)
			require.Empty(t, got.Message)
			require.Equal(t, "p-men", got.TargetPersonID)
		})
	})
}

func sortedKeys[V any](m map[string]V) []string {
	out := slices.Collect(maps.Keys(m))
	slices.Sort(out)
	return out
}
