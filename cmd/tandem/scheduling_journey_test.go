package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// TestSchedulingJourney is the scheduling issue's acceptance test, through
// the gateway of a running `tandem dev`: a mentor in New York and a mentee
// in London get slot suggestions that are right in both time zones, book a
// weekly series, reschedule one session, see it in their calendar feeds
// (parsed with an independent iCalendar library), and each reminder event
// arrives once, also across a restart.
func TestSchedulingJourney(t *testing.T) {
	dataDir := t.TempDir()
	addrs, stop := startDev(t, dataDir)
	base := "http://" + addrs.HTTP
	tenant := testkit.RandomName("t")
	admin := runCLI(t, "token", "--data-dir", dataDir, "--tenant", tenant, "--role", "tenant_admin", "--subject", "admin@acme.example")
	call := func(method, path, body string) map[string]any {
		t.Helper()
		code, out := httpDo(t, method, base+path, admin, body)
		require.Equal(t, http.StatusOK, code, "%s %s: %v", method, path, out)
		return out
	}

	// A reverse program meeting weekly, a New York mentor and a London
	// mentee, matched by hand and accepted by both.
	call(http.MethodPost, "/v1/skills", `{"id":"genai","displayName":"Generative AI"}`)
	now := time.Now().UTC()
	program := call(http.MethodPost, "/v1/programs", fmt.Sprintf(
		`{"displayName":"AI for leaders","type":"PROGRAM_TYPE_REVERSE","maxMentorCapacity":2,"meetingCadence":"MEETING_CADENCE_WEEKLY",`+
			`"enrollmentOpenTime":%q,"enrollmentCloseTime":%q}`,
		now.Add(-time.Hour).Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339)))
	programID := program["id"].(string)
	call(http.MethodPost, "/v1/programs/"+programID+":transition", `{"state":"PROGRAM_STATE_ENROLLING"}`)
	csv := "hris_id,display_name,email,department,title,seniority_level,time_zone,languages,role,competencies,development_areas,work_style,communication_style,motivation,capacity\n" +
		"J1,Jo Junior,jo@acme.example,Engineering,Analyst,2,America/New_York,en,mentor,genai:4,,structured,direct,teach,1\n" +
		"S1,Sam Senior,sam@acme.example,Finance,Director,9,Europe/London,en,mentee,,genai:1:3,exploratory,direct,learn,\n"
	request, err := json.Marshal(map[string]any{"csv": base64.StdEncoding.EncodeToString([]byte(csv)), "programId": programID})
	require.NoError(t, err)
	job := call(http.MethodPost, "/v1/imports", string(request))
	testkit.Eventually(t, time.Minute, func() bool {
		job = call(http.MethodGet, "/v1/imports/"+job["id"].(string), "")
		return job["state"] != "IMPORT_STATE_RUNNING"
	}, "import finished: %v", job)
	require.Equal(t, "IMPORT_STATE_SUCCEEDED", job["state"], "job: %v", job)
	call(http.MethodPost, "/v1/programs/"+programID+":transition", `{"state":"PROGRAM_STATE_MATCHING"}`)
	list := call(http.MethodGet, "/v1/programs/"+programID+"/participants", "")
	var mentorPart, menteePart, mentor, mentee string
	for _, p := range list["participants"].([]any) {
		p := p.(map[string]any)
		if p["role"] == "PARTICIPANT_ROLE_MENTOR" {
			mentorPart, mentor = p["id"].(string), p["personId"].(string)
		} else {
			menteePart, mentee = p["id"].(string), p["personId"].(string)
		}
	}
	var match map[string]any
	testkit.Eventually(t, time.Minute, func() bool {
		var code int
		code, match = httpDo(t, http.MethodPost, base+"/v1/programs/"+programID+"/matches", admin,
			fmt.Sprintf(`{"mentorParticipantId":%q,"menteeParticipantId":%q}`, mentorPart, menteePart))
		return code == http.StatusOK
	}, "the matching service knows both participants: %v", match)
	matchID := match["id"].(string)
	for _, part := range []string{mentorPart, menteePart} {
		match = call(http.MethodPost, "/v1/matches/"+matchID+":accept", fmt.Sprintf(`{"participantId":%q}`, part))
	}
	require.Equal(t, "MATCH_STATE_ACCEPTED", match["state"])

	// Availability in each person's own zone: New York mornings, London
	// afternoons, the London mentee preferring 14:00–16:00.
	weekdays := []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"}
	// windows lists each span (start, end, "preferred" or "") on every weekday.
	windows := func(spans ...[3]string) string {
		var ws []string
		for _, d := range weekdays {
			for _, sp := range spans {
				ws = append(ws, fmt.Sprintf(`{"day":"DAY_OF_WEEK_%s","start":%q,"end":%q,"preferred":%t}`, d, sp[0], sp[1], sp[2] == "preferred"))
			}
		}
		return "[" + strings.Join(ws, ",") + "]"
	}
	call(http.MethodPut, "/v1/people/"+mentor+"/availability", fmt.Sprintf(
		`{"personId":%q,"timeZone":"America/New_York","windows":%s,"workingHours":%s}`,
		mentor, windows([3]string{"08:00", "12:00", ""}), windows([3]string{"08:00", "17:00", ""})))
	call(http.MethodPut, "/v1/people/"+mentee+"/availability", fmt.Sprintf(
		`{"personId":%q,"timeZone":"Europe/London","windows":%s}`,
		mentee, windows([3]string{"13:00", "14:00", ""}, [3]string{"14:00", "16:00", "preferred"})))

	// Suggestions, from two days on: once the match's events have reached
	// the scheduling service.
	from := now.Add(48 * time.Hour).Truncate(time.Hour)
	slotsURL := base + "/v1/matches/" + matchID + "/slots?weeks=2&durationMinutes=60&limit=10&startTime=" + from.Format(time.RFC3339)
	var slots map[string]any
	testkit.Eventually(t, time.Minute, func() bool {
		var code int
		code, slots = httpDo(t, http.MethodGet, slotsURL, admin, "")
		return code == http.StatusOK
	}, "slots: %v", slots)
	newYork, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	london, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	got := slots["slots"].([]any)
	require.NotEmpty(t, got)
	clock := func(t time.Time) string { return t.Format("15:04") }
	for _, s := range got {
		s := s.(map[string]any)
		start, end := parseTime(t, s["startTime"]), parseTime(t, s["endTime"])
		require.Equal(t, time.Hour, end.Sub(start))
		ny, ldn := start.In(newYork), start.In(london)
		require.Equal(t, ny.Format(time.RFC3339), s["mentorLocalStart"])
		require.Equal(t, ldn.Format(time.RFC3339), s["menteeLocalStart"])
		for _, local := range []time.Time{ny, ldn} {
			require.NotContains(t, []time.Weekday{time.Saturday, time.Sunday}, local.Weekday(), "slot %v", s)
		}
		// New York 08:00–12:00 and London 13:00–16:00, both as local clocks.
		require.True(t, clock(ny) >= "08:00" && clock(end.In(newYork)) <= "12:00", "mentor's morning: %v", s)
		require.True(t, clock(ldn) >= "13:00" && clock(end.In(london)) <= "16:00", "mentee's afternoon: %v", s)
		require.False(t, start.Before(from))
	}
	best := got[0].(map[string]any)
	require.Contains(t, best["reasons"], "in the mentee's preferred windows", "the best slot is in the mentee's preferred hours: %v", best)

	// A weekly series at the best slot (cadence from the program), proposed
	// by the mentee and confirmed at once by the mentor.
	first := parseTime(t, best["startTime"])
	series := call(http.MethodPost, "/v1/matches/"+matchID+"/series", fmt.Sprintf(
		`{"personId":%q,"firstStartTime":%q,"durationMinutes":60,"occurrences":4}`, mentee, first.Format(time.RFC3339)))
	require.Equal(t, "CADENCE_WEEKLY", series["cadence"])
	sessions := series["sessions"].([]any)
	require.Len(t, sessions, 4)
	var ids []string
	for k, s := range sessions {
		s := s.(map[string]any)
		ids = append(ids, s["id"].(string))
		start := parseTime(t, s["startTime"])
		require.Equal(t, clock(first.In(london)), clock(start.In(london)), "weekly at the same London time")
		require.Equal(t, first.In(london).AddDate(0, 0, 7*k).Format("2006-01-02"), start.In(london).Format("2006-01-02"))
		require.Equal(t, "SESSION_STATE_PROPOSED", s["state"])
	}
	confirmed := call(http.MethodPost, "/v1/sessions/"+ids[0]+":confirm", fmt.Sprintf(`{"personId":%q,"wholeSeries":true}`, mentor))
	require.Equal(t, "SESSION_STATE_CONFIRMED", confirmed["state"])
	listed := call(http.MethodGet, "/v1/sessions?matchId="+matchID, "")
	require.Len(t, listed["sessions"], 4)
	for _, s := range listed["sessions"].([]any) {
		require.Equal(t, "SESSION_STATE_CONFIRMED", s.(map[string]any)["state"])
	}

	// The mentee cannot be double-booked: another session over the first
	// one is refused and changes nothing.
	code, body := httpDo(t, http.MethodPost, base+"/v1/matches/"+matchID+"/sessions", admin, fmt.Sprintf(
		`{"personId":%q,"startTime":%q,"endTime":%q}`, mentor, first.Add(30*time.Minute).Format(time.RFC3339), first.Add(90*time.Minute).Format(time.RFC3339)))
	require.Equal(t, http.StatusBadRequest, code, "FailedPrecondition: %v", body)
	require.Contains(t, body["message"], ids[0])

	// The mentor moves the second session by a day; the mentee confirms.
	second := parseTime(t, sessions[1].(map[string]any)["startTime"])
	moved := second.Add(24 * time.Hour)
	rescheduled := call(http.MethodPost, "/v1/sessions/"+ids[1]+":reschedule", fmt.Sprintf(
		`{"personId":%q,"startTime":%q,"endTime":%q,"reason":"travelling to Boston; same time next day"}`,
		mentor, moved.Format(time.RFC3339), moved.Add(time.Hour).Format(time.RFC3339)))
	require.Equal(t, "SESSION_STATE_PROPOSED", rescheduled["state"])
	require.Equal(t, mentor, rescheduled["proposedByPersonId"])
	rescheduled = call(http.MethodPost, "/v1/sessions/"+ids[1]+":confirm", fmt.Sprintf(`{"personId":%q}`, mentee))
	require.Equal(t, "SESSION_STATE_CONFIRMED", rescheduled["state"])
	require.EqualValues(t, 3, rescheduled["sequence"], "confirmed, rescheduled, confirmed")

	// Both calendar feeds show the four sessions with stable UIDs, the
	// moved one at its new time with a higher SEQUENCE.
	feeds := map[string]string{}
	for _, person := range []string{mentor, mentee} {
		token := call(http.MethodPost, "/v1/people/"+person+"/calendarTokens", `{}`)
		require.NotEmpty(t, token["token"])
		feeds[person] = token["feedPath"].(string)
		events := readFeed(t, base+feeds[person], http.StatusOK)
		require.Len(t, events, 4)
		for k, id := range ids {
			ev := events[id+"@tandem"]
			require.NotNil(t, ev, "session %d in %s's feed", k, person)
			require.Equal(t, "CONFIRMED", ev.Props.Get(ical.PropStatus).Value)
			start, err := ev.DateTimeStart(time.UTC)
			require.NoError(t, err)
			want := parseTime(t, sessions[k].(map[string]any)["startTime"])
			wantSeq := "1"
			if k == 1 {
				want, wantSeq = moved, "3"
			}
			require.True(t, want.Equal(start), "session %d starts %v, want %v", k, start, want)
			require.Equal(t, wantSeq, ev.Props.Get(ical.PropSequence).Value)
		}
	}

	// Reminders: with the default offsets (24 h and 1 h before), moving the
	// third session to just over an hour from now and the fourth to just
	// over a day makes one reminder of each due in seconds.
	nc, err := nats.Connect(addrs.NATS)
	require.NoError(t, err)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	reminders := func(stream jetstream.JetStream) map[string][]time.Duration {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cons, err := stream.OrderedConsumer(ctx, "TANDEM", jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{"tandem." + tenant + ".session.reminder_due"}})
		require.NoError(t, err)
		out := map[string][]time.Duration{}
		batch, err := cons.Fetch(100, jetstream.FetchMaxWait(2*time.Second))
		require.NoError(t, err)
		for m := range batch.Messages() {
			require.Equal(t, "tandem.session.reminder_due", m.Headers().Get("ce-type"))
			var ev eventsv1.SessionReminderDue
			require.NoError(t, proto.Unmarshal(m.Data(), &ev))
			require.Equal(t, m.Headers().Get("ce-subject"), ev.GetSession().GetId())
			out[ev.GetSession().GetId()] = append(out[ev.GetSession().GetId()], ev.GetOffset().AsDuration())
		}
		return out
	}
	soon := time.Now().UTC().Add(time.Hour + 3*time.Second).Truncate(time.Second)
	later := time.Now().UTC().Add(24*time.Hour + 4*time.Second).Truncate(time.Second)
	for id, start := range map[string]time.Time{ids[2]: soon, ids[3]: later} {
		call(http.MethodPost, "/v1/sessions/"+id+":reschedule", fmt.Sprintf(
			`{"personId":%q,"startTime":%q,"endTime":%q,"reason":"sooner"}`, mentee, start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339)))
	}
	want := map[string][]time.Duration{ids[2]: {time.Hour}, ids[3]: {24 * time.Hour}}
	var fired map[string][]time.Duration
	testkit.Eventually(t, 30*time.Second, func() bool {
		fired = reminders(js)
		return len(fired[ids[2]]) > 0 && len(fired[ids[3]]) > 0
	}, "both reminders fired: %v", fired)
	require.Equal(t, want, reminders(js), "each reminder once; none for the sessions days away")
	nc.Close()

	// Across a restart on the same data, nothing fires again.
	stop()
	addrs, _ = startDev(t, dataDir)
	base = "http://" + addrs.HTTP
	nc, err = nats.Connect(addrs.NATS)
	require.NoError(t, err)
	defer nc.Close()
	js, err = jetstream.New(nc)
	require.NoError(t, err)
	require.Equal(t, want, reminders(js), "still each reminder once after a restart")

	// A cancelled session shows as cancelled in the feed; a revoked token
	// stops working.
	cancelled := call(http.MethodPost, "/v1/sessions/"+ids[3]+":cancel", fmt.Sprintf(`{"personId":%q,"reason":"board meeting"}`, mentee))
	require.Equal(t, "SESSION_STATE_CANCELLED", cancelled["state"])
	events := readFeed(t, base+feeds[mentor], http.StatusOK)
	require.Equal(t, "CANCELLED", events[ids[3]+"@tandem"].Props.Get(ical.PropStatus).Value)
	tokens := call(http.MethodGet, "/v1/people/"+mentor+"/calendarTokens", "")
	require.Len(t, tokens["tokens"], 1)
	require.Empty(t, tokens["tokens"].([]any)[0].(map[string]any)["token"], "the secret is shown once")
	call(http.MethodPost, "/v1/people/"+mentor+"/calendarTokens/"+tokens["tokens"].([]any)[0].(map[string]any)["id"].(string)+":revoke", `{}`)
	readFeed(t, base+feeds[mentor], http.StatusNotFound)
	readFeed(t, base+"/v1/calendars/not-a-real-token-at-all-000000000.ics", http.StatusNotFound)
}

// readFeed fetches a calendar feed without credentials, as a calendar
// application does, and parses it with an independent iCalendar library;
// it returns the events by UID.
func readFeed(t *testing.T, url string, wantCode int) map[string]*ical.Event {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, wantCode, resp.StatusCode, "body: %s", raw)
	if wantCode != http.StatusOK {
		return nil
	}
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar"))
	cal, err := ical.NewDecoder(strings.NewReader(string(raw))).Decode()
	require.NoError(t, err)
	out := map[string]*ical.Event{}
	for _, ev := range cal.Events() {
		uid, err := ev.Props.Text(ical.PropUID)
		require.NoError(t, err)
		out[uid] = &ev
	}
	return out
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "a timestamp: %v", v)
	ts, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return ts.UTC()
}
