package sqlstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

func TestListSessions(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, _ := openStore(t, url)
		day := func(n, hour int) time.Time { return time.Date(2027, 6, 7+n, hour, 0, 0, 0, time.UTC) }
		// Ann mentors Bob (m1) and is mentored by Cat (m2); Dan and Eve
		// (m3) meet at the same time as a2.
		a4 := session("a4", "m1", "ann", "bob", day(3, 10))
		a4.State = scheduling.SessionConfirmed
		require.NoError(t, store.CreateSessions(ctx, "acme", nil, []scheduling.Session{
			session("a1", "m1", "ann", "bob", day(0, 10)), session("a2", "m1", "ann", "bob", day(1, 10)),
			session("a3", "m1", "ann", "bob", day(2, 10)), a4,
			session("b1", "m2", "cat", "ann", day(1, 12)), session("b2", "m2", "cat", "ann", day(4, 9)),
			session("c-x", "m3", "dan", "eve", day(1, 10)),
		}, nil))
		_, err := store.UpdateSessions(ctx, "acme", []string{"a3"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
			x.State = scheduling.SessionCancelled
			return scheduling.SessionChange{Event: "cancelled"}, nil
		})
		require.NoError(t, err)
		require.NoError(t, store.CreateSessions(ctx, "other", nil, []scheduling.Session{session("z", "m1", "ann", "bob", day(0, 10))}, nil))

		ids := func(sessions []scheduling.Session) []string {
			out := []string{}
			for _, x := range sessions {
				out = append(out, x.ID)
			}
			return out
		}
		for _, tc := range []struct {
			name   string
			filter scheduling.SessionFilter
			want   []string
		}{
			{"of a match", scheduling.SessionFilter{MatchID: "m1"}, []string{"a1", "a2", "a3", "a4"}},
			{"of a person as mentor or mentee", scheduling.SessionFilter{PersonID: "ann"}, []string{"a1", "a2", "b1", "a3", "a4", "b2"}},
			{"in a state", scheduling.SessionFilter{PersonID: "ann", State: scheduling.SessionConfirmed}, []string{"a4"}},
			{"starting in [from, to)", scheduling.SessionFilter{PersonID: "ann", From: day(1, 10), To: day(3, 10)}, []string{"a2", "b1", "a3"}},
			{"after a keyset position", scheduling.SessionFilter{MatchID: "m1", AfterStart: day(1, 10), AfterID: "a2"}, []string{"a3", "a4"}},
			{"equal starts ordered by id", scheduling.SessionFilter{Limit: 3}, []string{"a1", "a2", "c-x"}},
			{"after the first of equal starts", scheduling.SessionFilter{AfterStart: day(1, 10), AfterID: "a2", Limit: 2}, []string{"c-x", "b1"}},
			{"of a match and a person", scheduling.SessionFilter{MatchID: "m2", PersonID: "ann", To: day(2, 0)}, []string{"b1"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := store.ListSessions(ctx, "acme", tc.filter)
				require.NoError(t, err)
				require.Equal(t, tc.want, ids(got))
			})
		}

		t.Run("pages cover the list once", func(t *testing.T) {
			var all []string
			f := scheduling.SessionFilter{PersonID: "ann", Limit: 2}
			for {
				page, err := store.ListSessions(ctx, "acme", f)
				require.NoError(t, err)
				all = append(all, ids(page)...)
				if len(page) < f.Limit {
					break
				}
				f.AfterStart, f.AfterID = page[len(page)-1].Start, page[len(page)-1].ID
			}
			require.Equal(t, []string{"a1", "a2", "b1", "a3", "a4", "b2"}, all)
		})

		t.Run("tenants are separate", func(t *testing.T) {
			got, err := store.ListSessions(ctx, "other", scheduling.SessionFilter{PersonID: "ann"})
			require.NoError(t, err)
			require.Equal(t, []string{"z"}, ids(got))
		})

		t.Run("booked sessions of people overlapping a range", func(t *testing.T) {
			got, err := store.BookedSessions(ctx, "acme", []string{"ann"}, day(1, 0), day(3, 0))
			require.NoError(t, err)
			require.Equal(t, []string{"a2", "b1"}, ids(got), "a3 is cancelled")
			got, err = store.BookedSessions(ctx, "acme", []string{"bob", "eve"}, day(0, 10).Add(30*time.Minute), day(1, 10).Add(time.Minute))
			require.NoError(t, err)
			require.Equal(t, []string{"a1", "a2", "c-x"}, ids(got))
			got, err = store.BookedSessions(ctx, "acme", []string{"bob"}, day(0, 11), day(1, 10))
			require.NoError(t, err)
			require.Empty(t, got, "[from, to) is half-open on both sides")
			got, err = store.BookedSessions(ctx, "acme", nil, day(0, 0), day(9, 0))
			require.NoError(t, err)
			require.Empty(t, got)
		})
	})
}
