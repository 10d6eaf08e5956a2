package eventbus

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/tandem-oss/tandem/pkg/sqlstore"
)

// DefaultMaxDeliver is the default number of delivery attempts of a message
// before JetStream gives up on it for a consumer.
const DefaultMaxDeliver = 10

const (
	// ackWait is how long JetStream waits for an acknowledgement before it
	// redelivers; a message's handler gets this long to finish.
	ackWait = 30 * time.Second
	// pullBatch bounds the messages buffered in the client: on a crash they
	// are redelivered only after ackWait. It also bounds a batch.
	pullBatch = 100
	// batchGap is how long a batch waits for one more message: the
	// messages of a backlog arrive microseconds apart.
	batchGap     = time.Millisecond
	nakBaseDelay = 250 * time.Millisecond
	nakMaxDelay  = time.Minute
)

// Message is one event delivered to a Handler.
type Message struct {
	// ID is the event id (ce-id; else Nats-Msg-Id; else "<stream>:<seq>").
	// It is the key of the inbox.
	ID string
	// Type is the full CloudEvents type, e.g. "tandem.program.created".
	Type string
	// Subject is the NATS subject, e.g. "tandem.acme.program.created".
	Subject string
	// Tenant is the ce-tenant header, else the second subject token.
	Tenant string
	// Source is the CloudEvents source, e.g. "tandem/participant".
	Source string
	// AggregateID is the ce-subject: the id of the entity that changed.
	AggregateID string
	// Time is when the event was enqueued (ce-time), else when JetStream
	// stored it.
	Time time.Time
	// Data is the payload, a binary protobuf message (see ce-dataschema).
	Data []byte
	// Header holds all NATS headers of the message.
	Header nats.Header
}

// Handler applies one event inside tx, the transaction that also records the
// event in the inbox. Returning an error rolls everything back and the
// message is redelivered later, with a growing delay. A Handler must not
// commit or roll back tx. ctx carries the producer's trace and expires after
// 30s (the ack wait), after which JetStream would redeliver the message anyway.
type Handler func(ctx context.Context, tx *sql.Tx, m Message) error

// ConsumerConfig configures a Consumer. Zero fields take the documented
// defaults.
type ConsumerConfig struct {
	// Name is the durable consumer name and the inbox key; it must be
	// unique per consuming service and purpose, e.g. "matching-participants".
	Name string
	// Stream is the stream to consume. Default "TANDEM".
	Stream string
	// FilterSubjects selects the subjects to receive, e.g.
	// {"tandem.*.participant.>"}; empty means the whole stream. Several
	// filters need NATS server 2.10 or later.
	FilterSubjects []string
	// MaxDeliver is the number of delivery attempts before JetStream gives
	// up on a message. Default 10.
	MaxDeliver int
	// Logger receives the consumer's logs. Default slog.Default().
	Logger *slog.Logger
}

func (c ConsumerConfig) withDefaults() ConsumerConfig {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Consumer applies the events of a durable JetStream pull consumer to a
// database, each exactly once in effect thanks to the inbox table. Messages
// are handled in stream order; those that arrive together (a backlog) are
// applied up to 100 in one transaction, so that a commit is not paid per
// event.
type Consumer struct {
	db      *sqlstore.DB
	js      jetstream.JetStream
	cfg     ConsumerConfig
	handler Handler
	log     *slog.Logger

	tracer   trace.Tracer
	messages metric.Int64Counter
	duration metric.Float64Histogram
}

// NewConsumer returns a consumer that calls h for each new event; it does
// not start it.
func NewConsumer(db *sqlstore.DB, js jetstream.JetStream, cfg ConsumerConfig, h Handler) *Consumer {
	cfg = cfg.withDefaults()
	c := &Consumer{
		db:      db,
		js:      js,
		cfg:     cfg,
		handler: h,
		log:     cfg.Logger.With("component", "eventbus.consumer", "stream", cfg.Stream, "consumer", cfg.Name),
		tracer:  otel.Tracer(instrumentationName),
	}
	meter := otel.Meter(instrumentationName)
	var err error
	// On error the meter still returns a usable no-op instrument.
	c.messages, err = meter.Int64Counter("eventbus.consumer.messages",
		metric.WithDescription("Messages processed by outcome: handled, duplicate or failed."),
		metric.WithUnit("{message}"))
	if err != nil {
		c.log.Warn("eventbus: create metric", "error", err)
	}
	c.duration, err = meter.Float64Histogram("eventbus.consumer.duration",
		metric.WithDescription("Time from receipt to acknowledgement of one message; the messages of a batch share one transaction."),
		metric.WithUnit("s"))
	if err != nil {
		c.log.Warn("eventbus: create metric", "error", err)
	}
	return c
}

// Run creates or updates the durable consumer and processes messages until
// ctx is done. It blocks; it returns nil once ctx is cancelled, after the
// message in hand is finished and the buffered ones are handed back for
// immediate redelivery. Errors of NATS or of a missing stream are logged and
// retried with backoff. It returns an error only for an invalid
// configuration.
func (c *Consumer) Run(ctx context.Context) error {
	if c.cfg.Name == "" || strings.ContainsAny(c.cfg.Name, ".*> \t") {
		return fmt.Errorf("eventbus: invalid consumer name %q", c.cfg.Name)
	}
	if c.handler == nil {
		return errors.New("eventbus: consumer without a handler")
	}
	var backoff time.Duration
	for {
		err := c.consume(ctx)
		if ctx.Err() != nil {
			return nil
		}
		backoff = min(max(2*backoff, 100*time.Millisecond), maxBackoff)
		level := slog.LevelError
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			level = slog.LevelWarn // usual while the services start together
		}
		c.log.Log(ctx, level, "eventbus: consumer interrupted", "error", err, "retry_in", backoff)
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// consume runs one subscription until ctx is done or it fails.
func (c *Consumer) consume(ctx context.Context) error {
	cc := jetstream.ConsumerConfig{
		Durable:       c.cfg.Name,
		Description:   "tandem eventbus consumer",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    c.cfg.MaxDeliver,
	}
	// A single filter goes into FilterSubject, which servers before 2.10
	// understand too.
	if len(c.cfg.FilterSubjects) == 1 {
		cc.FilterSubject = c.cfg.FilterSubjects[0]
	} else {
		cc.FilterSubjects = c.cfg.FilterSubjects
	}
	cons, err := c.js.CreateOrUpdateConsumer(ctx, c.cfg.Stream, cc)
	if err != nil {
		return fmt.Errorf("nats: create consumer %s on %s: %w", c.cfg.Name, c.cfg.Stream, err)
	}
	iter, err := cons.Messages(jetstream.PullMaxMessages(pullBatch))
	if err != nil {
		return fmt.Errorf("nats: subscribe consumer %s: %w", c.cfg.Name, err)
	}
	defer iter.Stop()
	c.log.Info("eventbus: consumer started", "filter_subjects", c.cfg.FilterSubjects)
	for {
		msg, err := iter.Next(jetstream.NextContext(ctx))
		switch {
		case ctx.Err() != nil:
			c.handBack(iter)
			return nil
		case errors.Is(err, jetstream.ErrNoHeartbeat):
			// The iterator re-issues its pull requests by itself.
			c.log.Warn("eventbus: consumer missed heartbeats", "error", err)
			continue
		case err != nil:
			return fmt.Errorf("nats: next message: %w", err)
		}
		c.processBatch(ctx, gather(iter, msg))
	}
}

// gather returns first and the messages that follow it within batchGap
// of each other, up to pullBatch.
func gather(iter jetstream.MessagesContext, first jetstream.Msg) []jetstream.Msg {
	batch := []jetstream.Msg{first}
	for len(batch) < pullBatch {
		// A timeout ends the batch; any other error shows again at the
		// consume loop's next call.
		msg, err := iter.Next(jetstream.NextMaxWait(batchGap))
		if err != nil {
			break
		}
		batch = append(batch, msg)
	}
	return batch
}

// handBack naks the messages buffered in the client so that another
// instance receives them at once rather than after the ack wait.
func (c *Consumer) handBack(iter jetstream.MessagesContext) {
	iter.Drain()
	for {
		msg, err := iter.Next(jetstream.NextMaxWait(time.Second))
		if err != nil {
			return
		}
		_ = msg.Nak()
	}
}

// processBatch applies msgs in one transaction and acknowledges them. If
// any of them fails, the transaction is rolled back and each is applied
// in a transaction of its own, so that one failing event delays only
// itself. Messages already received finish even when ctx is cancelled:
// the handlers get up to the ack wait, after which JetStream would
// redeliver them anyway.
func (c *Consumer) processBatch(ctx context.Context, msgs []jetstream.Msg) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackWait)
	defer cancel()
	ds := make([]*delivery, len(msgs))
	for i, msg := range msgs {
		ds[i] = c.receive(ctx, msg)
	}
	if len(ds) > 1 {
		duplicates := make([]bool, len(ds))
		err := c.db.InTx(ctx, func(tx *sql.Tx) (err error) {
			for i, d := range ds {
				if duplicates[i], err = c.apply(d.ctx, tx, d.m); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			for i, d := range ds {
				c.finish(d, duplicates[i], nil)
			}
			return
		}
		c.log.Debug("eventbus: batch failed; applying its events one by one", "events", len(ds), "error", err)
	}
	for _, d := range ds {
		var duplicate bool
		err := c.db.InTx(d.ctx, func(tx *sql.Tx) (err error) {
			duplicate, err = c.apply(d.ctx, tx, d.m)
			return err
		})
		c.finish(d, duplicate, err)
	}
}

// delivery is one message being processed: its event, its trace span.
type delivery struct {
	msg   jetstream.Msg
	meta  *jetstream.MsgMetadata
	m     Message
	ctx   context.Context
	span  trace.Span
	start time.Time
}

// receive reads msg and starts its span in the producer's trace.
func (c *Consumer) receive(ctx context.Context, msg jetstream.Msg) *delivery {
	d := &delivery{msg: msg, start: time.Now()}
	meta, err := msg.Metadata()
	if err != nil {
		// Only the id fallback and the retry delay need it.
		c.log.Warn("eventbus: message metadata", "subject", msg.Subject(), "error", err)
	}
	d.meta, d.m = meta, c.message(msg, meta)
	ctx = otel.GetTextMapPropagator().Extract(ctx, headerCarrier(msg.Headers()))
	d.ctx, d.span = c.tracer.Start(ctx, "process "+c.cfg.Name,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.destination.name", d.m.Subject),
			attribute.String("messaging.consumer.group.name", c.cfg.Name),
			attribute.String("messaging.message.id", d.m.ID),
			attribute.String("cloudevents.event_type", d.m.Type),
		))
	return d
}

// finish acknowledges d after its transaction committed (err nil), or
// asks for a delayed redelivery, and ends its span.
func (c *Consumer) finish(d *delivery, duplicate bool, err error) {
	defer d.span.End()
	log := c.log.With("event_id", d.m.ID, "subject", d.m.Subject)
	outcome := "handled"
	switch {
	case err != nil:
		outcome = "failed"
		d.span.RecordError(err)
		d.span.SetStatus(codes.Error, "handler failed")
		var delivered uint64 = 1
		if d.meta != nil {
			delivered = d.meta.NumDelivered
		}
		delay := nakDelay(delivered)
		if int(delivered) >= c.cfg.MaxDeliver {
			log.Error("eventbus: event failed for the last time; JetStream will not redeliver it",
				"error", err, "deliveries", delivered)
		} else {
			log.Warn("eventbus: event failed; redelivering", "error", err, "deliveries", delivered, "retry_in", delay)
		}
		if err := d.msg.NakWithDelay(delay); err != nil {
			log.Warn("eventbus: nak", "error", err)
		}
	default:
		if duplicate {
			outcome = "duplicate"
			log.Debug("eventbus: duplicate event skipped")
		}
		// After the commit: a lost ack only causes a redelivery, which the
		// inbox recognises.
		if err := d.msg.Ack(); err != nil {
			log.Warn("eventbus: ack", "error", err)
		}
	}
	attrs := metric.WithAttributes(attribute.String("messaging.consumer.group.name", c.cfg.Name),
		attribute.String("outcome", outcome))
	c.messages.Add(d.ctx, 1, attrs)
	c.duration.Record(d.ctx, time.Since(d.start).Seconds(), attrs)
}

// apply records m in the inbox and runs the handler, in tx. It reports
// duplicate when the inbox already had the event; the handler is not
// called then.
func (c *Consumer) apply(ctx context.Context, tx *sql.Tx, m Message) (duplicate bool, err error) {
	if m.ID == "" {
		return false, errors.New("eventbus: message without an id")
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO inbox (consumer, event_id, received_at) VALUES ($1, $2, $3)
		ON CONFLICT (consumer, event_id) DO NOTHING`, c.cfg.Name, m.ID, time.Now().UTC())
	if err != nil {
		return false, fmt.Errorf("db: insert inbox: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("db: insert inbox: %w", err)
	}
	if n == 0 {
		return true, nil
	}
	if err := c.handler(ctx, tx, m); err != nil {
		return false, fmt.Errorf("handler: %w", err)
	}
	return false, nil
}

// message turns a JetStream message into a Message, filling the attributes
// a producer other than the relay may have left out.
func (c *Consumer) message(msg jetstream.Msg, meta *jetstream.MsgMetadata) Message {
	h := msg.Headers()
	if h == nil {
		h = nats.Header{}
	}
	m := Message{
		ID:          h.Get(HeaderID),
		Type:        h.Get(HeaderType),
		Subject:     msg.Subject(),
		Tenant:      h.Get(HeaderTenant),
		Source:      h.Get(HeaderSource),
		AggregateID: h.Get(HeaderSubject),
		Data:        msg.Data(),
		Header:      h,
	}
	if m.ID == "" {
		m.ID = h.Get(jetstream.MsgIDHeader)
	}
	if m.ID == "" && meta != nil {
		m.ID = meta.Stream + ":" + strconv.FormatUint(meta.Sequence.Stream, 10)
	}
	if m.Tenant == "" {
		if tokens := strings.Split(m.Subject, "."); len(tokens) > 1 {
			m.Tenant = tokens[1]
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, h.Get(HeaderTime)); err == nil {
		m.Time = t
	} else if meta != nil {
		m.Time = meta.Timestamp
	}
	return m
}

// nakDelay is the redelivery delay after the delivered-th failed attempt:
// exponential from 250ms, capped at a minute.
func nakDelay(delivered uint64) time.Duration {
	d := nakBaseDelay
	for i := uint64(1); i < delivered && d < nakMaxDelay; i++ {
		d *= 2
	}
	return min(d, nakMaxDelay)
}
