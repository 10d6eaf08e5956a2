package evaluation_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

// BenchmarkBuildReport builds the report of a program of 48 weeks, 20,000
// participants in 10,000 pairs with 100,000 held sessions, 200,000 ratings,
// 20,000 pulse answers, 30,000 goals and PRE/POST levels of everyone.
func BenchmarkBuildReport(b *testing.B) {
	d := largeProgram(10_000, 52)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := evaluation.BuildReport(d)
		if r.Figures.Pairs != 10_000 || len(r.Weeks) < 45 {
			b.Fatalf("pairs %d, weeks %d", r.Figures.Pairs, len(r.Weeks))
		}
	}
}

func largeProgram(pairs, weeks int) evaluation.ProgramData {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	at := func(i, spread int) time.Time { return start.Add(time.Duration(i%spread) * time.Hour) }
	span := weeks * 7 * 24
	d := evaluation.ProgramData{ProgramID: "big", People: map[string]evaluation.Person{}}
	depts := []string{"Sales", "Engineering", "Finance", "HR", "Legal", "Marketing", "Operations", "Support"}
	for i := range 2 * pairs {
		id := fmt.Sprintf("p%05d", i)
		d.People[id] = evaluation.Person{ID: id, Department: depts[i%len(depts)], Seniority: 1 + i%12,
			Employment: evaluation.EmploymentActive, EventTime: start}
		role := evaluation.RoleMentor
		if i%2 == 1 {
			role = evaluation.RoleMentee
		}
		d.Participants = append(d.Participants, evaluation.Participant{ID: "pt" + id, ProgramID: "big", PersonID: id,
			Role: role, State: evaluation.ParticipantEnrolled, EnrolTime: at(i, 24*14), EventTime: at(i, 24*14)})
	}
	for i := range pairs {
		m := fmt.Sprintf("m%05d", i)
		mentor, mentee := fmt.Sprintf("p%05d", 2*i), fmt.Sprintf("p%05d", 2*i+1)
		accept := at(i, 24*28).Add(14 * 24 * time.Hour)
		d.Matches = append(d.Matches, evaluation.Match{ID: m, ProgramID: "big", MentorPersonID: mentor, MenteePersonID: mentee,
			MentorParticipantID: "pt" + mentor, MenteeParticipantID: "pt" + mentee, State: evaluation.MatchActive,
			Score: float64(50 + i%50), AcceptTime: accept, ActivateTime: accept, EventTime: accept})
		for s := range 10 {
			held := accept.Add(time.Duration(s*(span-24*42)/10) * time.Hour)
			sid := fmt.Sprintf("%s-s%d", m, s)
			d.Sessions = append(d.Sessions, evaluation.Session{ID: sid, MatchID: m, State: evaluation.SessionCompleted,
				StartTime: held, CompleteTime: held, EventTime: held})
			for k, author := range []string{mentor, mentee} {
				d.Feedback = append(d.Feedback, evaluation.Feedback{ID: fmt.Sprintf("%s-f%d", sid, k), SessionID: sid, MatchID: m,
					ProgramID: "big", AuthorPersonID: author, Rating: 1 + (i+s+k)%5, SubmitTime: held.Add(time.Hour)})
			}
		}
		for k, person := range []string{mentor, mentee} {
			d.Pulse = append(d.Pulse, evaluation.PulseResponse{ID: fmt.Sprintf("%s-r%d", m, k), MatchID: m, ProgramID: "big",
				PersonID: person, Day: 30, Satisfaction: 4, Recommend: (i + k) % 11, SubmitTime: accept.Add(30 * 24 * time.Hour)})
		}
		for g := range 3 {
			goal := evaluation.Goal{ID: fmt.Sprintf("%s-g%d", m, g), MatchID: m, ProgramID: "big", Title: "g",
				State: evaluation.GoalOpen, Revision: 1, CreateTime: accept, UpdateTime: accept}
			if (i+g)%2 == 0 {
				goal.State, goal.CompleteTime = evaluation.GoalCompleted, accept.Add(60*24*time.Hour)
			}
			d.Goals = append(d.Goals, goal)
		}
		for _, phase := range []evaluation.Phase{evaluation.PhasePre, evaluation.PhasePost} {
			when := accept
			if phase == evaluation.PhasePost {
				when = accept.Add(90 * 24 * time.Hour)
			}
			d.Assessments = append(d.Assessments, evaluation.SelfAssessment{ParticipantID: "pt" + mentee, ProgramID: "big",
				PersonID: mentee, Phase: phase, SubmitTime: when,
				Levels: []evaluation.SkillLevel{{SkillID: "ai", Level: 1 + i%3 + len(phase)%2, SubmitTime: when}}})
		}
	}
	return d
}
