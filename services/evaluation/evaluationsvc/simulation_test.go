package evaluationsvc_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/evaluation/evaluationsvc"
)

// simConsumeWithin bounds how long one service may take to apply the whole
// simulated program.
const simConsumeWithin = 80 * time.Second

// TestSimulatedProgramReport runs a program of 500 pairs through its
// events into the service on SQLite, checks every figure of the report
// against the plan's expectation, then replays the stream (the service's
// own events included) into a second service on an empty PostgreSQL
// database and requires the same report and CSV: so both stores are
// covered without applying the program four times.
func TestSimulatedProgramReport(t *testing.T) {
	plan := newSimPlan()
	events := plan.events()
	want := plan.report()
	t.Run("the plan", func(t *testing.T) {
		requireSimEvents(t, events)
		requireSimArithmetic(t, want)
	})

	h, client := startSimService(t, testkit.SQLiteURL(t))
	msgs, err := simMessages(events, h.Prefix)
	require.NoError(t, err)
	publishSim(t, h.JS, msgs)
	awaitSimConsumed(t, h)

	got := simReport(t, h, client)
	t.Run("every figure matches the plan", func(t *testing.T) {
		requireSimReport(t, want, got)
	})
	gotCSV := simCSV(t, h, client)
	t.Run("small segments are suppressed", func(t *testing.T) {
		requireSimSuppression(t, got, gotCSV)
	})

	t.Run("a replay into an empty PostgreSQL database gives the same report", func(t *testing.T) {
		h2, client2 := startSimService(t, testkit.PostgresURL(t))
		publishSim(t, h2.JS, copyStream(t, h, h2.Prefix))
		awaitSimConsumed(t, h2)
		replayed := simReport(t, h2, client2)
		require.True(t, proto.Equal(got, replayed), "replayed report differs (-first +replayed):\n%s",
			cmp.Diff(got, replayed, protocmp.Transform()))
		require.Equal(t, string(gotCSV), string(simCSV(t, h2, client2)), "replayed CSV")
	})
}

// startSimService runs the evaluation service on url with its clock at the
// end of the simulated program.
func startSimService(t *testing.T, url string) (*servicetest.Harness, evaluationv1.EvaluationServiceClient) {
	t.Helper()
	h := servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
		return evaluationsvc.Run(ctx, lis, evaluationsvc.Config{DatabaseURL: url, Now: func() time.Time { return simEnd }}, env)
	})
	return h, evaluationv1.NewEvaluationServiceClient(h.Conn)
}

// publishSim publishes msgs in order, asynchronously in batches, and
// waits for every acknowledgement.
func publishSim(t *testing.T, js jetstream.JetStream, msgs []*nats.Msg) {
	t.Helper()
	const batch = 1000
	var lastSeq uint64
	for start := 0; start < len(msgs); start += batch {
		futures := make([]jetstream.PubAckFuture, 0, batch)
		for _, m := range msgs[start:min(start+batch, len(msgs))] {
			f, err := js.PublishMsgAsync(m)
			require.NoError(t, err)
			futures = append(futures, f)
		}
		for _, f := range futures {
			select {
			case ack := <-f.Ok():
				require.False(t, ack.Duplicate, "message %s dropped as a duplicate", f.Msg().Header.Get(jetstream.MsgIDHeader))
				require.Greater(t, ack.Sequence, lastSeq, "messages stored out of order")
				lastSeq = ack.Sequence
			case err := <-f.Err():
				require.NoError(t, err, "publish %s", f.Msg().Subject)
			case <-time.After(servicetest.WaitFor):
				t.Fatalf("no acknowledgement for %s within %s", f.Msg().Subject, servicetest.WaitFor)
			}
		}
	}
}

// awaitSimConsumed waits until the service's consumer has acknowledged
// everything in the stream so far. The consumer applies messages one at a
// time in stream order.
func awaitSimConsumed(t *testing.T, h *servicetest.Harness) {
	t.Helper()
	stream, err := h.JS.Stream(t.Context(), h.Stream)
	require.NoError(t, err)
	info, err := stream.Info(t.Context())
	require.NoError(t, err)
	last := info.State.LastSeq
	start := time.Now()
	testkit.Eventually(t, simConsumeWithin, func() bool {
		cons, err := h.JS.Consumer(t.Context(), h.Stream, "evaluation")
		if err != nil {
			return false
		}
		info, err := cons.Info(t.Context())
		return err == nil && info.AckFloor.Stream >= last && info.NumAckPending == 0
	}, "the consumer did not acknowledge up to stream sequence %d", last)
	t.Logf("the service applied %d messages in %s", last, time.Since(start).Round(time.Millisecond))
}

// simReport reads the program's report as an analyst and requires it to be
// as of the last event.
func simReport(t *testing.T, h *servicetest.Harness, client evaluationv1.EvaluationServiceClient) *evaluationv1.ProgramReport {
	t.Helper()
	r, err := client.GetProgramReport(h.As(t, simTenant, auth.RoleAnalyst), &evaluationv1.GetProgramReportRequest{ProgramId: simProgram})
	require.NoError(t, err)
	require.Equal(t, simEnd, r.GetAsOfTime().AsTime(), "as_of_time")
	return r
}

// simCSV exports the program's report as a tenant admin.
func simCSV(t *testing.T, h *servicetest.Harness, client evaluationv1.EvaluationServiceClient) []byte {
	t.Helper()
	body, err := client.ExportProgramReport(h.As(t, simTenant, auth.RoleTenantAdmin), &evaluationv1.ExportProgramReportRequest{ProgramId: simProgram})
	require.NoError(t, err)
	require.Equal(t, "text/csv", strings.Split(body.GetContentType(), ";")[0], "content type")
	return body.GetData()
}

// requireSimReport compares the report group by group, so that a failure
// names each group whose figures differ.
func requireSimReport(t *testing.T, want, got *evaluationv1.ProgramReport) {
	t.Helper()
	diff := func(what string, want, got proto.Message) {
		t.Helper()
		if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
			t.Errorf("%s (-want +got):\n%s", what, d)
		}
	}
	require.Equal(t, want.GetProgramId(), got.GetProgramId())
	require.Equal(t, want.GetSuppressed(), got.GetSuppressed(), "program suppressed")
	diff("program figures", want.GetFigures(), got.GetFigures())

	var wantSegments, gotSegments []string
	for _, s := range want.GetSegments() {
		wantSegments = append(wantSegments, s.GetDimension()+"="+s.GetValue())
	}
	for _, s := range got.GetSegments() {
		gotSegments = append(gotSegments, s.GetDimension()+"="+s.GetValue())
	}
	require.Equal(t, wantSegments, gotSegments, "segments, in order")
	for i, s := range want.GetSegments() {
		diff("segment "+wantSegments[i], s, got.GetSegments()[i])
	}

	var wantWeeks, gotWeeks []time.Time
	for _, w := range want.GetWeeks() {
		wantWeeks = append(wantWeeks, w.GetWeekStartTime().AsTime())
	}
	for _, w := range got.GetWeeks() {
		gotWeeks = append(gotWeeks, w.GetWeekStartTime().AsTime())
	}
	require.Equal(t, wantWeeks, gotWeeks, "weeks")
	for i, w := range want.GetWeeks() {
		diff(fmt.Sprintf("week %d (%s)", i, wantWeeks[i].Format(time.DateOnly)), w, got.GetWeeks()[i])
	}
	require.True(t, proto.Equal(want, got), "the whole report")
}

// requireSimSuppression checks the small departments in the report and
// in the CSV export: Board (3 people) suppressed with no figures, Legal
// (exactly 5) shown.
func requireSimSuppression(t *testing.T, r *evaluationv1.ProgramReport, export []byte) {
	t.Helper()
	segment := func(dimension, value string) *evaluationv1.ReportSegment {
		for _, s := range r.GetSegments() {
			if s.GetDimension() == dimension && s.GetValue() == value {
				return s
			}
		}
		t.Fatalf("no segment %s=%s", dimension, value)
		return nil
	}
	board := segment("department", "Board")
	require.True(t, board.GetSuppressed())
	require.True(t, proto.Equal(&evaluationv1.ReportFigures{}, board.GetFigures()), "figures of a suppressed segment: %v", board.GetFigures())
	legal := segment("department", "Legal")
	require.False(t, legal.GetSuppressed())
	require.EqualValues(t, 5, legal.GetFigures().GetPeople())

	rows, err := csv.NewReader(bytes.NewReader(export)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2+len(r.GetSegments())+len(r.GetWeeks()), "header, program, segments and weeks")
	header := rows[0]
	figureColumns := map[int]string{}
	fields := (&evaluationv1.ReportFigures{}).ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		name := string(fields.Get(i).Name())
		col := slices.Index(header, name)
		require.GreaterOrEqual(t, col, 0, "no CSV column %s in %v", name, header)
		figureColumns[col] = name
	}
	row := func(value string) []string {
		for _, row := range rows[1:] {
			if slices.Contains(row, "department") && slices.Contains(row, value) {
				return row
			}
		}
		t.Fatalf("no CSV row for department %s", value)
		return nil
	}
	for col, name := range figureColumns {
		require.Empty(t, row("Board")[col], "Board's %s", name)
	}
	require.Equal(t, "5", row("Legal")[slices.Index(header, "people")], "Legal's people")
	require.Equal(t, "", row("Legal")[slices.Index(header, "mean_rating")], "Legal's mean rating: too few authors")
}

// requireSimEvents checks the plan's events: each aggregate's events in
// strictly increasing time, so that no projection has to break a tie, and
// one last event, at simEnd.
func requireSimEvents(t *testing.T, events []simEvent) {
	t.Helper()
	last := map[string]time.Time{}
	for _, e := range events {
		key := e.aggregate + "/" + e.subject
		require.True(t, e.time.After(last[key]), "%s: event %s at %s is not after the previous one", key, e.typ, e.time)
		last[key] = e.time
		require.False(t, e.time.Before(simStart), "%s %s before the start", key, e.typ)
	}
	require.Equal(t, simEnd, events[len(events)-1].time)
	require.True(t, events[len(events)-2].time.Before(simEnd), "only one event at simEnd")
	t.Logf("%d events", len(events))
}

// requireSimArithmetic checks the program figures that follow from the
// plan's formulas by hand, so that the expectation itself is checked.
func requireSimArithmetic(t *testing.T, want *evaluationv1.ProgramReport) {
	t.Helper()
	f := want.GetFigures()
	require.EqualValues(t, 1030, f.GetPeople(), "500 mentors, 500 mentees, 30 never paired")
	// Withdrawn: pool 25-29 (three mentors, two mentees), mentee-11, mentor-13.
	require.EqualValues(t, 500-1+15-3, f.GetEnrolledMentors())
	require.EqualValues(t, 500-1+15-2, f.GetEnrolledMentees())
	require.EqualValues(t, 7, f.GetWithdrawn())
	require.EqualValues(t, 998, f.GetMatched(), "both sides of 500 pairs but the two who withdrew")
	require.Equal(t, simRatio(998, 1023), f.GetMatchRate())
	require.EqualValues(t, 500, f.GetPairs(), "declined and proposed matches do not count")
	// Σ(60 + (i mod 41)/2) over 500 pairs: 12 cycles of 0..40 and 0..7.
	require.Equal(t, 60+(12*820+28)*0.5/500, f.GetMeanMatchScore())
	require.EqualValues(t, 100*(0+1+2+3+4), f.GetSessionsHeld(), "pair i holds i mod 5")
	require.Equal(t, 2.0, f.GetSessionsPerPair())
	require.EqualValues(t, 167*1+167*2+166*3, f.GetGoals(), "pair i has 1 + i mod 3 goals")
	require.Equal(t, simRatio(1030-11, 1030), f.GetRetentionRate(), "ten mentees and pool-20 terminated")
	require.NotNil(t, f.MeanRating)
	require.NotNil(t, f.Nps)
	require.NotNil(t, f.MeanUplift)

	require.Len(t, want.GetSegments(), 7+5, `six departments and "", four bands and the unknown band`)
	require.Len(t, want.GetWeeks(), 16)
	require.True(t, want.GetWeeks()[0].GetSuppressed(), "three people in the first week")
	require.False(t, want.GetWeeks()[1].GetSuppressed())
	require.True(t, proto.Equal(f, want.GetWeeks()[15].GetFigures()), "the last week is as of the end")
}

// copyStream reads every message of h's stream, in order, and returns
// copies with the same headers and payloads on subjects under prefix.
func copyStream(t *testing.T, h *servicetest.Harness, prefix string) []*nats.Msg {
	t.Helper()
	stream, err := h.JS.Stream(t.Context(), h.Stream)
	require.NoError(t, err)
	info, err := stream.Info(t.Context())
	require.NoError(t, err)
	last := info.State.LastSeq
	cons, err := h.JS.OrderedConsumer(t.Context(), h.Stream, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	var out []*nats.Msg
	for uint64(len(out)) < last {
		batch, err := cons.Fetch(int(min(1000, last-uint64(len(out)))), jetstream.FetchMaxWait(servicetest.WaitFor))
		require.NoError(t, err)
		before := len(out)
		for msg := range batch.Messages() {
			meta, err := msg.Metadata()
			require.NoError(t, err)
			if meta.Sequence.Stream > last {
				continue
			}
			require.EqualValues(t, len(out)+1, meta.Sequence.Stream, "stream sequence")
			m := nats.NewMsg(prefix + strings.TrimPrefix(msg.Subject(), h.Prefix))
			for k, v := range msg.Headers() {
				m.Header[k] = slices.Clone(v)
			}
			m.Data = slices.Clone(msg.Data())
			out = append(out, m)
		}
		require.NoError(t, batch.Error())
		require.Greater(t, len(out), before, "no progress reading the stream")
	}
	return out
}
