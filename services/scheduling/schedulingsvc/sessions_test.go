package schedulingsvc_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/scheduling/schedulingsvc"
)

// clock is a test clock shared by the service replicas.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// publish puts an event of another service on the harness's stream.
func publish(t *testing.T, h *servicetest.Harness, tenant, aggregate, id, typ string, payload proto.Message) {
	t.Helper()
	data, err := proto.Marshal(payload)
	require.NoError(t, err)
	msg := nats.NewMsg(h.Prefix + "." + tenant + "." + aggregate + "." + typ)
	msg.Data = data
	eventID := testkit.RandomName("ev")
	msg.Header.Set(nats.MsgIdHdr, eventID)
	msg.Header.Set(eventbus.HeaderID, eventID)
	msg.Header.Set(eventbus.HeaderType, "tandem."+aggregate+"."+typ)
	msg.Header.Set(eventbus.HeaderTenant, tenant)
	msg.Header.Set(eventbus.HeaderSource, "tandem/test")
	msg.Header.Set(eventbus.HeaderSubject, id)
	msg.Header.Set(eventbus.HeaderTime, time.Now().UTC().Format(time.RFC3339Nano))
	_, err = h.JS.PublishMsg(t.Context(), msg)
	require.NoError(t, err)
}

// events returns the payloads of the stream's events of one type, in order.
func events[T any, P interface {
	*T
	proto.Message
}](t *testing.T, h *servicetest.Harness, tenant, typ string) []P {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cons, err := h.JS.OrderedConsumer(ctx, h.Stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{h.Prefix + "." + tenant + "." + typ}})
	require.NoError(t, err)
	batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(time.Second))
	require.NoError(t, err)
	var out []P
	for m := range batch.Messages() {
		p := P(new(T))
		require.NoError(t, proto.Unmarshal(m.Data(), p))
		out = append(out, p)
	}
	return out
}

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// TestSessionsAPI drives sessions, series, rooms, reminders, feeds and the
// consumed events through the gRPC API, on both stores, with two replicas
// of the service sharing the database, the stream and a test clock.
func TestSessionsAPI(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		clk := &clock{now: time.Date(2027, 3, 8, 12, 0, 0, 0, time.UTC)} // a Monday
		cfg := schedulingsvc.Config{DatabaseURL: url, Now: clk.Now, ReminderPoll: 50 * time.Millisecond, PageTokenKey: []byte("0123456789abcdef0123456789abcdef")}
		h := servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
			return schedulingsvc.Run(ctx, lis, cfg, env)
		})
		// A second replica on the same database and stream.
		servicetest.StartWith(t, h, func(ctx context.Context, lis net.Listener, env platform.Env) error {
			return schedulingsvc.Run(ctx, lis, cfg, env)
		})
		client := schedulingv1.NewSchedulingServiceClient(h.Conn)
		tenant := testkit.RandomName("acme")
		admin := h.As(t, tenant, auth.RoleTenantAdmin)

		const mentor, mentee, other = "p-mentor", "p-mentee", "p-other"
		publish(t, h, tenant, "program", "prog-1", "created", &eventsv1.ProgramCreated{Program: &participantv1.Program{
			Id: "prog-1", MeetingCadence: participantv1.MeetingCadence_MEETING_CADENCE_MONTHLY}})
		for id, pair := range map[string][2]string{"m-1": {mentor, mentee}, "m-2": {other, mentee}} {
			publish(t, h, tenant, "match", id, "accepted", &eventsv1.MatchAccepted{Match: &matchingv1.Match{
				Id: id, ProgramId: "prog-1", State: matchingv1.MatchState_MATCH_STATE_ACCEPTED,
				MentorPersonId: pair[0], MenteePersonId: pair[1]}})
		}
		weekdays := func(start, end string) []*schedulingv1.WeeklyWindow {
			var ws []*schedulingv1.WeeklyWindow
			for d := schedulingv1.DayOfWeek_DAY_OF_WEEK_MONDAY; d <= schedulingv1.DayOfWeek_DAY_OF_WEEK_FRIDAY; d++ {
				ws = append(ws, window(d, start, end))
			}
			return ws
		}
		for _, person := range []string{mentor, mentee, other} {
			publish(t, h, tenant, "person", person, "created", &eventsv1.PersonCreated{Person: &participantv1.Person{Id: person, Subject: person}})
		}
		for person, zone := range map[string]string{mentor: "America/New_York", mentee: "Europe/London", other: "Asia/Kathmandu"} {
			start, end := "14:00", "17:00"
			if person == mentor {
				start, end = "09:00", "12:00"
			}
			var err error
			testkit.Eventually(t, servicetest.WaitFor, func() bool {
				_, err = client.SetAvailability(admin, &schedulingv1.SetAvailabilityRequest{Availability: &schedulingv1.Availability{
					PersonId: person, TimeZone: zone, Windows: weekdays(start, end)}})
				return err == nil
			}, "availability of %s: %v", person, err)
		}

		t.Run("slots follow both zones across the US daylight-saving change", func(t *testing.T) {
			var resp *schedulingv1.SuggestSlotsResponse
			testkit.Eventually(t, servicetest.WaitFor, func() bool {
				var err error
				resp, err = client.SuggestSlots(admin, &schedulingv1.SuggestSlotsRequest{MatchId: "m-1", Weeks: 2, Limit: 100})
				return err == nil
			}, "the match's event reached the service")
			require.NotEmpty(t, resp.GetSlots())
			usDST := time.Date(2027, 3, 14, 7, 0, 0, 0, time.UTC)
			var before, after int
			for _, s := range resp.GetSlots() {
				start, end := s.GetStartTime().AsTime(), s.GetEndTime().AsTime()
				// London 14:00–17:00 is 14:00–17:00Z; New York 09:00–12:00 is
				// 14:00–17:00Z before 14 March and 13:00–16:00Z after.
				lastEnd := 17
				if start.After(usDST) {
					lastEnd, after = 16, after+1
				} else {
					before++
				}
				require.GreaterOrEqual(t, start.Hour(), 14, "%v", start)
				require.LessOrEqual(t, end.Hour()*60+end.Minute(), lastEnd*60, "%v–%v", start, end)
			}
			require.Positive(t, before)
			require.Positive(t, after)
		})

		var series *schedulingv1.Series
		t.Run("a monthly series keeps the proposer's wall-clock time", func(t *testing.T) {
			var err error
			series, err = client.CreateSeries(admin, &schedulingv1.CreateSeriesRequest{MatchId: "m-1", PersonId: mentee,
				FirstStartTime: ts(time.Date(2027, 3, 10, 14, 0, 0, 0, time.UTC)), DurationMinutes: 60, Occurrences: 3})
			require.NoError(t, err)
			require.Equal(t, schedulingv1.Cadence_CADENCE_MONTHLY, series.GetCadence(), "the program's cadence")
			// 14:00 in London: GMT in March, BST in April and May.
			want := []time.Time{
				time.Date(2027, 3, 10, 14, 0, 0, 0, time.UTC),
				time.Date(2027, 4, 10, 13, 0, 0, 0, time.UTC),
				time.Date(2027, 5, 10, 13, 0, 0, 0, time.UTC),
			}
			require.Len(t, series.GetSessions(), 3)
			for i, s := range series.GetSessions() {
				require.Equal(t, want[i], s.GetStartTime().AsTime(), "session %d", i)
				require.Equal(t, schedulingv1.SessionState_SESSION_STATE_PROPOSED, s.GetState())
			}
			require.Len(t, events[eventsv1.SessionProposed](t, h, tenant, "session.proposed"), 3)
			require.Len(t, events[eventsv1.SeriesCreated](t, h, tenant, "series.created"), 1)
		})

		t.Run("only the other side confirms", func(t *testing.T) {
			_, err := client.ConfirmSession(admin, &schedulingv1.ConfirmSessionRequest{Id: series.GetSessions()[0].GetId(), PersonId: mentee})
			require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
			got, err := client.ConfirmSession(admin, &schedulingv1.ConfirmSessionRequest{Id: series.GetSessions()[0].GetId(), PersonId: mentor, WholeSeries: true})
			require.NoError(t, err)
			require.Equal(t, schedulingv1.SessionState_SESSION_STATE_CONFIRMED, got.GetState())
			list, err := client.ListSessions(admin, &schedulingv1.ListSessionsRequest{MatchId: "m-1"})
			require.NoError(t, err)
			for _, s := range list.GetSessions() {
				require.Equal(t, schedulingv1.SessionState_SESSION_STATE_CONFIRMED, s.GetState())
			}
			require.Len(t, events[eventsv1.SessionConfirmed](t, h, tenant, "session.confirmed"), 3)
		})

		t.Run("no double booking of a person or a room", func(t *testing.T) {
			first := series.GetSessions()[0]
			_, err := client.CreateSession(admin, &schedulingv1.CreateSessionRequest{MatchId: "m-2", PersonId: other,
				StartTime: ts(first.GetStartTime().AsTime().Add(30 * time.Minute)), EndTime: ts(first.GetEndTime().AsTime().Add(30 * time.Minute))})
			require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
			require.Contains(t, status.Convert(err).Message(), first.GetId())

			room, err := client.CreateRoom(admin, &schedulingv1.CreateRoomRequest{Room: &schedulingv1.Room{DisplayName: "Ada", Location: "London HQ", Capacity: 4}})
			require.NoError(t, err)
			at := time.Date(2027, 3, 22, 15, 0, 0, 0, time.UTC)
			_, err = client.CreateSession(admin, &schedulingv1.CreateSessionRequest{MatchId: "m-1", PersonId: mentor,
				StartTime: ts(at), EndTime: ts(at.Add(time.Hour)), RoomId: room.GetId()})
			require.NoError(t, err)
			_, err = client.CreateSession(admin, &schedulingv1.CreateSessionRequest{MatchId: "m-2", PersonId: other,
				StartTime: ts(at.Add(-time.Hour)), EndTime: ts(at.Add(-time.Hour + 15*time.Minute))})
			require.NoError(t, err, "the mentee is free then")
			_, err = client.CreateSession(admin, &schedulingv1.CreateSessionRequest{MatchId: "m-2", PersonId: other,
				StartTime: ts(at.Add(30 * time.Minute)), EndTime: ts(at.Add(90 * time.Minute)), RoomId: room.GetId()})
			require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
		})

		t.Run("invalid requests name the field", func(t *testing.T) {
			at := time.Date(2027, 6, 1, 15, 0, 0, 0, time.UTC)
			tests := []struct {
				name  string
				req   *schedulingv1.CreateSessionRequest
				field string
			}{
				{"in the past", &schedulingv1.CreateSessionRequest{MatchId: "m-1", PersonId: mentor, StartTime: ts(clk.Now().Add(-time.Hour)), EndTime: ts(clk.Now())}, "start_time"},
				{"too short", &schedulingv1.CreateSessionRequest{MatchId: "m-1", PersonId: mentor, StartTime: ts(at), EndTime: ts(at.Add(5 * time.Minute))}, "end_time"},
				{"end before start", &schedulingv1.CreateSessionRequest{MatchId: "m-1", PersonId: mentor, StartTime: ts(at), EndTime: ts(at.Add(-time.Hour))}, "end_time"},
				{"not in the match", &schedulingv1.CreateSessionRequest{MatchId: "m-1", PersonId: other, StartTime: ts(at), EndTime: ts(at.Add(time.Hour))}, "person_id"},
				{"unknown room", &schedulingv1.CreateSessionRequest{MatchId: "m-1", PersonId: mentor, StartTime: ts(at), EndTime: ts(at.Add(time.Hour)), RoomId: "nope"}, "room_id"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := client.CreateSession(admin, tt.req)
					servicetest.RequireFieldViolation(t, err, tt.field)
				})
			}
			_, err := client.CreateSession(admin, &schedulingv1.CreateSessionRequest{MatchId: "m-unknown", PersonId: mentor, StartTime: ts(at), EndTime: ts(at.Add(time.Hour))})
			require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
		})

		t.Run("reschedule proposes the new time and bumps the sequence", func(t *testing.T) {
			s := series.GetSessions()[1]
			moved := s.GetStartTime().AsTime().Add(48 * time.Hour)
			got, err := client.RescheduleSession(admin, &schedulingv1.RescheduleSessionRequest{Id: s.GetId(), PersonId: mentor,
				StartTime: ts(moved), EndTime: ts(moved.Add(time.Hour)), Reason: "conference"})
			require.NoError(t, err)
			require.Equal(t, schedulingv1.SessionState_SESSION_STATE_PROPOSED, got.GetState())
			require.Equal(t, mentor, got.GetProposedByPersonId())
			require.EqualValues(t, 2, got.GetSequence())
			evs := events[eventsv1.SessionRescheduled](t, h, tenant, "session.rescheduled")
			require.Len(t, evs, 1)
			require.Equal(t, s.GetStartTime().AsTime(), evs[0].GetPreviousStartTime().AsTime())
		})

		t.Run("each reminder fires once with two replicas running", func(t *testing.T) {
			first := series.GetSessions()[0].GetStartTime().AsTime()
			clk.Set(first.Add(-time.Hour + time.Second))
			var due []*eventsv1.SessionReminderDue
			testkit.Eventually(t, servicetest.WaitFor, func() bool {
				due = events[eventsv1.SessionReminderDue](t, h, tenant, "session.reminder_due")
				return len(due) >= 2
			}, "the first session's reminders fired")
			// Later reminders (a day before the two sessions of 22 March)
			// fire after the replicas looked many times: still two for the
			// first session.
			clk.Set(time.Date(2027, 3, 21, 15, 0, 1, 0, time.UTC))
			testkit.Eventually(t, servicetest.WaitFor, func() bool {
				due = events[eventsv1.SessionReminderDue](t, h, tenant, "session.reminder_due")
				return len(due) >= 4
			}, "the later reminders fired")
			require.Len(t, due, 4)
			due = due[:2]
			got := map[time.Duration]string{}
			for _, d := range due {
				got[d.GetOffset().AsDuration()] = d.GetSession().GetId()
			}
			id := series.GetSessions()[0].GetId()
			require.Equal(t, map[time.Duration]string{24 * time.Hour: id, time.Hour: id}, got)
		})

		t.Run("outcomes only after the start", func(t *testing.T) {
			_, err := client.CompleteSession(admin, &schedulingv1.CompleteSessionRequest{Id: series.GetSessions()[2].GetId()})
			require.Equal(t, codes.FailedPrecondition, status.Code(err), "May's session has not started: %v", err)
			_, err = client.MarkNoShow(admin, &schedulingv1.MarkNoShowRequest{Id: series.GetSessions()[0].GetId(), AbsentPersonId: other})
			servicetest.RequireFieldViolation(t, err, "absent_person_id")
			id := series.GetSessions()[0].GetId()
			got, err := client.CompleteSession(admin, &schedulingv1.CompleteSessionRequest{Id: id})
			require.NoError(t, err)
			require.Equal(t, schedulingv1.SessionState_SESSION_STATE_COMPLETED, got.GetState())
		})

		var feed string
		t.Run("the calendar feed needs only its token", func(t *testing.T) {
			token, err := client.CreateCalendarToken(admin, &schedulingv1.CreateCalendarTokenRequest{PersonId: mentee})
			require.NoError(t, err)
			require.Len(t, token.GetToken(), 43, "256 random bits")
			got, err := client.GetCalendarFeed(t.Context(), &schedulingv1.GetCalendarFeedRequest{Token: token.GetToken()})
			require.NoError(t, err, "no bearer token needed")
			require.Contains(t, got.GetIcs(), "UID:"+series.GetSessions()[2].GetId()+"@tandem")
			feed = token.GetToken()
			_, err = client.GetCalendarFeed(t.Context(), &schedulingv1.GetCalendarFeedRequest{Token: "x" + feed[1:]})
			require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
			_, err = client.ListCalendarTokens(t.Context(), &schedulingv1.ListCalendarTokensRequest{PersonId: mentee})
			require.Equal(t, codes.Unauthenticated, status.Code(err), "other methods still need a token: %v", err)
		})

		t.Run("an ended match cancels its future sessions", func(t *testing.T) {
			publish(t, h, tenant, "match", "m-1", "ended", &eventsv1.MatchEnded{Match: &matchingv1.Match{
				Id: "m-1", ProgramId: "prog-1", State: matchingv1.MatchState_MATCH_STATE_ENDED, EndReason: "mentee left",
				MentorPersonId: mentor, MenteePersonId: mentee}})
			testkit.Eventually(t, servicetest.WaitFor, func() bool {
				s, err := client.GetSession(admin, &schedulingv1.GetSessionRequest{Id: series.GetSessions()[2].GetId()})
				return err == nil && s.GetState() == schedulingv1.SessionState_SESSION_STATE_CANCELLED
			}, "the last session is cancelled")
			done, err := client.GetSession(admin, &schedulingv1.GetSessionRequest{Id: series.GetSessions()[0].GetId()})
			require.NoError(t, err)
			require.Equal(t, schedulingv1.SessionState_SESSION_STATE_COMPLETED, done.GetState(), "the past stays")
			last, err := client.GetSession(admin, &schedulingv1.GetSessionRequest{Id: series.GetSessions()[2].GetId()})
			require.NoError(t, err)
			require.Contains(t, last.GetCancelReason(), "mentee left")
		})

		t.Run("an erased person loses availability and feed tokens", func(t *testing.T) {
			publish(t, h, tenant, "person", mentee, "erased", &eventsv1.PersonErased{PersonId: mentee})
			testkit.Eventually(t, servicetest.WaitFor, func() bool {
				_, err := client.GetCalendarFeed(t.Context(), &schedulingv1.GetCalendarFeedRequest{Token: feed})
				return status.Code(err) == codes.NotFound
			}, "the feed is gone")
			// The person is gone: their availability with them.
			_, err := client.GetAvailability(admin, &schedulingv1.GetAvailabilityRequest{PersonId: mentee})
			require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
		})
	})
}
