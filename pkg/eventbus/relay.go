package eventbus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/tandem-oss/tandem/pkg/sqlstore"
)

// Defaults of RelayConfig and ConsumerConfig.
const (
	DefaultStream        = "TANDEM"
	DefaultSubjectPrefix = "tandem"
	DefaultBatchSize     = 500
	DefaultPollInterval  = 100 * time.Millisecond
	DefaultLeaseTTL      = 10 * time.Second
)

// Header names of the CloudEvents attributes (binary content mode).
const (
	HeaderSpecVersion     = "ce-specversion"
	HeaderID              = "ce-id"
	HeaderSource          = "ce-source"
	HeaderType            = "ce-type"
	HeaderTime            = "ce-time"
	HeaderSubject         = "ce-subject"
	HeaderTenant          = "ce-tenant"
	HeaderDataContentType = "ce-datacontenttype"
	HeaderDataSchema      = "ce-dataschema"
)

const (
	// retention is how long sent rows stay in the outbox, for inspection and
	// replay by hand, before the relay deletes them.
	retention       = 24 * time.Hour
	cleanupInterval = 10 * time.Minute
	cleanupChunk    = 5000
	maxBackoff      = 5 * time.Second
	// shutdownGrace bounds the work done after Run's context is cancelled:
	// waiting for outstanding PubAcks, recording them and releasing the lease.
	shutdownGrace = 5 * time.Second
	leaseName     = "relay"
)

// RelayConfig configures a Relay. Zero fields take the documented defaults.
type RelayConfig struct {
	// Stream is the JetStream stream the subjects must land in; a PubAck
	// from another stream is treated as a failure. Default "TANDEM".
	Stream string
	// SubjectPrefix is the first subject token:
	// <prefix>.<tenant>.<aggregate>.<type>. Default "tandem".
	SubjectPrefix string
	// BatchSize is the maximum number of rows read and published per round,
	// all in flight at once; keep it below the JetStream context's async
	// publish limit (4,000 by default). Default 500.
	BatchSize int
	// PollInterval is how often an idle relay looks for new rows when
	// Notify is not called. Default 100ms.
	PollInterval time.Duration
	// LeaseTTL is how long the publishing relay's lease lasts without
	// renewal; a standby relay takes over at most about this long after the
	// leader died. Default 10s.
	LeaseTTL time.Duration
	// Holder identifies this relay in the lease table. Default
	// <hostname>-<pid>-<random>.
	Holder string
	// Logger receives the relay's logs. Default slog.Default().
	Logger *slog.Logger
}

func (c RelayConfig) withDefaults() RelayConfig {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.Holder == "" {
		c.Holder = defaultHolder()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func defaultHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b)
}

// Relay publishes the outbox of one database into JetStream. Several relays
// may run against the same database (one per replica); a lease row elects
// the one that publishes, the others stand by.
//
// Committed rows are published in seq order. On PostgreSQL two transactions
// that commit concurrently may be published in commit order instead; a
// service keeps the events of one aggregate in order by updating (locking)
// the aggregate's row before it enqueues, which it does anyway.
type Relay struct {
	db  *sqlstore.DB
	js  jetstream.JetStream
	cfg RelayConfig
	log *slog.Logger

	wake      chan struct{}
	tracer    trace.Tracer
	published metric.Int64Counter
	lag       metric.Float64Histogram
	attrs     metric.MeasurementOption

	// Owned by the goroutine in Run.
	leaseUntil  time.Time
	lastCleanup time.Time
}

// NewRelay returns a relay of db's outbox into js; it does not start it.
// The stream must exist (see EnsureStream) for publishing to succeed.
func NewRelay(db *sqlstore.DB, js jetstream.JetStream, cfg RelayConfig) *Relay {
	cfg = cfg.withDefaults()
	r := &Relay{
		db:     db,
		js:     js,
		cfg:    cfg,
		log:    cfg.Logger.With("component", "eventbus.relay", "stream", cfg.Stream, "holder", cfg.Holder),
		wake:   make(chan struct{}, 1),
		tracer: otel.Tracer(instrumentationName),
		attrs:  metric.WithAttributes(attribute.String("messaging.destination.name", cfg.Stream)),
	}
	meter := otel.Meter(instrumentationName)
	var err error
	// On error the meter still returns a usable no-op instrument, so a
	// metrics problem never stops events from flowing.
	r.published, err = meter.Int64Counter("eventbus.relay.published",
		metric.WithDescription("Outbox events published to JetStream and acknowledged."),
		metric.WithUnit("{event}"))
	if err != nil {
		r.log.Warn("eventbus: create metric", "error", err)
	}
	r.lag, err = meter.Float64Histogram("eventbus.relay.lag",
		metric.WithDescription("Time from an event's enqueue to its PubAck."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
	if err != nil {
		r.log.Warn("eventbus: create metric", "error", err)
	}
	return r
}

// Notify wakes the relay up to publish promptly, typically right after a
// transaction that called Enqueue has committed. It never blocks; wake-ups
// that arrive while one is pending are merged.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run publishes the outbox until ctx is done. It blocks; it returns nil once
// ctx is cancelled, after waiting briefly for outstanding acknowledgements
// and releasing the lease so that a standby relay takes over at once.
// Database and NATS errors are logged and retried with backoff. Run must not
// be called concurrently on the same Relay.
func (r *Relay) Run(ctx context.Context) error {
	r.log.Info("eventbus: relay started", "subject_prefix", r.cfg.SubjectPrefix, "batch_size", r.cfg.BatchSize)
	defer r.releaseLease(ctx)
	var backoff time.Duration
	for {
		if ctx.Err() != nil {
			return nil
		}
		wait, err := r.round(ctx)
		wake := r.wake
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			backoff = min(max(2*backoff, r.cfg.PollInterval), maxBackoff)
			r.log.Error("eventbus: relay round failed", "error", err, "retry_in", backoff)
			wait = backoff
			wake = nil // commits must not cut a backoff short
		default:
			backoff = 0
		}
		if wait == 0 {
			continue
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// round does one unit of work and returns how long to wait before the next:
// zero when a full batch suggests more rows are waiting.
func (r *Relay) round(ctx context.Context) (time.Duration, error) {
	leader, err := r.holdLease(ctx)
	if err != nil {
		return 0, err
	}
	if !leader {
		return max(r.cfg.LeaseTTL/4, r.cfg.PollInterval), nil
	}
	n, err := r.publishBatch(ctx)
	if err != nil {
		return 0, err
	}
	if n == r.cfg.BatchSize {
		return 0, nil
	}
	if time.Since(r.lastCleanup) > cleanupInterval {
		if err := r.cleanup(ctx); err != nil {
			return 0, err
		}
		r.lastCleanup = time.Now()
	}
	return r.cfg.PollInterval, nil
}

// holdLease acquires or renews the lease and reports whether this relay
// holds it. A renewal is skipped while more than half of the lease is left,
// so an idle leader does not write every poll.
func (r *Relay) holdLease(ctx context.Context) (bool, error) {
	start := time.Now()
	if r.leaseUntil.Sub(start) > r.cfg.LeaseTTL/2 {
		return true, nil
	}
	var query string
	var args []any
	if r.db.Dialect == sqlstore.Postgres {
		// The database clock decides, so relays on hosts with skewed clocks
		// still agree on who holds the lease.
		query = `UPDATE outbox_lease SET holder = $1, expires_at = now() + make_interval(secs => $2)
			WHERE name = $3 AND (holder = $1 OR expires_at < now())`
		args = []any{r.cfg.Holder, r.cfg.LeaseTTL.Seconds(), leaseName}
	} else {
		// SQLite is embedded: every relay shares this host's clock. Times
		// are stored as UTC text, which compares in time order.
		now := start.UTC()
		query = `UPDATE outbox_lease SET holder = $1, expires_at = $2
			WHERE name = $3 AND (holder = $1 OR expires_at < $4)`
		args = []any{r.cfg.Holder, now.Add(r.cfg.LeaseTTL), leaseName, now}
	}
	res, err := r.db.ExecContext(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("db: acquire relay lease: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("db: acquire relay lease: %w", err)
	}
	wasLeader := !r.leaseUntil.IsZero()
	if n == 1 {
		if !wasLeader {
			r.log.Info("eventbus: relay acquired the outbox lease")
		}
		r.leaseUntil = start.Add(r.cfg.LeaseTTL)
		return true, nil
	}
	if wasLeader {
		r.log.Warn("eventbus: relay lost the outbox lease")
	}
	r.leaseUntil = time.Time{}
	return false, nil
}

// releaseLease gives the lease up on shutdown so that a standby relay does
// not wait for it to expire.
func (r *Relay) releaseLease(ctx context.Context) {
	if r.leaseUntil.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	_, err := r.db.ExecContext(ctx, `UPDATE outbox_lease SET holder = '', expires_at = $1 WHERE name = $2 AND holder = $3`,
		time.Unix(0, 0).UTC(), leaseName, r.cfg.Holder)
	if err != nil {
		r.log.Warn("eventbus: release relay lease", "error", err)
		return
	}
	r.leaseUntil = time.Time{}
	r.log.Info("eventbus: relay released the outbox lease")
}

// outboxRow is one unsent event as read from the outbox.
type outboxRow struct {
	seq                                     int64
	id, tenant, aggregate, eventType        string
	ceType, source, aggregateID, dataSchema string
	payload                                 []byte
	traceHeaders                            string
	createdAt                               time.Time
}

// publishBatch publishes the oldest unsent rows and marks the acknowledged
// prefix sent. It returns the number of rows read.
func (r *Relay) publishBatch(ctx context.Context) (int, error) {
	rows, err := r.unsent(ctx)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	pending := make([]inflight, 0, len(rows))
	defer func() {
		for _, p := range pending {
			p.span.End()
		}
	}()
	var publishErr error
	for _, row := range rows {
		if ctx.Err() != nil {
			break
		}
		p, err := r.publish(row)
		if err != nil {
			publishErr = err
			break
		}
		pending = append(pending, p)
	}

	// Acknowledgements arrive in publish order. Only the contiguous acked
	// prefix is recorded, so that a row published after a failed one is
	// published again after it and the stream order follows seq order.
	acked, ackErr := r.awaitAcks(pending)
	if err := r.markSent(ctx, rows[:acked]); err != nil {
		return 0, err
	}
	if acked > 0 {
		r.published.Add(context.Background(), int64(acked), r.attrs)
	}
	if err := errors.Join(publishErr, ackErr); err != nil {
		return 0, fmt.Errorf("eventbus: published %d of %d events: %w", acked, len(rows), err)
	}
	return len(rows), nil
}

func (r *Relay) unsent(ctx context.Context) ([]outboxRow, error) {
	rs, err := r.db.QueryContext(ctx, `SELECT seq, id, tenant, aggregate, event_type, ce_type, source, aggregate_id,
			data_schema, payload, trace_headers, created_at
		FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1`, r.cfg.BatchSize)
	if err != nil {
		return nil, fmt.Errorf("db: read outbox: %w", err)
	}
	defer rs.Close()
	rows := make([]outboxRow, 0, r.cfg.BatchSize)
	for rs.Next() {
		var o outboxRow
		if err := rs.Scan(&o.seq, &o.id, &o.tenant, &o.aggregate, &o.eventType, &o.ceType, &o.source, &o.aggregateID,
			&o.dataSchema, &o.payload, &o.traceHeaders, &o.createdAt); err != nil {
			return nil, fmt.Errorf("db: read outbox: %w", err)
		}
		rows = append(rows, o)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("db: read outbox: %w", err)
	}
	return rows, nil
}

// inflight is a published message waiting for its PubAck.
type inflight struct {
	row    outboxRow
	future jetstream.PubAckFuture
	span   trace.Span
}

func (r *Relay) publish(row outboxRow) (inflight, error) {
	subject := r.cfg.SubjectPrefix + "." + row.tenant + "." + row.aggregate + "." + row.eventType
	stored := propagation.MapCarrier{}
	if row.traceHeaders != "" {
		if err := json.Unmarshal([]byte(row.traceHeaders), (*map[string]string)(&stored)); err != nil {
			r.log.Warn("eventbus: ignoring unreadable trace context", "event_id", row.id, "error", err)
		}
	}
	parent := otel.GetTextMapPropagator().Extract(context.Background(), stored)
	ctx, span := r.tracer.Start(parent, "send "+r.cfg.Stream,
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "send"),
			attribute.String("messaging.destination.name", subject),
			attribute.String("messaging.message.id", row.id),
			attribute.String("cloudevents.event_type", row.ceType),
		))

	msg := nats.NewMsg(subject)
	msg.Data = row.payload
	h := msg.Header
	h.Set(jetstream.MsgIDHeader, row.id)
	h.Set(HeaderSpecVersion, "1.0")
	h.Set(HeaderID, row.id)
	h.Set(HeaderSource, row.source)
	h.Set(HeaderType, row.ceType)
	h.Set(HeaderTime, row.createdAt.UTC().Format(time.RFC3339Nano))
	h.Set(HeaderSubject, row.aggregateID)
	h.Set(HeaderTenant, row.tenant)
	h.Set(HeaderDataContentType, "application/protobuf")
	h.Set(HeaderDataSchema, row.dataSchema)
	otel.GetTextMapPropagator().Inject(ctx, headerCarrier(h))

	future, err := r.js.PublishMsgAsync(msg)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "publish failed")
		span.End()
		return inflight{}, fmt.Errorf("nats: publish %s: %w", row.id, err)
	}
	return inflight{row: row, future: future, span: span}, nil
}

// awaitAcks waits for the PubAcks in order and returns the length of the
// acknowledged prefix. It gives up after one lease TTL (capped by
// shutdownGrace), so an unresponsive server does not stall the relay with
// a lease it no longer renews.
func (r *Relay) awaitAcks(pending []inflight) (int, error) {
	deadline := time.NewTimer(min(r.cfg.LeaseTTL, shutdownGrace))
	defer deadline.Stop()
	closedCheck := time.NewTicker(100 * time.Millisecond)
	defer closedCheck.Stop()
	for i, p := range pending {
		if err := r.awaitAck(p, deadline.C, closedCheck.C); err != nil {
			p.span.RecordError(err)
			p.span.SetStatus(codes.Error, "not acknowledged")
			return i, err
		}
		r.lag.Record(context.Background(), time.Since(p.row.createdAt).Seconds(), r.attrs)
	}
	return len(pending), nil
}

// awaitAck waits for one PubAck. It also watches the connection, because
// the futures of a closed connection are never resolved.
func (r *Relay) awaitAck(p inflight, deadline, closedCheck <-chan time.Time) error {
	for {
		select {
		case ack := <-p.future.Ok():
			if ack.Stream != r.cfg.Stream {
				return fmt.Errorf("nats: event %s landed in stream %q, want %q: check the stream subjects", p.row.id, ack.Stream, r.cfg.Stream)
			}
			return nil
		case err := <-p.future.Err():
			return fmt.Errorf("nats: publish %s: %w", p.row.id, err)
		case <-deadline:
			return fmt.Errorf("nats: no PubAck for %s: %w", p.row.id, context.DeadlineExceeded)
		case <-closedCheck:
			if r.js.Conn().IsClosed() {
				return fmt.Errorf("nats: no PubAck for %s: %w", p.row.id, nats.ErrConnectionClosed)
			}
		}
	}
}

// markSent records rows as sent. It runs even when ctx was just cancelled:
// forgetting an acked row would only cause a republish, but recording it is
// cheap and keeps shutdowns clean.
func (r *Relay) markSent(ctx context.Context, rows []outboxRow) error {
	if len(rows) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	var b strings.Builder
	b.WriteString("UPDATE outbox SET sent_at = $1 WHERE seq IN (")
	args := make([]any, 0, len(rows)+1)
	args = append(args, time.Now().UTC())
	for i, row := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i+2))
		args = append(args, row.seq)
	}
	b.WriteByte(')')
	if _, err := r.db.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("db: mark outbox sent: %w", err)
	}
	return nil
}

// cleanup deletes rows sent more than retention ago, in chunks so that no
// single statement holds locks for long.
func (r *Relay) cleanup(ctx context.Context) error {
	cutoff := time.Now().Add(-retention).UTC()
	for range 100 {
		res, err := r.db.ExecContext(ctx, `DELETE FROM outbox WHERE seq IN (
			SELECT seq FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1 ORDER BY seq LIMIT $2)`,
			cutoff, cleanupChunk)
		if err != nil {
			return fmt.Errorf("db: delete sent outbox rows: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("db: delete sent outbox rows: %w", err)
		}
		if n < cleanupChunk {
			return nil
		}
	}
	return nil
}

// headerCarrier adapts nats.Header to the propagation API without changing
// the case of the keys, as http.Header would.
type headerCarrier nats.Header

func (c headerCarrier) Get(key string) string {
	if v := c[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c headerCarrier) Set(key, value string) { c[key] = []string{value} }

func (c headerCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
