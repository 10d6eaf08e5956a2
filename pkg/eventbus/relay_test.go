package eventbus_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

func programEvent(i int) eventbus.Event {
	return eventbus.Event{
		Tenant:      "acme",
		Aggregate:   "program",
		AggregateID: fmt.Sprintf("prog-%d", i),
		Type:        "created",
		Payload:     wrapperspb.String(fmt.Sprintf("payload %d", i)),
	}
}

func programEvents(from, n int) []eventbus.Event {
	events := make([]eventbus.Event, n)
	for i := range events {
		events[i] = programEvent(from + i)
	}
	return events
}

func TestRelay_PublishesCommittedEventsOnceInOrderWithHeaders(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		t.Parallel()
		db, nc, js := setup(t, url)
		wire := countOnWire(t, nc, "tandem.>")

		traceID := trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
		state, err := trace.ParseTraceState("vendor=abc")
		require.NoError(t, err)
		ctx := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
			TraceID:    traceID,
			SpanID:     trace.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
			TraceFlags: trace.FlagsSampled,
			TraceState: state,
			Remote:     true,
		}))
		events := []eventbus.Event{
			{Tenant: "acme", Aggregate: "program", AggregateID: "p1", Type: "created", Payload: wrapperspb.String("first")},
			{Tenant: "acme", Aggregate: "participant", AggregateID: "pa1", Type: "enrolled", Payload: wrapperspb.Int64(2)},
			{Tenant: "globex", Aggregate: "match", AggregateID: "m1", Type: "health_changed", Payload: wrapperspb.Bool(true)},
		}
		before := time.Now()
		enqueue(t, db, ctx, events...)
		after := time.Now()

		relay := eventbus.NewRelay(db, js, eventbus.RelayConfig{Logger: testLogger(t)})
		runInBackground(t, relay.Run)
		relay.Notify()
		testkit.Eventually(t, waitFor, func() bool { return countUnsent(t, db) == 0 }, "outbox not drained")

		rows := outbox(t, db)
		require.Len(t, rows, len(events))
		msgs := streamMessages(t, js, eventbus.DefaultStream)
		require.Len(t, msgs, len(events), "stream messages")
		traceparent := regexp.MustCompile(`^00-` + traceID.String() + `-[0-9a-f]{16}-01$`)
		for i, m := range msgs {
			e, row := events[i], rows[i]
			id, err := uuid.Parse(row.ID)
			require.NoError(t, err)
			require.Equal(t, uuid.Version(7), id.Version(), "event id version")
			require.True(t, row.SentAt.Valid, "sent_at of %s", row.ID)
			require.False(t, row.CreatedAt.Before(before.Truncate(time.Microsecond)) || row.CreatedAt.After(after), "created_at %v outside [%v, %v]", row.CreatedAt, before, after)
			require.False(t, row.SentAt.Time.Before(row.CreatedAt), "sent_at %v before created_at %v", row.SentAt.Time, row.CreatedAt)

			require.Equal(t, fmt.Sprintf("tandem.%s.%s.%s", e.Tenant, e.Aggregate, e.Type), m.Subject)
			require.Regexp(t, traceparent, m.Header.Get("traceparent"), "traceparent continues the enqueuing trace")
			want := nats.Header{
				"Nats-Msg-Id":        {row.ID},
				"ce-specversion":     {"1.0"},
				"ce-id":              {row.ID},
				"ce-source":          {"tandem/test"},
				"ce-type":            {"tandem." + e.Aggregate + "." + e.Type},
				"ce-time":            {row.CreatedAt.UTC().Format(time.RFC3339Nano)},
				"ce-subject":         {e.AggregateID},
				"ce-tenant":          {e.Tenant},
				"ce-datacontenttype": {"application/protobuf"},
				"ce-dataschema":      {"proto:" + string(proto.MessageName(e.Payload))},
				"traceparent":        m.Header.Values("traceparent"),
				"tracestate":         {"vendor=abc"},
			}
			if diff := cmp.Diff(want, m.Header); diff != "" {
				t.Errorf("headers of message %d (-want +got):\n%s", i, diff)
			}
			got := e.Payload.ProtoReflect().New().Interface()
			require.NoError(t, proto.Unmarshal(m.Data, got))
			if diff := cmp.Diff(e.Payload, got, protocmp.Transform()); diff != "" {
				t.Errorf("payload of message %d (-want +got):\n%s", i, diff)
			}
		}
		require.Equal(t, len(events), wire.Total(), "messages published on the wire")
		require.Empty(t, wire.Repeated(), "events published more than once")
	})
}

func TestRelay_RolledBackTransactionPublishesNothing(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		t.Parallel()
		db, nc, js := setup(t, url)
		wire := countOnWire(t, nc, "tandem.>")
		ctx := context.Background()

		errAbort := errors.New("abort")
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if err := eventbus.Enqueue(ctx, tx, "tandem/test", programEvents(0, 5)...); err != nil {
				return err
			}
			return errAbort
		})
		require.ErrorIs(t, err, errAbort)
		enqueue(t, db, ctx, programEvent(100))

		relay := eventbus.NewRelay(db, js, eventbus.RelayConfig{Logger: testLogger(t)})
		runInBackground(t, relay.Run)
		testkit.Eventually(t, waitFor, func() bool { return countUnsent(t, db) == 0 }, "outbox not drained")

		rows := outbox(t, db)
		require.Len(t, rows, 1, "outbox rows")
		msgs := streamMessages(t, js, eventbus.DefaultStream)
		require.Len(t, msgs, 1, "stream messages")
		require.Equal(t, rows[0].ID, msgs[0].Header.Get("ce-id"))
		require.Equal(t, 1, wire.Total(), "messages published on the wire")
	})
}

func TestRelay_RestartMidStreamLosesNothingAndDuplicatesNothing(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		t.Parallel()
		const n, accepted = 3000, 1000
		db := openDB(t, url)
		natsURL := testkit.EmbeddedNATS(t)
		_, js := connectNATS(t, natsURL)
		ctx := context.Background()
		// The stream refuses messages beyond the first 1,000 until the limit
		// is lifted: the relay sees publishes fail mid-batch.
		streamCfg := jetstream.StreamConfig{
			Name:       eventbus.DefaultStream,
			Subjects:   []string{"tandem.>"},
			Duplicates: eventbus.DuplicateWindow,
			MaxMsgs:    accepted,
			Discard:    jetstream.DiscardNew,
		}
		_, err := js.CreateStream(ctx, streamCfg)
		require.NoError(t, err)
		for i := 0; i < n; i += 500 {
			enqueue(t, db, ctx, programEvents(i, 500)...)
		}

		// The first relay fills the stream and fails on the rest; once a
		// second refused batch went out (so the first one was settled), it
		// loses its connection, with PubAcks possibly in flight, and is
		// stopped.
		nc, _ := connectNATS(t, natsURL)
		wire := countOnWire(t, nc, "tandem.>")
		nc1, js1 := connectNATS(t, natsURL)
		const batch = 64
		first := eventbus.NewRelay(db, js1, eventbus.RelayConfig{BatchSize: batch, Holder: "first", Logger: testLogger(t)})
		stopFirst := runInBackground(t, first.Run)
		testkit.Eventually(t, waitFor, func() bool { return wire.Total() > accepted+batch }, "relay did not retry refused events")
		nc1.Close()
		stopFirst()
		require.Equal(t, uint64(accepted), streamMsgCount(t, js, eventbus.DefaultStream))
		require.GreaterOrEqual(t, countUnsent(t, db), n-accepted, "rows the stream refused must stay unsent")

		streamCfg.MaxMsgs = -1
		_, err = js.UpdateStream(ctx, streamCfg)
		require.NoError(t, err)
		_, js2 := connectNATS(t, natsURL)
		second := eventbus.NewRelay(db, js2, eventbus.RelayConfig{Holder: "second", Logger: testLogger(t)})
		runInBackground(t, second.Run)
		testkit.Eventually(t, waitFor, func() bool { return countUnsent(t, db) == 0 }, "outbox not drained after restart")

		var want []string
		for _, r := range outbox(t, db) {
			want = append(want, r.ID)
		}
		var got []string
		for _, m := range streamMessages(t, js, eventbus.DefaultStream) {
			got = append(got, m.Header.Get("ce-id"))
		}
		require.Len(t, want, n)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stream content and order (-outbox +stream):\n%s", diff)
		}
	})
}

func TestRelay_TwoRelaysOnOneDatabaseOnlyOnePublishes(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		t.Parallel()
		db := openDB(t, url)
		natsURL := testkit.EmbeddedNATS(t)
		nc, js := connectNATS(t, natsURL)
		ctx := context.Background()
		require.NoError(t, eventbus.EnsureStream(ctx, js, eventbus.DefaultStream, eventbus.DefaultSubjectPrefix))
		wire := countOnWire(t, nc, "tandem.>")

		type node struct {
			nc    *nats.Conn
			relay *eventbus.Relay
			stop  func()
		}
		nodes := make([]*node, 2)
		for i := range nodes {
			nci, jsi := connectNATS(t, natsURL)
			r := eventbus.NewRelay(db, jsi, eventbus.RelayConfig{
				Holder: fmt.Sprintf("relay-%d", i), BatchSize: 50, Logger: testLogger(t),
			})
			nodes[i] = &node{nc: nci, relay: r}
		}
		for _, nd := range nodes {
			nd.stop = runInBackground(t, nd.relay.Run)
		}

		const n = 1000
		for i := 0; i < n; i += 100 {
			enqueue(t, db, ctx, programEvents(i, 100)...)
			for _, nd := range nodes {
				nd.relay.Notify()
			}
		}
		testkit.Eventually(t, waitFor, func() bool { return countUnsent(t, db) == 0 }, "outbox not drained")
		testkit.Eventually(t, waitFor, func() bool { return wire.Total() >= n }, "wire saw %d of %d", wire.Total(), n)

		published := []uint64{nodes[0].nc.Stats().OutMsgs, nodes[1].nc.Stats().OutMsgs}
		leader, standby := nodes[0], nodes[1]
		if published[1] != 0 {
			leader, standby = nodes[1], nodes[0]
		}
		require.ElementsMatch(t, []uint64{0, n}, published, "messages sent by each relay")
		require.Empty(t, wire.Repeated(), "events published more than once")
		require.Equal(t, uint64(n), streamMsgCount(t, js, eventbus.DefaultStream))

		// The standby takes over when the leader stops.
		leader.stop()
		enqueue(t, db, ctx, programEvents(n, 100)...)
		standby.relay.Notify()
		testkit.Eventually(t, waitFor, func() bool { return countUnsent(t, db) == 0 }, "standby did not take over")
		testkit.Eventually(t, waitFor, func() bool { return wire.Total() >= n+100 }, "wire saw %d of %d", wire.Total(), n+100)
		require.Equal(t, uint64(100), standby.nc.Stats().OutMsgs, "messages sent by the standby after take-over")
		require.Equal(t, uint64(n+100), streamMsgCount(t, js, eventbus.DefaultStream))
		require.Empty(t, wire.Repeated(), "events published more than once")
	})
}

func TestRelay_DeletesRowsSentMoreThanADayAgo(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		t.Parallel()
		db, _, js := setup(t, url)
		ctx := context.Background()
		enqueue(t, db, ctx, programEvent(1))
		_, err := db.Exec(`UPDATE outbox SET created_at = $1, sent_at = $1`, time.Now().Add(-25*time.Hour).UTC())
		require.NoError(t, err)
		enqueue(t, db, ctx, programEvent(2))
		fresh := outbox(t, db)[1].ID

		relay := eventbus.NewRelay(db, js, eventbus.RelayConfig{Logger: testLogger(t)})
		runInBackground(t, relay.Run)
		testkit.Eventually(t, waitFor, func() bool {
			rows := outbox(t, db)
			return len(rows) == 1 && rows[0].SentAt.Valid
		}, "old row not deleted or fresh row not sent")
		require.Equal(t, fresh, outbox(t, db)[0].ID)
		msgs := streamMessages(t, js, eventbus.DefaultStream)
		require.Len(t, msgs, 1, "only the unsent event is published")
		require.Equal(t, fresh, msgs[0].Header.Get("ce-id"))
	})
}

func TestEnqueue_RejectsInvalidEvents(t *testing.T) {
	t.Parallel()
	db := openDB(t, testkit.SQLiteURL(t))
	valid := programEvent(1)
	tests := []struct {
		name   string
		source string
		edit   func(e *eventbus.Event)
	}{
		{name: "empty source", source: " ", edit: func(*eventbus.Event) {}},
		{name: "empty tenant", edit: func(e *eventbus.Event) { e.Tenant = "" }},
		{name: "dot in tenant", edit: func(e *eventbus.Event) { e.Tenant = "a.b" }},
		{name: "wildcard in aggregate", edit: func(e *eventbus.Event) { e.Aggregate = "*" }},
		{name: "tail wildcard in type", edit: func(e *eventbus.Event) { e.Type = ">" }},
		{name: "space in type", edit: func(e *eventbus.Event) { e.Type = "was created" }},
		{name: "empty aggregate id", edit: func(e *eventbus.Event) { e.AggregateID = "" }},
		{name: "nil payload", edit: func(e *eventbus.Event) { e.Payload = nil }},
		{name: "typed nil payload", edit: func(e *eventbus.Event) { e.Payload = (*wrapperspb.StringValue)(nil) }},
		{name: "oversized payload", edit: func(e *eventbus.Event) {
			e.Payload = wrapperspb.String(strings.Repeat("x", eventbus.MaxPayloadBytes))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := valid
			tc.edit(&e)
			source := "tandem/test"
			if tc.source != "" {
				source = tc.source
			}
			err := db.InTx(context.Background(), func(tx *sql.Tx) error {
				return eventbus.Enqueue(context.Background(), tx, source, valid, e)
			})
			require.ErrorIs(t, err, eventbus.ErrInvalidEvent)
			require.Empty(t, outbox(t, db), "nothing may be written")
		})
	}
}

// benchStores runs a benchmark on each engine.
func benchStores(b *testing.B, fn func(b *testing.B, url string)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, testkit.SQLiteURL(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, testkit.PostgresURL(b)) })
}

// BenchmarkRelay enqueues b.N events in transactions of 1,000 and measures
// how fast a relay publishes the backlog.
func BenchmarkRelay(b *testing.B) { benchStores(b, benchmarkRelay) }

func benchmarkRelay(b *testing.B, url string) {
	db := openDB(b, url)
	_, js := connectNATS(b, testkit.EmbeddedNATS(b))
	ctx := context.Background()
	require.NoError(b, eventbus.EnsureStream(ctx, js, eventbus.DefaultStream, eventbus.DefaultSubjectPrefix))
	for i := 0; i < b.N; i += 1000 {
		enqueue(b, db, ctx, programEvents(i, min(1000, b.N-i))...)
	}
	relay := eventbus.NewRelay(db, js, eventbus.RelayConfig{Logger: testLogger(b)})

	b.ResetTimer()
	start := time.Now()
	stop := runInBackground(b, relay.Run)
	testkit.Eventually(b, 10*time.Minute, func() bool { return countUnsent(b, db) == 0 }, "outbox not drained")
	elapsed := time.Since(start)
	b.StopTimer()
	stop()

	require.Equal(b, uint64(b.N), streamMsgCount(b, js, eventbus.DefaultStream))
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}

// BenchmarkRelaySustained feeds the outbox at 5,000 events/s, one
// transaction every 10ms, while the relay runs, and reports the throughput
// and the 99th percentile of the enqueue-to-stream lag.
func BenchmarkRelaySustained(b *testing.B) { benchStores(b, benchmarkRelaySustained) }

func benchmarkRelaySustained(b *testing.B, url string) {
	db := openDB(b, url)
	_, js := connectNATS(b, testkit.EmbeddedNATS(b))
	ctx := context.Background()
	require.NoError(b, eventbus.EnsureStream(ctx, js, eventbus.DefaultStream, eventbus.DefaultSubjectPrefix))
	relay := eventbus.NewRelay(db, js, eventbus.RelayConfig{Logger: testLogger(b)})
	stop := runInBackground(b, relay.Run)

	const rate = 5000 // events/s
	b.ResetTimer()
	start := time.Now()
	ticker := time.NewTicker(10 * time.Millisecond)
	for sent := 0; sent < b.N; {
		<-ticker.C
		due := min(int(time.Since(start).Seconds()*rate), b.N)
		if due > sent {
			enqueue(b, db, ctx, programEvents(sent, due-sent)...)
			relay.Notify()
			sent = due
		}
	}
	ticker.Stop()
	testkit.Eventually(b, 10*time.Minute, func() bool { return countUnsent(b, db) == 0 }, "outbox not drained")
	elapsed := time.Since(start)
	b.StopTimer()
	stop()

	lags := make([]time.Duration, 0, b.N)
	for _, m := range streamMessages(b, js, eventbus.DefaultStream) {
		created, err := time.Parse(time.RFC3339Nano, m.Header.Get("ce-time"))
		require.NoError(b, err)
		lags = append(lags, m.Time.Sub(created))
	}
	require.Len(b, lags, b.N)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(percentile(lags, 0.99).Seconds()*1000, "p99-lag-ms")
}

func percentile(d []time.Duration, p float64) time.Duration {
	sorted := append([]time.Duration(nil), d...)
	slices.Sort(sorted)
	return sorted[int(float64(len(sorted)-1)*p)]
}
