package evaluationsvc_test

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
)

// The simulated program: 500 mentors paired with 500 mentees (pair i is
// mentor-i with mentee-i), 30 more participants who are never paired, over
// 16 weeks from Monday 2026-01-05. Everything it holds follows from the
// formulas in newSimPlan, so the expected report (simPlan.report) is worked
// out from the plan by the report's definitions alone, without the
// service's code; the service sees only the events (simMessages).
const (
	simTenant  = "simco"
	simProgram = "prog-sim"
	simPairs   = 500
	simPool    = 30
	// simMinGroup is the smallest group a report shows (MinGroupSize).
	simMinGroup = 5
)

const day = 24 * time.Hour

var (
	// simStart is the Monday 09:00 UTC the directory is loaded.
	simStart = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	// simEnd is the time of the last event, a pulse response: the report's
	// AsOf. Every other time of the plan is earlier.
	simEnd = simStart.Add(108*day + 8*time.Hour)
)

// simPersonState is one version of a person in the directory.
type simPersonState struct {
	time       time.Time
	dept       string
	title      string
	employment participantv1.EmploymentStatus
}

type simPerson struct {
	id    string
	level int // seniority, 0 when unknown
	// history is every version, oldest first; the first is person.created,
	// the others person.updated.
	history   []simPersonState
	eraseTime time.Time
}

// dept is the person's department at the end (what segments group by).
func (p *simPerson) dept() string { return p.history[len(p.history)-1].dept }

// terminateTime is when the person was first TERMINATED (no person of the
// plan is employed again afterwards).
func (p *simPerson) terminateTime() time.Time {
	for _, s := range p.history {
		if s.employment == participantv1.EmploymentStatus_EMPLOYMENT_STATUS_TERMINATED {
			return s.time
		}
	}
	return time.Time{}
}

func (p *simPerson) erased() bool { return !p.eraseTime.IsZero() }

type simParticipant struct {
	id     string
	person *simPerson
	mentor bool
	skills []string
	// enrolTime is the participant.enrolled event; updateTime a later
	// participant.updated (still ENROLLED), zero when none.
	enrolTime, updateTime, withdrawTime time.Time
}

type simMatch struct {
	id             string
	mentor, mentee *simParticipant
	score          float64
	// acceptTime is when the pair starts to count: the match.accepted
	// event, or the match.activated event of a pair that had none
	// (acceptEvent false).
	acceptEvent                                                 bool
	proposeTime, acceptTime, activateTime, declineTime, endTime time.Time
}

type simSession struct {
	id                                                 string
	match                                              *simMatch
	start                                              time.Time
	proposeTime, confirmTime, completeTime, cancelTime time.Time
}

type simFeedback struct {
	id         string
	session    *simSession
	author     *simPerson
	rating     int
	submitTime time.Time
}

type simPulse struct {
	id             string
	match          *simMatch
	person         *simPerson
	day, recommend int
	submitTime     time.Time
}

type simGoal struct {
	id    string
	match *simMatch
	// progressTime: an update to 50% (still open); completeTime and
	// abandonTime: the goal.updated that closed it. Zero when none.
	createTime, progressTime, completeTime, abandonTime time.Time
}

type simLevel struct {
	skill string
	level int
}

type simAssessment struct {
	participant *simParticipant
	post        bool
	levels      []simLevel
	submitTime  time.Time
	// draft is an earlier submission of the phase that the final one
	// replaced (nil when none); the service keeps only the final levels.
	draft     []simLevel
	draftTime time.Time
}

type simAgreement struct {
	match                                      *simMatch
	createTime, mentorSignTime, menteeSignTime time.Time
}

// simPlan is the whole simulated program.
type simPlan struct {
	people       []*simPerson
	participants []*simParticipant
	matches      []*simMatch
	sessions     []*simSession
	feedback     []*simFeedback
	pulse        []*simPulse
	goals        []*simGoal
	assessments  []*simAssessment
	agreements   []*simAgreement
}

var simDepartments = []string{"Engineering", "Finance", "Operations", "Sales"}

// newSimPlan lays out the program. Person j (0-999) is mentor j for j < 500
// and mentee j-500 otherwise; persons 1000-1029 are the pool.
func newSimPlan() *simPlan {
	p := &simPlan{}
	active := participantv1.EmploymentStatus_EMPLOYMENT_STATUS_ACTIVE
	terminated := participantv1.EmploymentStatus_EMPLOYMENT_STATUS_TERMINATED
	leave := participantv1.EmploymentStatus_EMPLOYMENT_STATUS_LEAVE
	for j := range 2*simPairs + simPool {
		dept := simDepartments[(j/3)%4]
		switch {
		case j >= 1000 && j <= 1002: // three people: a suppressed segment
			dept = "Board"
		case j == 0 || j == 1 || (j >= 1003 && j <= 1005): // exactly five: shown
			dept = "Legal"
		case j >= 520 && j <= 522 || j == 1006 || j == 1007: // five without a department
			dept = ""
		}
		level := 1 + (j*5)%12
		if j%97 == 0 {
			level = 0 // unknown: the seniority band "L0"
		}
		created := simPersonState{time: simStart.Add(time.Duration(j) * time.Second), dept: dept, title: "Staff", employment: active}
		p.people = append(p.people, &simPerson{id: fmt.Sprintf("person-%04d", j), level: level, history: []simPersonState{created}})
	}
	change := func(j int, at time.Time, edit func(*simPersonState)) {
		s := p.people[j].history[len(p.people[j].history)-1]
		s.time = at
		edit(&s)
		p.people[j].history = append(p.people[j].history, s)
	}
	change(40, simStart.Add(49*day), func(s *simPersonState) { s.dept = "Operations" }) // from Finance
	for i := 3; i < simPairs; i += 50 {
		change(500+i, simStart.Add(56*day+time.Duration(i)*time.Minute), func(s *simPersonState) { s.employment = terminated })
	}
	// Still TERMINATED: the termination time stays the first one.
	change(553, simStart.Add(84*day), func(s *simPersonState) { s.title = "Former staff" })
	change(1020, simStart.Add(35*day), func(s *simPersonState) { s.employment = terminated })
	change(600, simStart.Add(42*day+time.Hour), func(s *simPersonState) { s.employment = leave })
	change(601, simStart.Add(42*day+2*time.Hour), func(s *simPersonState) { s.employment = leave })
	change(601, simStart.Add(49*day+2*time.Hour), func(s *simPersonState) { s.employment = active })
	erased := p.people[507] // mentee of pair 7
	erased.eraseTime = simStart.Add(70 * day)

	// Participants: three mentors enrol in week 0, everyone else in week 1.
	mentors := make([]*simParticipant, simPairs)
	mentees := make([]*simParticipant, simPairs)
	pool := make([]*simParticipant, simPool)
	var late []*simParticipant
	for i := range simPairs {
		mentors[i] = &simParticipant{id: fmt.Sprintf("mentor-%03d", i), person: p.people[i], mentor: true, skills: []string{"skill-c"}}
		if i < 3 {
			mentors[i].enrolTime = simStart.Add(time.Duration(i+1) * time.Hour)
		} else {
			late = append(late, mentors[i])
		}
	}
	for i := range simPairs {
		mentees[i] = &simParticipant{id: fmt.Sprintf("mentee-%03d", i), person: p.people[500+i], skills: []string{"skill-a", "skill-b"}}
		late = append(late, mentees[i])
		if i%100 == 0 {
			mentees[i].updateTime = simStart.Add(21*day + time.Duration(i)*time.Minute)
		}
	}
	for k := range simPool {
		pool[k] = &simParticipant{id: fmt.Sprintf("pool-%02d", k), person: p.people[1000+k], mentor: k%2 == 1, skills: []string{"skill-a"}}
		late = append(late, pool[k])
		if k >= 25 {
			pool[k].withdrawTime = simStart.Add(28*day + time.Duration(k)*time.Hour)
		}
	}
	for n, pt := range late {
		pt.enrolTime = simStart.Add(7*day + time.Duration(n)*30*time.Second)
	}
	mentees[11].withdrawTime = simStart.Add(63 * day) // a matched mentee leaves
	mentors[13].withdrawTime = simStart.Add(84 * day)
	p.participants = slices.Concat(mentors, mentees, pool)

	// Pairs.
	for i := range simPairs {
		m := &simMatch{
			id: fmt.Sprintf("match-%03d", i), mentor: mentors[i], mentee: mentees[i],
			score:       60 + float64(i%41)*0.5,
			proposeTime: simStart.Add(13*day + time.Duration(i)*30*time.Second),
			acceptEvent: true,
		}
		switch {
		case i%10 == 9: // accepted two weeks later
			m.acceptTime = simStart.Add(28*day + time.Duration(i)*time.Minute)
			m.activateTime = m.acceptTime.Add(day)
		case i%100 == 17: // activated without an accept event
			m.acceptEvent = false
			m.activateTime = simStart.Add(15*day + time.Duration(i)*time.Minute)
			m.acceptTime = m.activateTime
		default:
			m.acceptTime = simStart.Add(14*day + time.Duration(i)*time.Minute)
			m.activateTime = m.acceptTime.Add(day)
		}
		if i%25 == 24 {
			m.endTime = simStart.Add(91*day + time.Duration(i)*time.Minute)
		}
		p.matches = append(p.matches, m)
	}
	for k := range 4 { // declined: never a pair
		p.matches = append(p.matches, &simMatch{
			id: fmt.Sprintf("match-d-%d", k), mentor: pool[9+2*k], mentee: pool[8+2*k], score: 40 + float64(k),
			proposeTime: simStart.Add(13*day + time.Duration(k)*time.Hour),
			declineTime: simStart.Add(17*day + time.Duration(k)*time.Hour),
		})
	}
	p.matches = append(p.matches, &simMatch{ // proposed, never answered
		id: "match-p-0", mentor: pool[17], mentee: pool[16], score: 55, proposeTime: simStart.Add(98 * day),
	})

	for i, m := range p.matches[:simPairs] {
		a := m.acceptTime
		// Sessions: pair i holds i%5, two weeks apart from a week after
		// acceptance; every 7th cancels one; every 11th has one booked
		// after the end of the data.
		for k := range i % 5 {
			s := &simSession{
				id: fmt.Sprintf("session-%03d-%d", i, k), match: m,
				start:       a.Add(time.Duration(7+14*k) * day),
				proposeTime: m.activateTime.Add(time.Hour + time.Duration(k)*time.Minute),
			}
			s.confirmTime = s.proposeTime.Add(2 * time.Hour)
			s.completeTime = s.start.Add(90 * time.Minute)
			p.sessions = append(p.sessions, s)
			p.feedback = append(p.feedback, &simFeedback{
				id: fmt.Sprintf("feedback-%03d-%d-mentor", i, k), session: s, author: m.mentor.person,
				rating: 5 - (i+k)%3, submitTime: s.completeTime.Add(time.Hour),
			})
			if i%3 != 0 && !m.mentee.person.erased() {
				p.feedback = append(p.feedback, &simFeedback{
					id: fmt.Sprintf("feedback-%03d-%d-mentee", i, k), session: s, author: m.mentee.person,
					rating: 1 + (i+2*k+1)%5, submitTime: s.completeTime.Add(3 * time.Hour),
				})
			}
		}
		if i%7 == 0 {
			s := &simSession{id: fmt.Sprintf("session-%03d-x", i), match: m, start: a.Add(10 * day), proposeTime: a.Add(2 * day)}
			s.cancelTime = a.Add(3 * day)
			p.sessions = append(p.sessions, s)
		}
		if i%11 == 0 && m.endTime.IsZero() {
			s := &simSession{id: fmt.Sprintf("session-%03d-f", i), match: m, start: simEnd.Add(2 * day),
				proposeTime: simStart.Add(105*day + time.Duration(i)*time.Minute)}
			s.confirmTime = s.proposeTime.Add(time.Hour)
			p.sessions = append(p.sessions, s)
		}

		// Pulse surveys on day 30 (the mentor, and three mentees in four)
		// and day 60 (every 6th mentor: their newest answer counts).
		p.pulse = append(p.pulse, &simPulse{id: fmt.Sprintf("pulse-%03d-mentor-30", i), match: m, person: m.mentor.person,
			day: 30, recommend: (i * 7) % 11, submitTime: a.Add(30*day + 2*time.Hour)})
		if i%4 != 0 && !m.mentee.person.erased() {
			p.pulse = append(p.pulse, &simPulse{id: fmt.Sprintf("pulse-%03d-mentee-30", i), match: m, person: m.mentee.person,
				day: 30, recommend: (i*3 + 5) % 11, submitTime: a.Add(30*day + 5*time.Hour)})
		}
		if i%6 == 0 {
			p.pulse = append(p.pulse, &simPulse{id: fmt.Sprintf("pulse-%03d-mentor-60", i), match: m, person: m.mentor.person,
				day: 60, recommend: (i + 4) % 11, submitTime: a.Add(60*day + 2*time.Hour)})
		}

		// Goals: 1 + i%3 per pair; by (i+j)%4 completed, moved to 50%,
		// abandoned (even pairs) or left open.
		for j := range 1 + i%3 {
			g := &simGoal{id: fmt.Sprintf("goal-%03d-%d", i, j), match: m, createTime: a.Add(time.Duration(3+j)*day + time.Hour)}
			switch {
			case (i+j)%4 == 0:
				g.completeTime = a.Add(time.Duration(35+3*j+i%7)*day + 2*time.Hour)
			case (i+j)%4 == 1:
				g.progressTime = a.Add(20 * day)
			case (i+j)%4 == 2 && i%2 == 0:
				g.abandonTime = a.Add(40 * day)
			}
			p.goals = append(p.goals, g)
		}

		if i%50 == 0 {
			p.agreements = append(p.agreements, &simAgreement{match: m, createTime: a.Add(2 * day),
				mentorSignTime: a.Add(2*day + time.Hour), menteeSignTime: a.Add(3 * day)})
		}
	}
	p.pulse = append(p.pulse, &simPulse{id: "pulse-001-mentee-90", match: p.matches[1], person: mentees[1].person,
		day: 90, recommend: 10, submitTime: simEnd})

	// Self-assessments: every mentee but the erased one a PRE; a POST
	// for four in five (not the withdrawn mentee), every 7th first sent as
	// a draft and then corrected; every 10th mentor both on skill-c.
	for i, pt := range mentees {
		if pt.person.erased() {
			continue
		}
		pre := []simLevel{{"skill-a", i % 3}, {"skill-b", (i + 1) % 3}}
		p.assessments = append(p.assessments, &simAssessment{participant: pt, levels: pre, submitTime: pt.enrolTime.Add(day)})
		if i%5 == 0 || !pt.withdrawTime.IsZero() {
			continue
		}
		post := &simAssessment{participant: pt, post: true,
			levels:     []simLevel{{"skill-a", i%3 + i%4}, {"skill-b", (i+1)%3 + i%2}},
			submitTime: simStart.Add(98*day + time.Duration(i)*time.Minute)}
		if i%9 == 0 { // a skill without a PRE level: no uplift
			post.levels = append(post.levels, simLevel{"skill-z", 3})
		}
		if i%7 == 0 {
			post.draft = pre
			post.draftTime = simStart.Add(91*day + time.Duration(i)*time.Minute)
		}
		p.assessments = append(p.assessments, post)
	}
	for i := 0; i < simPairs; i += 10 {
		pt := mentors[i]
		p.assessments = append(p.assessments,
			&simAssessment{participant: pt, levels: []simLevel{{"skill-c", 3}}, submitTime: pt.enrolTime.Add(day)},
			&simAssessment{participant: pt, post: true, levels: []simLevel{{"skill-c", 4}},
				submitTime: simStart.Add(100*day + time.Duration(i)*time.Minute)})
	}
	return p
}

// simEvent is one event of the plan before it becomes a NATS message.
type simEvent struct {
	time      time.Time
	aggregate string // e.g. "participant"
	typ       string // e.g. "enrolled"
	subject   string // ce-subject: the aggregate's id
	payload   proto.Message
}

// events returns every event of the plan, oldest first.
func (p *simPlan) events() []simEvent {
	var evs []simEvent
	add := func(at time.Time, aggregate, typ, subject string, payload proto.Message) {
		evs = append(evs, simEvent{time: at, aggregate: aggregate, typ: typ, subject: subject, payload: payload})
	}
	// The program first: the reports of an unknown program are NotFound.
	add(simStart, "program", "created", simProgram, &eventsv1.ProgramCreated{Program: &participantv1.Program{Id: simProgram}})
	for _, pe := range p.people {
		for n, s := range pe.history {
			person := &participantv1.Person{Id: pe.id, DisplayName: "Person " + pe.id, Department: s.dept, Title: s.title,
				SeniorityLevel: int32(pe.level), EmploymentStatus: s.employment, TimeZone: "UTC"}
			if n == 0 {
				add(s.time, "person", "created", pe.id, &eventsv1.PersonCreated{Person: person})
			} else {
				add(s.time, "person", "updated", pe.id, &eventsv1.PersonUpdated{Person: person})
			}
		}
		if pe.erased() {
			add(pe.eraseTime, "person", "erased", pe.id, &eventsv1.PersonErased{PersonId: pe.id, EraseTime: timestamppb.New(pe.eraseTime)})
		}
	}
	for _, pt := range p.participants {
		msg := func(state participantv1.ParticipantState) *participantv1.Participant {
			role := participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE
			if pt.mentor {
				role = participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR
			}
			pb := &participantv1.Participant{Id: pt.id, ProgramId: simProgram, PersonId: pt.person.id, Role: role, State: state}
			for _, s := range pt.skills {
				pb.DevelopmentAreas = append(pb.DevelopmentAreas, &participantv1.DevelopmentArea{SkillId: s, TargetLevel: 4})
			}
			return pb
		}
		enrolled := participantv1.ParticipantState_PARTICIPANT_STATE_ENROLLED
		add(pt.enrolTime, "participant", "enrolled", pt.id, &eventsv1.ParticipantEnrolled{Participant: msg(enrolled)})
		if !pt.updateTime.IsZero() {
			add(pt.updateTime, "participant", "updated", pt.id, &eventsv1.ParticipantUpdated{Participant: msg(enrolled)})
		}
		if !pt.withdrawTime.IsZero() {
			add(pt.withdrawTime, "participant", "withdrawn", pt.id, &eventsv1.ParticipantWithdrawn{
				Participant: msg(participantv1.ParticipantState_PARTICIPANT_STATE_WITHDRAWN), Reason: "simulated"})
		}
	}
	for _, m := range p.matches {
		msg := func(state matchingv1.MatchState, at time.Time) *matchingv1.Match {
			return &matchingv1.Match{Id: m.id, ProgramId: simProgram, MentorParticipantId: m.mentor.id, MenteeParticipantId: m.mentee.id,
				MentorPersonId: m.mentor.person.id, MenteePersonId: m.mentee.person.id, State: state, Score: m.score,
				CreateTime: timestamppb.New(m.proposeTime), UpdateTime: timestamppb.New(at),
				MentorAccepted: state != matchingv1.MatchState_MATCH_STATE_PROPOSED && state != matchingv1.MatchState_MATCH_STATE_DECLINED,
				MenteeAccepted: state != matchingv1.MatchState_MATCH_STATE_PROPOSED && state != matchingv1.MatchState_MATCH_STATE_DECLINED}
		}
		add(m.proposeTime, "match", "proposed", m.id, &eventsv1.MatchProposed{Match: msg(matchingv1.MatchState_MATCH_STATE_PROPOSED, m.proposeTime)})
		if m.acceptEvent && !m.acceptTime.IsZero() {
			add(m.acceptTime, "match", "accepted", m.id, &eventsv1.MatchAccepted{Match: msg(matchingv1.MatchState_MATCH_STATE_ACCEPTED, m.acceptTime)})
		}
		if !m.activateTime.IsZero() {
			add(m.activateTime, "match", "activated", m.id, &eventsv1.MatchActivated{Match: msg(matchingv1.MatchState_MATCH_STATE_ACTIVE, m.activateTime)})
		}
		if !m.declineTime.IsZero() {
			declined := msg(matchingv1.MatchState_MATCH_STATE_DECLINED, m.declineTime)
			declined.DeclinedByParticipantId, declined.DeclineReason = m.mentee.id, "simulated"
			add(m.declineTime, "match", "declined", m.id, &eventsv1.MatchDeclined{Match: declined})
		}
		if !m.endTime.IsZero() {
			ended := msg(matchingv1.MatchState_MATCH_STATE_ENDED, m.endTime)
			ended.EndReason = "simulated"
			add(m.endTime, "match", "ended", m.id, &eventsv1.MatchEnded{Match: ended})
		}
	}
	for _, s := range p.sessions {
		msg := func(state schedulingv1.SessionState, at time.Time) *schedulingv1.Session {
			return &schedulingv1.Session{Id: s.id, MatchId: s.match.id, StartTime: timestamppb.New(s.start), EndTime: timestamppb.New(s.start.Add(time.Hour)),
				State: state, MentorPersonId: s.match.mentor.person.id, MenteePersonId: s.match.mentee.person.id,
				ProposedByPersonId: s.match.mentor.person.id, CreateTime: timestamppb.New(s.proposeTime), UpdateTime: timestamppb.New(at)}
		}
		add(s.proposeTime, "session", "proposed", s.id, &eventsv1.SessionProposed{Session: msg(schedulingv1.SessionState_SESSION_STATE_PROPOSED, s.proposeTime)})
		if !s.confirmTime.IsZero() {
			add(s.confirmTime, "session", "confirmed", s.id, &eventsv1.SessionConfirmed{Session: msg(schedulingv1.SessionState_SESSION_STATE_CONFIRMED, s.confirmTime)})
		}
		if !s.completeTime.IsZero() {
			add(s.completeTime, "session", "completed", s.id, &eventsv1.SessionCompleted{Session: msg(schedulingv1.SessionState_SESSION_STATE_COMPLETED, s.completeTime)})
		}
		if !s.cancelTime.IsZero() {
			cancelled := msg(schedulingv1.SessionState_SESSION_STATE_CANCELLED, s.cancelTime)
			cancelled.CancelledByPersonId, cancelled.CancelReason = s.match.mentee.person.id, "simulated"
			add(s.cancelTime, "session", "cancelled", s.id, &eventsv1.SessionCancelled{Session: cancelled})
		}
	}

	// The evaluation service's own events, as an earlier instance of it
	// published them: each at the time its payload names.
	for _, f := range p.feedback {
		add(f.submitTime, "feedback", "submitted", f.id, &eventsv1.FeedbackSubmitted{Feedback: &evaluationv1.Feedback{
			Id: f.id, SessionId: f.session.id, MatchId: f.session.match.id, ProgramId: simProgram, AuthorPersonId: f.author.id,
			Rating: int32(f.rating), Tags: []string{"prepared"}, Comment: "Useful.", SubmitTime: timestamppb.New(f.submitTime)}})
	}
	for _, r := range p.pulse {
		add(r.submitTime, "pulse_response", "submitted", r.id, &eventsv1.PulseResponseSubmitted{Response: &evaluationv1.PulseResponse{
			Id: r.id, MatchId: r.match.id, ProgramId: simProgram, PersonId: r.person.id, Day: int32(r.day),
			Satisfaction: int32(1 + r.recommend/3), Recommend: int32(r.recommend), SubmitTime: timestamppb.New(r.submitTime)}})
	}
	for _, g := range p.goals {
		goal := func(state evaluationv1.GoalState, revision, progress int32, at time.Time) *evaluationv1.Goal {
			return &evaluationv1.Goal{Id: g.id, MatchId: g.match.id, ProgramId: simProgram, Title: "Goal " + g.id,
				ProgressPercent: progress, State: state, Revision: revision, AuthorPersonId: g.match.mentor.person.id,
				CreateTime: timestamppb.New(g.createTime), UpdateTime: timestamppb.New(at)}
		}
		add(g.createTime, "goal", "created", g.id, &eventsv1.GoalCreated{Goal: goal(evaluationv1.GoalState_GOAL_STATE_OPEN, 1, 0, g.createTime)})
		switch {
		case !g.progressTime.IsZero():
			add(g.progressTime, "goal", "updated", g.id, &eventsv1.GoalUpdated{Goal: goal(evaluationv1.GoalState_GOAL_STATE_OPEN, 2, 50, g.progressTime)})
		case !g.abandonTime.IsZero():
			add(g.abandonTime, "goal", "updated", g.id, &eventsv1.GoalUpdated{Goal: goal(evaluationv1.GoalState_GOAL_STATE_ABANDONED, 2, 20, g.abandonTime)})
		case !g.completeTime.IsZero():
			done := goal(evaluationv1.GoalState_GOAL_STATE_COMPLETED, 2, 100, g.completeTime)
			done.CompleteTime = timestamppb.New(g.completeTime)
			add(g.completeTime, "goal", "updated", g.id, &eventsv1.GoalUpdated{Goal: done})
		}
	}
	for _, a := range p.assessments {
		msg := func(levels []simLevel, at time.Time) *eventsv1.SelfAssessmentSubmitted {
			phase := evaluationv1.AssessmentPhase_ASSESSMENT_PHASE_PRE
			if a.post {
				phase = evaluationv1.AssessmentPhase_ASSESSMENT_PHASE_POST
			}
			pb := &evaluationv1.SelfAssessment{ParticipantId: a.participant.id, ProgramId: simProgram, PersonId: a.participant.person.id,
				Phase: phase, SubmitTime: timestamppb.New(at)}
			for _, l := range levels {
				pb.Levels = append(pb.Levels, &evaluationv1.SkillLevel{SkillId: l.skill, Level: int32(l.level)})
			}
			return &eventsv1.SelfAssessmentSubmitted{Assessment: pb}
		}
		if a.draft != nil {
			add(a.draftTime, "self_assessment", "submitted", a.participant.id, msg(a.draft, a.draftTime))
		}
		add(a.submitTime, "self_assessment", "submitted", a.participant.id, msg(a.levels, a.submitTime))
	}
	for _, a := range p.agreements {
		m := a.match
		agreement := func(mentorSign, menteeSign, at time.Time) *evaluationv1.Agreement {
			pb := &evaluationv1.Agreement{MatchId: m.id, ProgramId: simProgram, Version: 1,
				Terms:          &evaluationv1.AgreementTerms{TopicScope: "Career", Confidentiality: "Private", MeetingStructure: "Biweekly"},
				State:          evaluationv1.AgreementState_AGREEMENT_STATE_DRAFT,
				MentorPersonId: m.mentor.person.id, MenteePersonId: m.mentee.person.id, AuthorPersonId: m.mentor.person.id,
				CreateTime: timestamppb.New(a.createTime), UpdateTime: timestamppb.New(at)}
			if !mentorSign.IsZero() {
				pb.MentorSignTime = timestamppb.New(mentorSign)
			}
			if !menteeSign.IsZero() {
				pb.MenteeSignTime = timestamppb.New(menteeSign)
				pb.State = evaluationv1.AgreementState_AGREEMENT_STATE_SIGNED
			}
			return pb
		}
		add(a.createTime, "agreement", "created", m.id, &eventsv1.AgreementCreated{Agreement: agreement(time.Time{}, time.Time{}, a.createTime)})
		add(a.mentorSignTime, "agreement", "signed", m.id, &eventsv1.AgreementSigned{
			Agreement: agreement(a.mentorSignTime, time.Time{}, a.mentorSignTime), PersonId: m.mentor.person.id})
		add(a.menteeSignTime, "agreement", "signed", m.id, &eventsv1.AgreementSigned{
			Agreement: agreement(a.mentorSignTime, a.menteeSignTime, a.menteeSignTime), PersonId: m.mentee.person.id})
	}
	sort.SliceStable(evs, func(a, b int) bool { return evs[a].time.Before(evs[b].time) })
	return evs
}

// simMessages turns the events into JetStream messages on prefix, with the
// headers the outbox relay would set and deterministic event ids.
func simMessages(evs []simEvent, prefix string) ([]*nats.Msg, error) {
	msgs := make([]*nats.Msg, 0, len(evs))
	for n, e := range evs {
		data, err := proto.Marshal(e.payload)
		if err != nil {
			return nil, fmt.Errorf("marshal %s.%s %s: %w", e.aggregate, e.typ, e.subject, err)
		}
		id := fmt.Sprintf("sim-%06d", n+1)
		m := nats.NewMsg(strings.Join([]string{prefix, simTenant, e.aggregate, e.typ}, "."))
		m.Data = data
		m.Header.Set(jetstream.MsgIDHeader, id)
		m.Header.Set(eventbus.HeaderSpecVersion, "1.0")
		m.Header.Set(eventbus.HeaderID, id)
		m.Header.Set(eventbus.HeaderSource, "tandem/simulation")
		m.Header.Set(eventbus.HeaderType, "tandem."+e.aggregate+"."+e.typ)
		m.Header.Set(eventbus.HeaderTime, e.time.UTC().Format(time.RFC3339Nano))
		m.Header.Set(eventbus.HeaderSubject, e.subject)
		m.Header.Set(eventbus.HeaderTenant, simTenant)
		m.Header.Set(eventbus.HeaderDataContentType, "application/protobuf")
		m.Header.Set(eventbus.HeaderDataSchema, "proto:"+string(proto.MessageName(e.payload)))
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// report is the report the plan must produce, worked out from the
// definitions of evaluation.Report: every figure as of simEnd, segments
// by the people's final attributes (erased people in none), weeks from
// the week of simStart to the week of simEnd at each week's end.
func (p *simPlan) report() *evaluationv1.ProgramReport {
	r := &evaluationv1.ProgramReport{ProgramId: simProgram, AsOfTime: timestamppb.New(simEnd)}
	everyone := func(*simPerson) bool { return true }
	r.Figures = p.figures(everyone, simEnd)
	r.Suppressed = r.Figures.GetPeople() < simMinGroup
	if r.Suppressed {
		r.Figures = &evaluationv1.ReportFigures{}
	}
	type key struct{ dimension, value string }
	groups := map[key]bool{}
	for _, pe := range p.people {
		if !pe.erased() {
			groups[key{"department", pe.dept()}] = true
			groups[key{"seniority_band", simBand(pe.level)}] = true
		}
	}
	var keys []key
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].dimension != keys[b].dimension {
			return keys[a].dimension < keys[b].dimension
		}
		return keys[a].value < keys[b].value
	})
	for _, k := range keys {
		in := func(pe *simPerson) bool {
			if pe.erased() {
				return false
			}
			if k.dimension == "department" {
				return pe.dept() == k.value
			}
			return simBand(pe.level) == k.value
		}
		s := &evaluationv1.ReportSegment{Dimension: k.dimension, Value: k.value, Figures: p.figures(in, simEnd)}
		if s.Figures.GetPeople() < simMinGroup {
			s.Suppressed, s.Figures = true, &evaluationv1.ReportFigures{}
		}
		r.Segments = append(r.Segments, s)
	}
	for start := simWeekStart(simStart); !start.After(simEnd); start = start.Add(7 * day) {
		end := start.Add(7*day - time.Microsecond)
		if end.After(simEnd) {
			end = simEnd
		}
		w := &evaluationv1.ReportWeek{WeekStartTime: timestamppb.New(start), Figures: p.figures(everyone, end)}
		if w.Figures.GetPeople() < simMinGroup {
			w.Suppressed, w.Figures = true, &evaluationv1.ReportFigures{}
		}
		r.Weeks = append(r.Weeks, w)
	}
	return r
}

// figures are the figures of the people in (by evaluation.Figures) at t.
func (p *simPlan) figures(in func(*simPerson) bool, t time.Time) *evaluationv1.ReportFigures {
	f := &evaluationv1.ReportFigures{}
	counts := func(m *simMatch) bool { return simAt(m.acceptTime, t) && !simAt(m.declineTime, t) }
	paired := map[*simParticipant]bool{}
	pairs := map[*simMatch]bool{}
	var scoreSum float64
	for _, m := range p.matches {
		if !counts(m) {
			continue
		}
		paired[m.mentor], paired[m.mentee] = true, true
		if in(m.mentor.person) || in(m.mentee.person) {
			pairs[m] = true
			scoreSum += m.score
		}
	}
	people := map[*simPerson]bool{}
	for _, pt := range p.participants {
		if !in(pt.person) {
			continue
		}
		if simAt(pt.enrolTime, t) {
			people[pt.person] = true
		}
		enrolled := simAt(pt.enrolTime, t) && !simAt(pt.withdrawTime, t)
		switch {
		case enrolled && pt.mentor:
			f.EnrolledMentors++
		case enrolled:
			f.EnrolledMentees++
		}
		if simAt(pt.withdrawTime, t) {
			f.Withdrawn++
		}
		if enrolled && paired[pt] {
			f.Matched++
		}
	}
	f.People = int32(len(people))
	f.MatchRate = simRatio(float64(f.Matched), float64(f.EnrolledMentors+f.EnrolledMentees))
	f.Pairs = int32(len(pairs))
	f.MeanMatchScore = simRatio(scoreSum, float64(f.Pairs))

	for _, s := range p.sessions {
		if pairs[s.match] && simAt(s.completeTime, t) {
			f.SessionsHeld++
		}
	}
	f.SessionsPerPair = simRatio(float64(f.SessionsHeld), float64(f.Pairs))

	var ratingSum int
	authors := map[*simPerson]bool{}
	for _, fb := range p.feedback {
		if pairs[fb.session.match] && in(fb.author) && simAt(fb.submitTime, t) {
			f.Ratings++
			ratingSum += fb.rating
			authors[fb.author] = true
		}
	}
	if len(authors) >= simMinGroup {
		f.MeanRating = proto.Float64(simRatio(float64(ratingSum), float64(f.Ratings)))
	}

	newest := map[*simPerson]*simPulse{}
	for _, r := range p.pulse {
		if !pairs[r.match] || !in(r.person) || !simAt(r.submitTime, t) {
			continue
		}
		cur := newest[r.person]
		if cur == nil || r.submitTime.After(cur.submitTime) || (r.submitTime.Equal(cur.submitTime) && r.id > cur.id) {
			newest[r.person] = r
		}
	}
	f.NpsRespondents = int32(len(newest))
	if f.NpsRespondents >= simMinGroup {
		var promoters, detractors int
		for _, r := range newest {
			switch {
			case r.recommend >= 9:
				promoters++
			case r.recommend <= 6:
				detractors++
			}
		}
		f.Nps = proto.Float64(simRatio(100*float64(promoters-detractors), float64(f.NpsRespondents)))
	}

	for _, g := range p.goals {
		if pairs[g.match] && simAt(g.createTime, t) {
			f.Goals++
			if simAt(g.completeTime, t) {
				f.GoalsCompleted++
			}
		}
	}
	f.GoalCompletionRate = simRatio(float64(f.GoalsCompleted), float64(f.Goals))

	phases := map[*simParticipant][2]*simAssessment{}
	for _, a := range p.assessments {
		ph := phases[a.participant]
		if a.post {
			ph[1] = a
		} else {
			ph[0] = a
		}
		phases[a.participant] = ph
	}
	assessed := map[*simPerson]bool{}
	var upliftSum, uplifts int
	for pt, ph := range phases {
		pre, post := ph[0], ph[1]
		if !in(pt.person) || pre == nil || post == nil || !simAt(pre.submitTime, t) || !simAt(post.submitTime, t) {
			continue
		}
		for _, before := range pre.levels {
			for _, after := range post.levels {
				if after.skill == before.skill {
					assessed[pt.person] = true
					upliftSum += after.level - before.level
					uplifts++
				}
			}
		}
	}
	f.AssessedPeople = int32(len(assessed))
	if f.AssessedPeople >= simMinGroup {
		f.MeanUplift = proto.Float64(simRatio(float64(upliftSum), float64(uplifts)))
	}

	var retained int
	for pe := range people {
		if !simAt(pe.terminateTime(), t) {
			retained++
		}
	}
	f.RetentionRate = simRatio(float64(retained), float64(f.People))
	return f
}

// simAt reports whether x is set and at or before t.
func simAt(x, t time.Time) bool { return !x.IsZero() && !x.After(t) }

// simRatio is n/d rounded to 4 decimals, 0 when d is 0.
func simRatio(n, d float64) float64 {
	if d == 0 {
		return 0
	}
	return math.Round(n/d*1e4) / 1e4
}

// simBand is the seniority band of a level, "L0" when unknown (as the
// matching service names them; see evaluation.SeniorityBand).
func simBand(level int) string {
	switch {
	case level <= 0:
		return "L0"
	case level <= 3:
		return "L1-3"
	case level <= 6:
		return "L4-6"
	case level <= 9:
		return "L7-9"
	default:
		return "L10-12"
	}
}

// simWeekStart is the Monday 00:00 UTC of t's week.
func simWeekStart(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}
