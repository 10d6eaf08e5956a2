package sqlstore_test

import (
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

// TestBookingRaces books overlapping sessions from 8 goroutines at once:
// the booking locks let exactly one through, on both engines.
func TestBookingRaces(t *testing.T) {
	const bookers = 8
	start := time.Date(2027, 5, 3, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		// booking is booker i's session; every two of them overlap (their
		// starts are at most 35 minutes apart, each lasts an hour).
		booking func(i int) scheduling.Session
		reason  string
	}{
		{
			name: "one room, different people",
			booking: func(i int) scheduling.Session {
				return inRoom(session(fmt.Sprintf("s%d", i), fmt.Sprintf("m%d", i), fmt.Sprintf("mentor%d", i),
					fmt.Sprintf("mentee%d", i), start.Add(time.Duration(i)*5*time.Minute)), "big-room")
			},
			reason: "room big-room is booked by session",
		},
		{
			name: "one person across matches",
			booking: func(i int) scheduling.Session {
				return session(fmt.Sprintf("s%d", i), fmt.Sprintf("m%d", i), "busy-mentor", fmt.Sprintf("mentee%d", i),
					start.Add(time.Duration(i)*5*time.Minute))
			},
			reason: "person busy-mentor already has session",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testkit.Stores(t, func(t *testing.T, url string) {
				ctx := t.Context()
				store, db := openStore(t, url)
				warmPool(t, db, bookers)
				ready := make(chan struct{})
				errs := make([]error, bookers)
				var wg sync.WaitGroup
				for i := range bookers {
					wg.Go(func() {
						<-ready
						errs[i] = store.CreateSessions(ctx, "acme", nil, []scheduling.Session{tc.booking(i)}, nil)
					})
				}
				close(ready)
				wg.Wait()

				succeeded := 0
				for _, err := range errs {
					if err == nil {
						succeeded++
						continue
					}
					require.ErrorIs(t, err, apperr.ErrFailedPrecondition)
					require.ErrorContains(t, err, tc.reason)
				}
				require.Equal(t, 1, succeeded, "errors: %v", errs)

				var stored int
				require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions
					WHERE tenant_id = 'acme' AND state IN (1, 2)`).Scan(&stored))
				require.Equal(t, 1, stored, "one booked session holds the room or person")
			})
		})
	}
}

// warmPool opens n pooled connections ahead, so that the racing
// transactions start together instead of one per connection set-up.
func warmPool(t *testing.T, db *sqlstore.DB, n int) {
	t.Helper()
	conns := make([]*sql.Conn, n)
	for i := range conns {
		c, err := db.Conn(t.Context())
		require.NoError(t, err)
		require.NoError(t, c.PingContext(t.Context()))
		conns[i] = c
	}
	for _, c := range conns {
		require.NoError(t, c.Close())
	}
}
