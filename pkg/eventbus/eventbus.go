// Package eventbus carries domain events from a service's database to NATS
// JetStream and from JetStream into other services, exactly once in effect.
//
// A publishing service writes its events with Enqueue in the transaction
// that makes the change (the transactional outbox). A Relay publishes the
// outbox rows in order with Nats-Msg-Id set to the event id and marks a row
// sent only after JetStream acknowledged it, so a crash at any point leads
// to a republish, never to a loss; JetStream's duplicate window and the
// consumer's inbox absorb the republish.
//
// A Consumer applies each message in a transaction that also records the
// event id in the inbox table and acknowledges only after the commit, so a
// redelivered or republished event is recognised and skipped.
//
// Subjects are <prefix>.<tenant>.<aggregate>.<type>; CloudEvents attributes
// travel as ce-* headers, the payload is a binary protobuf message and the
// W3C trace context travels in traceparent/tracestate headers.
package eventbus

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/proto"

	"github.com/tandem-oss/tandem/pkg/sqlstore"
)

// instrumentationName names the tracer and the meter of this package.
const instrumentationName = "github.com/tandem-oss/tandem/pkg/eventbus"

//go:embed migrations
var migrationFiles embed.FS

// Migrations holds the outbox, outbox_lease and inbox tables for both
// engines. Pass it to sqlstore.Open next to the service's own migrations.
var Migrations = sqlstore.Migrations{Name: "eventbus", FS: migrationsDir()}

func migrationsDir() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		// fs.Sub fails only on an invalid path, and "migrations" is valid.
		return migrationFiles
	}
	return sub
}

// ErrInvalidEvent is returned by Enqueue for an event that cannot be
// published: a missing field, a subject token with a dot, wildcard or
// space, or no payload.
var ErrInvalidEvent = errors.New("eventbus: invalid event")

// Event is one domain event to publish. It is published on the subject
// <prefix>.<Tenant>.<Aggregate>.<Type> with the CloudEvents type
// tandem.<Aggregate>.<Type>.
type Event struct {
	// Tenant is the tenant the event belongs to, a subject token, e.g. "acme".
	Tenant string
	// Aggregate is the kind of entity that changed, e.g. "program".
	Aggregate string
	// AggregateID identifies the entity; it becomes the ce-subject.
	AggregateID string
	// Type is what happened, e.g. "created"; the ce-type becomes
	// "tandem.program.created".
	Type string
	// Payload is the event body, sent in protobuf binary encoding.
	Payload proto.Message
}

// MaxPayloadBytes bounds an event's encoded payload, well under NATS's
// default 1 MiB message limit, so one oversized event can never block the
// outbox: Enqueue refuses it and the caller's transaction rolls back.
const MaxPayloadBytes = 512 << 10

// insertChunk bounds the rows of one INSERT statement so that the number of
// bind parameters stays well below both engines' limits.
const insertChunk = 100

// insertColumns is the number of outbox columns Enqueue writes.
const insertColumns = 11

// Enqueue writes events to the outbox inside tx, the caller's transaction
// that makes the change the events describe: they are published if and only
// if tx commits. Each event gets a UUIDv7 id and the current time; the W3C
// trace context of ctx is stored with it so that the trace continues across
// NATS. source is the CloudEvents source, e.g. "tandem/participant". Enqueue
// does not wake a relay; call Relay.Notify after the commit for a prompt
// publish, or let InTx do both. It blocks for the INSERT statements only.
func Enqueue(ctx context.Context, tx *sql.Tx, source string, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	if strings.TrimSpace(source) == "" {
		return fmt.Errorf("%w: empty source", ErrInvalidEvent)
	}
	traceHeaders, err := traceContextJSON(ctx)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond) // PostgreSQL keeps microseconds
	args := make([]any, 0, min(len(events), insertChunk)*insertColumns)
	for start := 0; start < len(events); start += insertChunk {
		chunk := events[start:min(start+insertChunk, len(events))]
		args = args[:0]
		for i, e := range chunk {
			if err := e.validate(); err != nil {
				return fmt.Errorf("event %d: %w", start+i, err)
			}
			payload, err := proto.Marshal(e.Payload)
			if err != nil {
				return fmt.Errorf("eventbus: marshal event %d payload: %w", start+i, err)
			}
			if len(payload) > MaxPayloadBytes {
				return fmt.Errorf("%w: event %d payload is %d bytes, more than %d", ErrInvalidEvent, start+i, len(payload), MaxPayloadBytes)
			}
			id, err := uuid.NewV7()
			if err != nil {
				return fmt.Errorf("eventbus: event id: %w", err)
			}
			args = append(args, id.String(), e.Tenant, e.Aggregate, e.Type, ceType(e.Aggregate, e.Type),
				source, e.AggregateID, dataSchema(e.Payload), payload, traceHeaders, now)
		}
		if _, err := tx.ExecContext(ctx, insertOutboxSQL(len(chunk)), args...); err != nil {
			return fmt.Errorf("db: insert outbox: %w", err)
		}
	}
	return nil
}

// InTx runs fn in a transaction of db and writes the events fn returns to
// the outbox in the same transaction; after a successful commit it calls
// notify (if not nil) to wake the relay. An error of fn or of Enqueue rolls
// everything back, notifies nobody and is returned as is. It blocks for the
// transaction only.
func InTx(ctx context.Context, db *sqlstore.DB, source string, notify func(), fn func(tx *sql.Tx) ([]Event, error)) error {
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		events, err := fn(tx)
		if err != nil {
			return err
		}
		return Enqueue(ctx, tx, source, events...)
	})
	if err == nil && notify != nil {
		notify()
	}
	return err
}

func (e Event) validate() error {
	for _, f := range []struct{ name, value string }{
		{"Tenant", e.Tenant}, {"Aggregate", e.Aggregate}, {"Type", e.Type},
	} {
		if !validToken(f.value) {
			return fmt.Errorf("%w: %s %q is not a subject token", ErrInvalidEvent, f.name, f.value)
		}
	}
	if strings.TrimSpace(e.AggregateID) == "" {
		return fmt.Errorf("%w: empty AggregateID", ErrInvalidEvent)
	}
	if e.Payload == nil || !e.Payload.ProtoReflect().IsValid() {
		return fmt.Errorf("%w: no payload", ErrInvalidEvent)
	}
	return nil
}

// validToken reports whether s can be one token of a NATS subject.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r == '.' || r == '*' || r == '>' || unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func insertOutboxSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO outbox (id, tenant, aggregate, event_type, ce_type, source, aggregate_id, data_schema, payload, trace_headers, created_at) VALUES ")
	n := 1
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range insertColumns {
			if c > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", n)
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

func ceType(aggregate, typ string) string {
	return "tandem." + aggregate + "." + typ
}

func dataSchema(m proto.Message) string {
	return "proto:" + string(proto.MessageName(m))
}

// traceContextJSON serialises the trace context of ctx as the global
// propagator writes it into headers.
func traceContextJSON(ctx context.Context) (string, error) {
	carrier := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, carrier)
	b, err := json.Marshal(map[string]string(carrier))
	if err != nil {
		return "", fmt.Errorf("eventbus: encode trace context: %w", err)
	}
	return string(b), nil
}
