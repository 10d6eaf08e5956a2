package e2e

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
)

// event is one message of the stream as an analytics consumer sees it.
type event struct {
	seq     uint64
	subject string
	headers map[string]string
	msg     proto.Message
	raw     []byte
	// stored is when JetStream stored the message.
	stored time.Time
}

// readStream reads every message of the cluster's stream, from the first
// to the last stored when it is called, with an ordered consumer (what an
// analytics team would run).
func readStream(t *testing.T, c *cluster) []event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stream, err := c.js.Stream(ctx, c.Stream)
	require.NoError(t, err)
	info, err := stream.Info(ctx)
	require.NoError(t, err)
	last := info.State.LastSeq
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	var out []event
	for fetches := 0; len(out) == 0 || out[len(out)-1].seq < last; fetches++ {
		require.Less(t, fetches, int(last/100)+100, "reading %d messages", last)
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		require.NoError(t, err)
		for m := range batch.Messages() {
			meta, err := m.Metadata()
			require.NoError(t, err)
			h := map[string]string{}
			for k, v := range m.Headers() {
				require.Len(t, v, 1, "header %s of %s set once", k, m.Subject())
				h[k] = v[0]
			}
			out = append(out, event{seq: meta.Sequence.Stream, subject: m.Subject(), headers: h, raw: m.Data(), stored: meta.Timestamp})
		}
		require.NoError(t, batch.Error())
	}
	return out
}

// eventCounts are what the analytics consumer counts per tenant.
type eventCounts struct {
	people, enrolments, matchesAccepted, sessionsProposed, sessionsHeld, feedback, agreementsSigned, accessDenied int
}

// catalogue reads docs/events.md's event catalogue: ce-type → message name.
func catalogue(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("../../docs/events.md")
	require.NoError(t, err)
	rows := regexp.MustCompile("(?m)^\\| `(tandem\\.[a-z_]+\\.[a-z_]+)` \\| `([A-Za-z]+)` \\|").FindAllStringSubmatch(string(raw), -1)
	require.Greater(t, len(rows), 30, "the catalogue in docs/events.md")
	out := map[string]string{}
	for _, r := range rows {
		out[r[1]] = r[2]
	}
	return out
}

// checkEvents checks every event as the contract in docs/events.md
// promises, decodes each payload, and returns the counts per tenant.
//
//   - CloudEvents headers present; ce-id equal to Nats-Msg-Id and unique;
//   - subject <prefix>.<ce-tenant>.<aggregate>.<event>, ce-type
//     tandem.<aggregate>.<event>, listed in the catalogue with the message
//     ce-dataschema names;
//   - the payload decodes as that message with no unknown field;
//   - per aggregate (publisher, type, ce-subject) ce-time never goes back.
func checkEvents(t *testing.T, events []event) map[string]*eventCounts {
	t.Helper()
	cat := catalogue(t)
	ids := map[string]uint64{}
	lastTime := map[string]time.Time{}
	distinct := map[string]bool{}
	counts := map[string]*eventCounts{}
	var lags []time.Duration
	for i := range events {
		e := &events[i]
		h := e.headers
		where := fmt.Sprintf("event %d (%s, ce-id %s)", e.seq, e.subject, h["ce-id"])
		for _, k := range []string{"ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time", "ce-subject", "ce-tenant", "ce-datacontenttype", "ce-dataschema", "Nats-Msg-Id"} {
			require.NotEmpty(t, h[k], "%s: header %s", where, k)
		}
		require.Equal(t, "1.0", h["ce-specversion"], where)
		require.Equal(t, h["Nats-Msg-Id"], h["ce-id"], where)
		if prev, dup := ids[h["ce-id"]]; dup {
			t.Fatalf("%s: duplicate of stream sequence %d", where, prev)
		}
		ids[h["ce-id"]] = e.seq
		require.True(t, strings.HasPrefix(h["ce-source"], "tandem/"), where)
		require.Equal(t, "application/protobuf", h["ce-datacontenttype"], where)

		tokens := strings.Split(e.subject, ".")
		require.Len(t, tokens, 4, where)
		require.Equal(t, h["ce-tenant"], tokens[1], where)
		require.Equal(t, "tandem."+tokens[2]+"."+tokens[3], h["ce-type"], where)
		name, ok := cat[h["ce-type"]]
		require.True(t, ok, "%s: ce-type %s is not in docs/events.md", where, h["ce-type"])
		require.Equal(t, "proto:tandem.events.v1."+name, h["ce-dataschema"], where)
		mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName("tandem.events.v1." + name))
		require.NoError(t, err, where)
		e.msg = mt.New().Interface()
		require.NoError(t, proto.Unmarshal(e.raw, e.msg), where)
		require.Empty(t, e.msg.ProtoReflect().GetUnknown(), "%s: unknown fields", where)

		at, err := time.Parse(time.RFC3339Nano, h["ce-time"])
		require.NoError(t, err, where)
		aggregate := h["ce-source"] + " " + tokens[2] + " " + h["ce-subject"]
		require.False(t, at.Before(lastTime[aggregate]), "%s: ce-time %s before the previous event of %s (%s)", where, at, aggregate, lastTime[aggregate])
		lastTime[aggregate] = at
		lags = append(lags, e.stored.Sub(at))

		n := counts[h["ce-tenant"]]
		if n == nil {
			n = &eventCounts{}
			counts[h["ce-tenant"]] = n
		}
		first := !distinct[h["ce-type"]+" "+h["ce-subject"]]
		distinct[h["ce-type"]+" "+h["ce-subject"]] = true
		switch h["ce-type"] {
		case "tandem.person.created":
			n.people += b2i(first)
		case "tandem.participant.enrolled":
			n.enrolments += b2i(first)
		case "tandem.match.accepted":
			n.matchesAccepted += b2i(first)
		case "tandem.session.proposed":
			n.sessionsProposed += b2i(first)
		case "tandem.session.completed":
			n.sessionsHeld += b2i(first)
		case "tandem.feedback.submitted":
			n.feedback++
		case "tandem.audit.access_denied":
			n.accessDenied++
		case "tandem.agreement.signed":
			if e.msg.(*eventsv1.AgreementSigned).GetAgreement().GetState() == evaluationv1.AgreementState_AGREEMENT_STATE_SIGNED {
				n.agreementsSigned++
			}
		}
	}
	t.Logf("analytics consumer: %d events, %d distinct ids, %d aggregates, all headers, types and payloads valid", len(events), len(ids), len(lastTime))
	t.Logf("FIGURE outbox lag (ce-time to stored in JetStream) over %d events: p50 %s, p99 %s, max %s",
		len(lags), quantile(lags, 0.5), quantile(lags, 0.99), quantile(lags, 1))
	return counts
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
