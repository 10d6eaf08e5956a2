package evaluationsvc_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// participantOutbox stands in for the participant service: it writes
// events to the outbox of a scratch database and a real relay
// publishes them, headers and all, into the harness's stream.
type participantOutbox struct {
	db    *sqlstore.DB
	relay *eventbus.Relay
}

// newParticipantOutbox starts the stand-in's relay until the test ends.
func newParticipantOutbox(t *testing.T, h *servicetest.Harness) *participantOutbox {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), testkit.SQLiteURL(t), eventbus.Migrations)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	o := &participantOutbox{db: db, relay: eventbus.NewRelay(db, h.JS, eventbus.RelayConfig{
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

// publish enqueues one participant event of tenant, e.g. typ "enrolled".
func (o *participantOutbox) publish(t *testing.T, tenant, typ string, p *participantv1.Participant) {
	t.Helper()
	var payload proto.Message
	switch typ {
	case "enrolled":
		payload = &eventsv1.ParticipantEnrolled{Participant: p}
	case "updated":
		payload = &eventsv1.ParticipantUpdated{Participant: p}
	case "withdrawn":
		payload = &eventsv1.ParticipantWithdrawn{Participant: p, Reason: "test"}
	default:
		t.Fatalf("unknown participant event %q", typ)
	}
	require.NoError(t, eventbus.InTx(t.Context(), o.db, "tandem/participant", o.relay.Notify, func(*sql.Tx) ([]eventbus.Event, error) {
		return []eventbus.Event{{
			Tenant: tenant, Aggregate: "participant", AggregateID: p.GetId(), Type: typ, Payload: payload,
		}}, nil
	}))
}
