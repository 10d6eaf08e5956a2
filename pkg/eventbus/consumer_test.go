package eventbus_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// recorder is a handler that writes each event to the applied table in the
// consumer's transaction, as a service's projection would, and remembers
// the calls.
type recorder struct {
	mu    sync.Mutex
	calls []eventbus.Message
	ctxs  []context.Context
	// fail makes the handler write its row and then fail, for the first
	// fail[id] calls of an event.
	fail map[string]int
}

func createAppliedTable(t testing.TB, db *sqlstore.DB) {
	t.Helper()
	_, err := db.Exec(`CREATE TABLE applied (event_id TEXT NOT NULL, subject TEXT NOT NULL)`)
	require.NoError(t, err)
}

func (r *recorder) handle(ctx context.Context, tx *sql.Tx, m eventbus.Message) error {
	r.mu.Lock()
	r.calls = append(r.calls, m)
	r.ctxs = append(r.ctxs, ctx)
	fail := r.fail[m.ID] > 0
	if fail {
		r.fail[m.ID]--
	}
	r.mu.Unlock()
	if _, err := tx.ExecContext(ctx, `INSERT INTO applied (event_id, subject) VALUES ($1, $2)`, m.ID, m.Subject); err != nil {
		return err
	}
	if fail {
		return errors.New("projection unavailable")
	}
	return nil
}

func (r *recorder) Calls() []eventbus.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]eventbus.Message(nil), r.calls...)
}

func (r *recorder) callsByID() map[string]int {
	out := map[string]int{}
	for _, m := range r.Calls() {
		out[m.ID]++
	}
	return out
}

func appliedByID(t testing.TB, db *sqlstore.DB) map[string]int {
	t.Helper()
	rows, err := db.Query(`SELECT event_id, COUNT(*) FROM applied GROUP BY event_id`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		require.NoError(t, rows.Scan(&id, &n))
		out[id] = n
	}
	require.NoError(t, rows.Err())
	return out
}

func inboxIDs(t testing.TB, db *sqlstore.DB, consumer string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT event_id FROM inbox WHERE consumer = $1 ORDER BY event_id`, consumer)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		out = append(out, id)
	}
	require.NoError(t, rows.Err())
	return out
}

// consumerDone reports whether the durable consumer has acknowledged
// delivered messages and has nothing pending.
func consumerDone(t testing.TB, js jetstream.JetStream, stream, name string, delivered uint64) bool {
	t.Helper()
	c, err := js.Consumer(context.Background(), stream, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return false
	}
	require.NoError(t, err)
	info, err := c.Info(context.Background())
	require.NoError(t, err)
	return info.AckFloor.Consumer >= delivered && info.NumAckPending == 0 && info.NumPending == 0
}

func publish(t testing.TB, js jetstream.JetStream, subject string, h nats.Header, data []byte) *jetstream.PubAck {
	t.Helper()
	msg := nats.NewMsg(subject)
	for k, v := range h {
		msg.Header[k] = v
	}
	msg.Data = data
	ack, err := js.PublishMsg(context.Background(), msg)
	require.NoError(t, err)
	return ack
}

func TestConsumer_HandlesEachEventOnceEvenWhenRepublished(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		t.Parallel()
		db, _, js := setup(t, url)
		createAppliedTable(t, db)
		rec := &recorder{}

		payload, err := proto.Marshal(wrapperspb.String("enrolled"))
		require.NoError(t, err)
		traceID := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
		full := nats.Header{
			"Nats-Msg-Id":        {"evt-1"},
			"ce-specversion":     {"1.0"},
			"ce-id":              {"evt-1"},
			"ce-source":          {"tandem/participant"},
			"ce-type":            {"tandem.participant.enrolled"},
			"ce-time":            {"2026-03-01T10:00:00.123456Z"},
			"ce-subject":         {"pa-1"},
			"ce-tenant":          {"acme"},
			"ce-datacontenttype": {"application/protobuf"},
			"ce-dataschema":      {"proto:google.protobuf.StringValue"},
			"traceparent":        {"00-" + traceID.String() + "-0102030405060708-01"},
		}
		first := publish(t, js, "tandem.acme.participant.enrolled", full, payload)
		// The same event published again after the duplicate window: the
		// stream keeps it, the inbox must not.
		republished := nats.Header{}
		for k, v := range full {
			if k != jetstream.MsgIDHeader {
				republished[k] = v
			}
		}
		second := publish(t, js, "tandem.acme.participant.enrolled", republished, payload)
		require.Greater(t, second.Sequence, first.Sequence, "republish without Nats-Msg-Id is stored")
		// Within the window JetStream itself drops it.
		require.True(t, publish(t, js, "tandem.acme.participant.enrolled", full, payload).Duplicate)
		// Foreign producers: only a Nats-Msg-Id, or nothing at all.
		publish(t, js, "tandem.globex.participant.updated", nats.Header{"Nats-Msg-Id": {"evt-2"}}, []byte("x"))
		bare := publish(t, js, "tandem.globex.participant.updated", nil, []byte("y"))
		// Outside the filter.
		publish(t, js, "tandem.acme.program.created", nats.Header{"Nats-Msg-Id": {"evt-3"}}, []byte("z"))
		bareID := fmt.Sprintf("%s:%d", eventbus.DefaultStream, bare.Sequence)

		cfg := eventbus.ConsumerConfig{Name: "projection", FilterSubjects: []string{"tandem.*.participant.>"}, Logger: testLogger(t)}
		stop := runInBackground(t, eventbus.NewConsumer(db, js, cfg, rec.handle).Run)
		testkit.Eventually(t, waitFor, func() bool { return consumerDone(t, js, eventbus.DefaultStream, "projection", 4) },
			"consumer did not acknowledge the 4 matching messages")
		stop()

		want := map[string]int{"evt-1": 1, "evt-2": 1, bareID: 1}
		if diff := cmp.Diff(want, rec.callsByID()); diff != "" {
			t.Errorf("handler calls per event (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, appliedByID(t, db)); diff != "" {
			t.Errorf("committed effects per event (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{bareID, "evt-1", "evt-2"}, inboxIDs(t, db, "projection"), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("inbox (-want +got):\n%s", diff)
		}

		calls := rec.Calls()
		require.Len(t, calls, 3)
		wantFirst := eventbus.Message{
			ID:          "evt-1",
			Type:        "tandem.participant.enrolled",
			Subject:     "tandem.acme.participant.enrolled",
			Tenant:      "acme",
			Source:      "tandem/participant",
			AggregateID: "pa-1",
			Time:        time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC),
			Data:        payload,
			Header:      full,
		}
		if diff := cmp.Diff(wantFirst, calls[0]); diff != "" {
			t.Errorf("first message (-want +got):\n%s", diff)
		}
		var got wrapperspb.StringValue
		require.NoError(t, proto.Unmarshal(calls[0].Data, &got))
		if diff := cmp.Diff(wrapperspb.String("enrolled"), &got, protocmp.Transform()); diff != "" {
			t.Errorf("payload (-want +got):\n%s", diff)
		}
		require.Equal(t, traceID, trace.SpanContextFromContext(rec.ctxs[0]).TraceID(), "handler runs in the producer's trace")
		require.Equal(t, "globex", calls[2].Tenant, "tenant from the subject when ce-tenant is missing")
		require.False(t, calls[2].Time.IsZero(), "time from the stream when ce-time is missing")
	})
}

func TestConsumer_HandlerErrorRollsBackAndRedelivers(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		t.Parallel()
		db, _, js := setup(t, url)
		createAppliedTable(t, db)
		rec := &recorder{fail: map[string]int{"evt-1": 2}}
		publish(t, js, "tandem.acme.participant.enrolled", nats.Header{"Nats-Msg-Id": {"evt-1"}, "ce-id": {"evt-1"}}, []byte("a"))
		publish(t, js, "tandem.acme.participant.enrolled", nats.Header{"Nats-Msg-Id": {"evt-2"}, "ce-id": {"evt-2"}}, []byte("b"))

		cfg := eventbus.ConsumerConfig{Name: "flaky", FilterSubjects: []string{"tandem.*.participant.>"}, MaxDeliver: 5, Logger: testLogger(t)}
		stop := runInBackground(t, eventbus.NewConsumer(db, js, cfg, rec.handle).Run)
		testkit.Eventually(t, waitFor, func() bool { return consumerDone(t, js, eventbus.DefaultStream, "flaky", 2) },
			"consumer did not acknowledge both messages")
		stop()

		// Three calls for evt-1 prove that a failed attempt left no inbox
		// row behind; one applied row proves its writes were rolled back.
		if diff := cmp.Diff(map[string]int{"evt-1": 3, "evt-2": 1}, rec.callsByID()); diff != "" {
			t.Errorf("handler calls per event (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]int{"evt-1": 1, "evt-2": 1}, appliedByID(t, db)); diff != "" {
			t.Errorf("committed effects per event (-want +got):\n%s", diff)
		}
		require.Equal(t, []string{"evt-1", "evt-2"}, inboxIDs(t, db, "flaky"))
	})
}

// TestConsumer_AFailingEventInABacklogDelaysOnlyItself: a backlog is
// applied in batches; one event failing twice rolls its batch back, and
// every event still takes effect exactly once, in an inbox of all.
func TestConsumer_AFailingEventInABacklogDelaysOnlyItself(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		t.Parallel()
		db, _, js := setup(t, url)
		createAppliedTable(t, db)
		const n = 250
		rec := &recorder{fail: map[string]int{"evt-120": 2}}
		want, ids := map[string]int{}, []string{}
		for i := range n {
			id := fmt.Sprintf("evt-%03d", i)
			publish(t, js, "tandem.acme.participant.enrolled", nats.Header{"ce-id": {id}}, nil)
			want[id] = 1
			ids = append(ids, id)
		}

		cfg := eventbus.ConsumerConfig{Name: "backlog", MaxDeliver: 5, Logger: testLogger(t)}
		stop := runInBackground(t, eventbus.NewConsumer(db, js, cfg, rec.handle).Run)
		testkit.Eventually(t, waitFor, func() bool { return consumerDone(t, js, eventbus.DefaultStream, "backlog", n) },
			"consumer did not acknowledge the backlog")
		stop()

		if diff := cmp.Diff(want, appliedByID(t, db)); diff != "" {
			t.Errorf("committed effects per event (-want +got):\n%s", diff)
		}
		require.Equal(t, ids, inboxIDs(t, db, "backlog"))
		require.GreaterOrEqual(t, rec.callsByID()["evt-120"], 3, "the failing event was retried until it succeeded")
	})
}

func TestConsumer_WaitsForTheStreamAndResumesAfterRestart(t *testing.T) {
	t.Parallel()
	db := openDB(t, testkit.SQLiteURL(t))
	createAppliedTable(t, db)
	_, js := connectNATS(t, testkit.EmbeddedNATS(t))
	rec := &recorder{}
	cfg := eventbus.ConsumerConfig{Name: "early", Logger: testLogger(t)}

	// Started before the stream exists, as in a cold start of all services.
	stop := runInBackground(t, eventbus.NewConsumer(db, js, cfg, rec.handle).Run)
	require.NoError(t, eventbus.EnsureStream(context.Background(), js, eventbus.DefaultStream, eventbus.DefaultSubjectPrefix))
	publish(t, js, "tandem.acme.program.created", nats.Header{"ce-id": {"evt-1"}}, nil)
	testkit.Eventually(t, waitFor, func() bool { return len(rec.Calls()) == 1 }, "first event not handled")
	stop()

	// A restarted consumer continues after the last acknowledged message.
	publish(t, js, "tandem.acme.program.created", nats.Header{"ce-id": {"evt-2"}}, nil)
	stop = runInBackground(t, eventbus.NewConsumer(db, js, cfg, rec.handle).Run)
	testkit.Eventually(t, waitFor, func() bool { return consumerDone(t, js, eventbus.DefaultStream, "early", 2) }, "second event not handled")
	stop()
	if diff := cmp.Diff(map[string]int{"evt-1": 1, "evt-2": 1}, rec.callsByID()); diff != "" {
		t.Errorf("handler calls per event (-want +got):\n%s", diff)
	}
}

func TestConsumer_RejectsInvalidName(t *testing.T) {
	t.Parallel()
	db := openDB(t, testkit.SQLiteURL(t))
	_, js := connectNATS(t, testkit.EmbeddedNATS(t))
	for _, name := range []string{"", "a.b", "a b", "all>"} {
		c := eventbus.NewConsumer(db, js, eventbus.ConsumerConfig{Name: name}, (&recorder{}).handle)
		require.Error(t, c.Run(context.Background()), "name %q", name)
	}
}

// BenchmarkConsumer publishes b.N events, then measures how fast a
// consumer applies the backlog, each event writing one row as a
// projection would.
func BenchmarkConsumer(b *testing.B) {
	benchStores(b, func(b *testing.B, url string) {
		db, _, js := setup(b, url)
		createAppliedTable(b, db)
		for i := range b.N {
			id := fmt.Sprintf("evt-%d", i)
			msg := nats.NewMsg("tandem.acme.participant.enrolled")
			msg.Header.Set("ce-id", id)
			msg.Data = []byte(id)
			_, err := js.PublishMsgAsync(msg)
			require.NoError(b, err)
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(time.Minute):
			b.Fatal("publishing the backlog took over a minute")
		}
		rec := &recorder{}
		cfg := eventbus.ConsumerConfig{Name: "bench", Logger: testLogger(b)}

		b.ResetTimer()
		start := time.Now()
		stop := runInBackground(b, eventbus.NewConsumer(db, js, cfg, rec.handle).Run)
		testkit.Eventually(b, 10*time.Minute, func() bool { return consumerDone(b, js, eventbus.DefaultStream, "bench", uint64(b.N)) },
			"backlog not applied")
		elapsed := time.Since(start)
		b.StopTimer()
		stop()

		require.Len(b, appliedByID(b, db), b.N)
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	})
}
