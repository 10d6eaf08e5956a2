package eventbus_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

func TestEnsureStream_CreatesOnceAndLeavesAnExistingStreamAlone(t *testing.T) {
	t.Parallel()
	_, js := connectNATS(t, testkit.EmbeddedNATS(t))
	ctx := context.Background()

	require.NoError(t, eventbus.EnsureStream(ctx, js, "EVENTS", "acmebus"))
	s, err := js.Stream(ctx, "EVENTS")
	require.NoError(t, err)
	cfg := s.CachedInfo().Config
	type shape struct {
		Subjects   []string
		Storage    jetstream.StorageType
		Retention  jetstream.RetentionPolicy
		Duplicates time.Duration
	}
	want := shape{Subjects: []string{"acmebus.>"}, Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, Duplicates: 2 * time.Minute}
	if diff := cmp.Diff(want, shape{cfg.Subjects, cfg.Storage, cfg.Retention, cfg.Duplicates}); diff != "" {
		t.Errorf("stream config (-want +got):\n%s", diff)
	}

	// An operator tunes the stream; EnsureStream must not undo it.
	cfg.MaxAge = 30 * 24 * time.Hour
	_, err = js.UpdateStream(ctx, cfg)
	require.NoError(t, err)
	require.NoError(t, eventbus.EnsureStream(ctx, js, "EVENTS", "acmebus"))
	info, err := s.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, 30*24*time.Hour, info.Config.MaxAge)
}

// TestExternalNATS_RelayToConsumer runs the whole path against the
// machine's NATS server, with a private stream and subject prefix.
func TestExternalNATS_RelayToConsumer(t *testing.T) {
	t.Parallel()
	natsURL := testkit.ExternalNATSURL(t)
	testkit.Stores(t, func(t *testing.T, url string) {
		t.Parallel()
		db := openDB(t, url)
		createAppliedTable(t, db)
		_, js := connectNATS(t, natsURL)
		ctx := context.Background()
		stream, prefix := testkit.RandomName("TANDEMTEST_"), testkit.RandomName("tandemtest")
		require.NoError(t, eventbus.EnsureStream(ctx, js, stream, prefix))
		t.Cleanup(func() {
			if err := js.DeleteStream(context.Background(), stream); err != nil {
				t.Errorf("delete stream %s: %v", stream, err)
			}
		})

		relay := eventbus.NewRelay(db, js, eventbus.RelayConfig{Stream: stream, SubjectPrefix: prefix, Logger: testLogger(t)})
		runInBackground(t, relay.Run)
		rec := &recorder{}
		cfg := eventbus.ConsumerConfig{
			Name: "programs", Stream: stream, FilterSubjects: []string{prefix + ".*.program.>"}, Logger: testLogger(t),
		}
		runInBackground(t, eventbus.NewConsumer(db, js, cfg, rec.handle).Run)

		const n = 50
		for i := range n {
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				return eventbus.Enqueue(ctx, tx, "tandem/test", programEvent(i), eventbus.Event{
					Tenant: "acme", Aggregate: "participant", AggregateID: "pa", Type: "enrolled", Payload: wrapperspb.Int32(int32(i)),
				})
			})
			require.NoError(t, err)
			relay.Notify()
		}
		testkit.Eventually(t, waitFor, func() bool { return len(rec.Calls()) >= n }, "consumer handled %d of %d", len(rec.Calls()), n)
		testkit.Eventually(t, waitFor, func() bool { return countUnsent(t, db) == 0 }, "outbox not drained")
		require.Equal(t, uint64(2*n), streamMsgCount(t, js, stream))

		calls := rec.Calls()
		require.Len(t, calls, n)
		for i, m := range calls {
			require.Equal(t, prefix+".acme.program.created", m.Subject)
			require.Equal(t, "tandem.program.created", m.Type)
			var got wrapperspb.StringValue
			require.NoError(t, proto.Unmarshal(m.Data, &got))
			require.Equal(t, fmt.Sprintf("payload %d", i), got.GetValue(), "events arrive in order")
		}
	})
}
