package evaluationsvc_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// otherServices stands in for the participant, matching and scheduling
// services: it writes their events to the outbox of a scratch database and
// a real relay publishes them, headers and all, into the harness's stream.
type otherServices struct {
	db    *sqlstore.DB
	relay *eventbus.Relay
}

// newOtherServices starts the stand-in's relay until the test ends.
func newOtherServices(t *testing.T, h *servicetest.Harness) *otherServices {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), testkit.SQLiteURL(t), eventbus.Migrations)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	o := &otherServices{db: db, relay: eventbus.NewRelay(db, h.JS, eventbus.RelayConfig{
		Stream: h.Stream, SubjectPrefix: h.Prefix, Logger: servicetest.Logger(t),
	})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.relay.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "relay after cancel")
		case <-time.After(servicetest.WaitFor):
			t.Errorf("relay did not return within %s of cancel", servicetest.WaitFor)
		}
	})
	return o
}

// publish enqueues one event of tenant, e.g. aggregate "match", typ
// "activated", as the service owning the aggregate would.
func (o *otherServices) publish(t *testing.T, tenant, aggregate, typ, id string, payload proto.Message) {
	t.Helper()
	require.NoError(t, eventbus.InTx(t.Context(), o.db, "tandem/test", o.relay.Notify, func(*sql.Tx) ([]eventbus.Event, error) {
		return []eventbus.Event{{Tenant: tenant, Aggregate: aggregate, AggregateID: id, Type: typ, Payload: payload}}, nil
	}))
}

// testClock is a service clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// awaitConsumed waits until the evaluation consumer has acknowledged every
// message up to stream sequence seq. It acknowledges only after the
// handler's transaction committed or the inbox recognised a duplicate.
func awaitConsumed(t *testing.T, h *servicetest.Harness, seq uint64) {
	t.Helper()
	testkit.Eventually(t, servicetest.WaitFor, func() bool {
		cons, err := h.JS.Consumer(t.Context(), h.Stream, "evaluation")
		if err != nil {
			return false
		}
		info, err := cons.Info(t.Context())
		return err == nil && info.AckFloor.Stream >= seq && info.NumAckPending == 0
	}, "consumer did not acknowledge up to stream sequence %d", seq)
}

func timestampAt(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// streamMessages reads every message on subject (given without the prefix)
// now in the harness's stream, in order.
func streamMessages(t *testing.T, h *servicetest.Harness, subject string) []jetstream.Msg {
	t.Helper()
	cons, err := h.JS.OrderedConsumer(t.Context(), h.Stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{h.Prefix + "." + subject}})
	require.NoError(t, err)
	info, err := cons.Info(t.Context())
	require.NoError(t, err)
	var out []jetstream.Msg
	for range info.NumPending {
		msg, err := cons.Next(jetstream.FetchMaxWait(servicetest.WaitFor))
		require.NoError(t, err)
		out = append(out, msg)
	}
	return out
}
