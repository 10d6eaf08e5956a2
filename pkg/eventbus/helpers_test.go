package eventbus_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// waitFor bounds every poll of the tests.
const waitFor = 20 * time.Second

// TestMain installs the W3C propagator and a real tracer, as a service's
// telemetry setup does, so that trace context actually travels.
func TestMain(m *testing.M) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	otel.SetTracerProvider(tp)
	code := m.Run()
	_ = tp.Shutdown(context.Background())
	os.Exit(code)
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testWriter sends log lines to the test log, so they show only on failure.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

func openDB(t testing.TB, url string) *sqlstore.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sqlstore.Open(ctx, url, eventbus.Migrations)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func connectNATS(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return nc, js
}

// setup gives a test a migrated database and an embedded NATS server with
// the default stream.
func setup(t testing.TB, dbURL string) (*sqlstore.DB, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	db := openDB(t, dbURL)
	nc, js := connectNATS(t, testkit.EmbeddedNATS(t))
	require.NoError(t, eventbus.EnsureStream(context.Background(), js, eventbus.DefaultStream, eventbus.DefaultSubjectPrefix))
	return db, nc, js
}

// runInBackground starts run and returns a stop function that cancels it
// and waits for it to return; stop is also called at cleanup.
func runInBackground(t testing.TB, run func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run returned %v, want nil after cancel", err)
				}
			case <-time.After(waitFor):
				t.Errorf("run did not return within %s of cancel", waitFor)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func enqueue(t testing.TB, db *sqlstore.DB, ctx context.Context, events ...eventbus.Event) {
	t.Helper()
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		return eventbus.Enqueue(ctx, tx, "tandem/test", events...)
	})
	require.NoError(t, err)
}

// outboxRow is a row of the outbox as the tests inspect it.
type outboxRow struct {
	ID        string
	CreatedAt time.Time
	SentAt    sql.NullTime
}

func outbox(t testing.TB, db *sqlstore.DB) []outboxRow {
	t.Helper()
	rows, err := db.Query(`SELECT id, created_at, sent_at FROM outbox ORDER BY seq`)
	require.NoError(t, err)
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		require.NoError(t, rows.Scan(&r.ID, &r.CreatedAt, &r.SentAt))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

func countUnsent(t testing.TB, db *sqlstore.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL`).Scan(&n))
	return n
}

func streamMsgCount(t testing.TB, js jetstream.JetStream, stream string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), stream)
	require.NoError(t, err)
	info, err := s.Info(context.Background())
	require.NoError(t, err)
	return info.State.Msgs
}

// streamMessages returns every message of the stream in stream order.
func streamMessages(t testing.TB, js jetstream.JetStream, stream string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

// wireCounter counts, by Nats-Msg-Id, every message published on a subject
// as core NATS sees it: unlike the stream, it also sees the republished
// messages that JetStream's duplicate window drops.
type wireCounter struct {
	mu    sync.Mutex
	count map[string]int
	total int
}

func countOnWire(t testing.TB, nc *nats.Conn, subject string) *wireCounter {
	t.Helper()
	w := &wireCounter{count: map[string]int{}}
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.count[m.Header.Get(jetstream.MsgIDHeader)]++
		w.total++
	})
	require.NoError(t, err)
	require.NoError(t, sub.SetPendingLimits(-1, -1))
	require.NoError(t, nc.Flush())
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return w
}

func (w *wireCounter) Total() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.total
}

// Repeated returns the ids seen more than once.
func (w *wireCounter) Repeated() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]int{}
	for id, n := range w.count {
		if n > 1 {
			out[id] = n
		}
	}
	return out
}
