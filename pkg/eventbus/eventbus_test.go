package eventbus_test

import (
	"database/sql"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

func TestInTx(t *testing.T) {
	t.Parallel()
	errChange := errors.New("change failed")
	tests := []struct {
		name string
		// events and err are what fn returns after it enqueued prog-0
		// itself, which a rollback must remove too.
		events       []eventbus.Event
		err          error
		wantErr      error
		wantOutbox   []string // aggregate ids of the new outbox rows
		wantNotified int
	}{
		{
			name:         "commit writes the events and notifies",
			events:       programEvents(1, 2),
			wantOutbox:   []string{"prog-0", "prog-1", "prog-2"},
			wantNotified: 1,
		},
		{
			name:    "an error of fn rolls back and does not notify",
			events:  programEvents(1, 2),
			err:     errChange,
			wantErr: errChange,
		},
		{
			name:    "an invalid event rolls back and does not notify",
			events:  []eventbus.Event{programEvent(1), {Tenant: "acme"}},
			wantErr: eventbus.ErrInvalidEvent,
		},
	}
	testkit.Stores(t, func(t *testing.T, url string) {
		t.Parallel()
		db := openDB(t, url)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := len(servicetest.Outbox(t, db))
				notified := 0
				err := eventbus.InTx(t.Context(), db, "tandem/test", func() { notified++ }, func(tx *sql.Tx) ([]eventbus.Event, error) {
					require.NoError(t, eventbus.Enqueue(t.Context(), tx, "tandem/test", programEvent(0)))
					return tt.events, tt.err
				})
				require.ErrorIs(t, err, tt.wantErr)
				var got []string
				for _, row := range servicetest.Outbox(t, db)[before:] {
					got = append(got, row.AggregateID)
				}
				require.Empty(t, cmp.Diff(tt.wantOutbox, got), "outbox (-want +got)")
				require.Equal(t, tt.wantNotified, notified, "notifications")
			})
		}

		t.Run("notify may be nil", func(t *testing.T) {
			require.NoError(t, eventbus.InTx(t.Context(), db, "tandem/test", nil, func(*sql.Tx) ([]eventbus.Event, error) {
				return programEvents(3, 1), nil
			}))
		})
	})
}
