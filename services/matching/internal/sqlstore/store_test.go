package sqlstore_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	"github.com/tandem-oss/tandem/services/matching/internal/pbconv"
	matchingsql "github.com/tandem-oss/tandem/services/matching/internal/sqlstore"
)

// TestStore is the conformance suite of the store, run on both engines.
func TestStore(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		db, err := sqlstore.Open(ctx, url, eventbus.Migrations, matchingsql.Migrations)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		var notified atomic.Int32
		store := matchingsql.New(db, func() { notified.Add(1) })

		t.Run("missing config is not found", func(t *testing.T) {
			_, err := store.ScoringConfig(ctx, "acme", "nothing")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		v1 := config("prog-1", 1)
		t.Run("first version is stored with its event", func(t *testing.T) {
			require.NoError(t, store.AddScoringConfig(ctx, "acme", v1))
			got, err := store.ScoringConfig(ctx, "acme", "prog-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(v1, got))
			require.EqualValues(t, 1, notified.Load())
			events := servicetest.Outbox(t, db)
			require.Len(t, events, 1)
			require.Empty(t, cmp.Diff(servicetest.OutboxRow{Type: "tandem.scoring_config.updated", Tenant: "acme", AggregateID: "prog-1"}, events[0],
				cmpopts.IgnoreFields(servicetest.OutboxRow{}, "Payload")))
			var payload eventsv1.ScoringConfigUpdated
			require.NoError(t, proto.Unmarshal(events[0].Payload, &payload))
			require.Empty(t, cmp.Diff(&eventsv1.ScoringConfigUpdated{Config: pbconv.ScoringConfig(v1)}, &payload, protocmp.Transform()))
		})

		t.Run("stale or skipped versions are aborted without an event", func(t *testing.T) {
			for _, version := range []int64{1, 3} {
				err := store.AddScoringConfig(ctx, "acme", config("prog-1", version))
				require.ErrorIs(t, err, apperr.ErrAborted, "version %d", version)
			}
			require.Len(t, servicetest.Outbox(t, db), 1)
			require.EqualValues(t, 1, notified.Load())
		})

		t.Run("the newest version is in force", func(t *testing.T) {
			v2 := config("prog-1", 2)
			v2.Weights.Preference = 50
			v2.RequireSharedLanguage = false
			require.NoError(t, store.AddScoringConfig(ctx, "acme", v2))
			got, err := store.ScoringConfig(ctx, "acme", "prog-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(v2, got))
		})

		t.Run("tenants and programs are separate", func(t *testing.T) {
			_, err := store.ScoringConfig(ctx, "other", "prog-1")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			_, err = store.ScoringConfig(ctx, "acme", "prog-2")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			require.NoError(t, store.AddScoringConfig(ctx, "other", config("prog-1", 1)))
			got, err := store.ScoringConfig(ctx, "acme", "prog-1")
			require.NoError(t, err)
			require.EqualValues(t, 2, got.Version)
		})

		t.Run("concurrent updates of one version: exactly one wins", func(t *testing.T) {
			const writers = 6
			var wg sync.WaitGroup
			errs := make([]error, writers)
			for i := range writers {
				wg.Go(func() {
					c := config("prog-race", 1)
					c.Weights.Preference = float64(i)
					errs[i] = store.AddScoringConfig(ctx, "acme", c)
				})
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				if err == nil {
					won++
					continue
				}
				require.ErrorIs(t, err, apperr.ErrAborted)
			}
			require.Equal(t, 1, won)
			var raceEvents int
			for _, e := range servicetest.Outbox(t, db) {
				if e.AggregateID == "prog-race" {
					raceEvents++
				}
			}
			require.Equal(t, 1, raceEvents)
		})
	})
}

func config(program string, version int64) matching.ScoringConfig {
	c := matching.DefaultScoringConfig(program)
	c.Version = version
	c.MinPairScore = 12.5
	c.UpdateTime = time.Date(2026, 3, 29, 1, 30, 0, 123456000, time.UTC).Add(time.Duration(version) * time.Hour)
	return c
}
