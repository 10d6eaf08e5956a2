package evaluation_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

// monday is Monday 2026-01-05 00:00 UTC, day 0 of the fixtures.
var monday = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// day returns 00:00 UTC of day n of the fixtures, plus hours.
func day(n int, hours ...int) time.Time {
	t := monday.AddDate(0, 0, n)
	for _, h := range hours {
		t = t.Add(time.Duration(h) * time.Hour)
	}
	return t
}

// programFixture is a program of ten people whose every figure the tests
// compute by hand. Unless an hour is given, times are 00:00 UTC of day n
// (day 0 is a Monday), so many events sit exactly on a week boundary.
//
//	person dept   level band    participants (role: enrol..withdraw)
//	pm1    Eng    8     L7-9    pt-m1 (mentor: d0)
//	pm2    Eng    10    L10-12  pt-m2 (mentor: d0), pt-m2b (mentee: d5)
//	pm3    Sales  7     L7-9    pt-m3 (mentor: d1); terminated d20
//	pe1    Eng    2     L1-3    pt-e1 (mentee: d0)
//	pe2    Eng    3     L1-3    pt-e2 (mentee: d1)
//	pe3    Sales  1     L1-3    pt-e3 (mentee: d2)
//	pe4    Eng    5     L4-6    pt-e4 (mentee: d2..d15)
//	pe5    erased               pt-e5 (mentee: d3)
//	pe6    not in People        pt-e6 (mentee: d3)
//	pe7    ""     1     L1-3    pt-e7 (mentee: d30)
//
//	match  mentor-mentee  score  accepted  declined  ended
//	mA     pm1-pe1        80     d5
//	mB     pm1-pe2        70     d5                  d30
//	mC     pm2-pe3        90     -         d6
//	mD     pm2-pe4        60     d7 (a Monday)       d16
//	mE     pm3-pe5        75     d8
//	mF     pm3-pe6        65     d9        d10
//	mG     pm1-pm2(m2b)   85     - (proposed d10)
//	mH     pm3-pe7        50     - (proposed d31)
//
// AsOf is d40 12:00 (pulse response r8); session s4 starts on d45, but
// planned times are not data times.
func programFixture() evaluation.ProgramData {
	person := func(id, dept string, level int) evaluation.Person {
		return evaluation.Person{ID: id, Department: dept, Seniority: level, Employment: evaluation.EmploymentActive, EventTime: day(0)}
	}
	pm3 := person("pm3", "Sales", 7)
	pm3.Employment, pm3.TerminateTime = evaluation.EmploymentTerminated, day(20)
	pe7 := person("pe7", "", 1)
	pe7.EventTime = day(30)

	participant := func(id, personID string, role evaluation.Role, enrol time.Time) evaluation.Participant {
		return evaluation.Participant{
			ID: id, ProgramID: "prog", PersonID: personID, Role: role,
			State: evaluation.ParticipantEnrolled, EnrolTime: enrol, EventTime: enrol,
		}
	}
	ptE4 := participant("pt-e4", "pe4", evaluation.RoleMentee, day(2))
	ptE4.State, ptE4.WithdrawTime, ptE4.EventTime = evaluation.ParticipantWithdrawn, day(15), day(15)

	match := func(id, mentorPt, mentor, menteePt, mentee string, score float64) evaluation.Match {
		return evaluation.Match{
			ID: id, ProgramID: "prog", MentorParticipantID: mentorPt, MentorPersonID: mentor,
			MenteeParticipantID: menteePt, MenteePersonID: mentee, Score: score,
		}
	}
	mA := match("mA", "pt-m1", "pm1", "pt-e1", "pe1", 80)
	mA.State, mA.ProposeTime, mA.AcceptTime, mA.ActivateTime, mA.EventTime = evaluation.MatchActive, day(4), day(5), day(6), day(6)
	mB := match("mB", "pt-m1", "pm1", "pt-e2", "pe2", 70)
	mB.State, mB.ProposeTime, mB.AcceptTime, mB.EndTime, mB.EventTime = evaluation.MatchEnded, day(4), day(5), day(30), day(30)
	mC := match("mC", "pt-m2", "pm2", "pt-e3", "pe3", 90)
	mC.State, mC.ProposeTime, mC.DeclineTime, mC.EventTime = evaluation.MatchDeclined, day(4), day(6), day(6)
	mD := match("mD", "pt-m2", "pm2", "pt-e4", "pe4", 60)
	mD.State, mD.ProposeTime, mD.AcceptTime, mD.EndTime, mD.EventTime = evaluation.MatchEnded, day(6), day(7), day(16), day(16)
	mE := match("mE", "pt-m3", "pm3", "pt-e5", "pe5", 75)
	mE.State, mE.ProposeTime, mE.AcceptTime, mE.EventTime = evaluation.MatchAccepted, day(7), day(8), day(8)
	mF := match("mF", "pt-m3", "pm3", "pt-e6", "pe6", 65)
	mF.State, mF.ProposeTime, mF.AcceptTime, mF.DeclineTime, mF.EventTime = evaluation.MatchDeclined, day(8), day(9), day(10), day(10)
	mG := match("mG", "pt-m1", "pm1", "pt-m2b", "pm2", 85)
	mG.State, mG.ProposeTime, mG.EventTime = evaluation.MatchProposed, day(10), day(10)
	mH := match("mH", "pt-m3", "pm3", "pt-e7", "pe7", 50)
	mH.State, mH.ProposeTime, mH.EventTime = evaluation.MatchProposed, day(31), day(31)

	completed := func(id, matchID string, t time.Time) evaluation.Session {
		return evaluation.Session{
			ID: id, MatchID: matchID, State: evaluation.SessionCompleted,
			StartTime: t.Add(-time.Hour), EndTime: t, CompleteTime: t, EventTime: t,
		}
	}
	cancelled := func(id, matchID string, t time.Time) evaluation.Session {
		return evaluation.Session{ID: id, MatchID: matchID, State: evaluation.SessionCancelled, CancelTime: t, EventTime: t}
	}
	feedback := func(id, sessionID, matchID, author string, rating int, t time.Time) evaluation.Feedback {
		return evaluation.Feedback{ID: id, SessionID: sessionID, MatchID: matchID, ProgramID: "prog", AuthorPersonID: author, Rating: rating, SubmitTime: t}
	}
	pulse := func(id, matchID, personID string, recommend int, t time.Time) evaluation.PulseResponse {
		return evaluation.PulseResponse{ID: id, MatchID: matchID, ProgramID: "prog", PersonID: personID, Day: 30, Satisfaction: 4, Recommend: recommend, SubmitTime: t}
	}
	goal := func(id, matchID string, created, done time.Time) evaluation.Goal {
		g := evaluation.Goal{ID: id, MatchID: matchID, ProgramID: "prog", Title: id, State: evaluation.GoalOpen, CreateTime: created, UpdateTime: created}
		if !done.IsZero() {
			g.State, g.Progress, g.CompleteTime, g.UpdateTime = evaluation.GoalCompleted, 100, done, done
			g.Milestones = []evaluation.Milestone{{Title: "step", Done: true, DoneTime: done}}
		}
		return g
	}
	g5 := goal("g5", "mD", day(8), time.Time{})
	g5.State, g5.UpdateTime = evaluation.GoalAbandoned, day(16)
	assessment := func(ptID, personID string, phase evaluation.Phase, t time.Time, levels ...any) evaluation.SelfAssessment {
		a := evaluation.SelfAssessment{ParticipantID: ptID, ProgramID: "prog", PersonID: personID, Phase: phase, SubmitTime: t}
		for i := 0; i < len(levels); i += 2 {
			a.Levels = append(a.Levels, evaluation.SkillLevel{SkillID: levels[i].(string), Level: levels[i+1].(int), SubmitTime: t})
		}
		return a
	}
	s4 := evaluation.Session{ID: "s4", MatchID: "mA", State: evaluation.SessionConfirmed, StartTime: day(45), EndTime: day(45, 1), EventTime: day(19)}

	return evaluation.ProgramData{
		ProgramID: "prog",
		People: map[string]evaluation.Person{
			"pm1": person("pm1", "Eng", 8), "pm2": person("pm2", "Eng", 10), "pm3": pm3,
			"pe1": person("pe1", "Eng", 2), "pe2": person("pe2", "Eng", 3), "pe3": person("pe3", "Sales", 1),
			"pe4": person("pe4", "Eng", 5), "pe5": {ID: "pe5", Erased: true, EventTime: day(0)}, "pe7": pe7,
		},
		Participants: []evaluation.Participant{
			participant("pt-m1", "pm1", evaluation.RoleMentor, day(0)),
			participant("pt-m2", "pm2", evaluation.RoleMentor, day(0)),
			participant("pt-m2b", "pm2", evaluation.RoleMentee, day(5)),
			participant("pt-m3", "pm3", evaluation.RoleMentor, day(1)),
			participant("pt-e1", "pe1", evaluation.RoleMentee, day(0)),
			participant("pt-e2", "pe2", evaluation.RoleMentee, day(1)),
			participant("pt-e3", "pe3", evaluation.RoleMentee, day(2)),
			ptE4,
			participant("pt-e5", "pe5", evaluation.RoleMentee, day(3)),
			participant("pt-e6", "pe6", evaluation.RoleMentee, day(3)),
			participant("pt-e7", "pe7", evaluation.RoleMentee, day(30)),
		},
		Matches: []evaluation.Match{mA, mB, mC, mD, mE, mF, mG, mH},
		Sessions: []evaluation.Session{
			completed("s1", "mA", day(10)),
			completed("s2", "mA", day(17)),
			cancelled("s3", "mA", day(20)),
			s4,
			completed("s5", "mB", day(12)),
			completed("s6", "mD", day(14)),
			cancelled("s7", "mD", day(16)),
			completed("s8", "mE", day(21)),
			completed("s9", "mE", day(28)),
			completed("s10", "mF", day(9, 18)),
		},
		Feedback: []evaluation.Feedback{
			feedback("f1", "s1", "mA", "pm1", 5, day(10)),
			feedback("f2", "s1", "mA", "pe1", 4, day(10)),
			feedback("f3", "s2", "mA", "pe1", 3, day(17)),
			feedback("f4", "s5", "mB", "pe2", 4, day(12)),
			feedback("f5", "s6", "mD", "pm2", 2, day(14)),
			feedback("f6", "s6", "mD", "pe4", 3, day(15)),
			feedback("f7", "s8", "mE", "pm3", 5, day(21)),
			feedback("f8", "s10", "mF", "pe6", 1, day(9, 19)),
		},
		Pulse: []evaluation.PulseResponse{
			pulse("r1", "mA", "pm1", 10, day(20)),
			pulse("r2", "mB", "pm1", 6, day(35)),
			pulse("r3", "mA", "pe1", 9, day(20)),
			pulse("r4", "mB", "pe2", 7, day(20)),
			pulse("r5", "mB", "pe2", 10, day(20)), // same time as r4: the higher id is newer
			pulse("r6", "mD", "pm2", 3, day(15)),
			pulse("r7", "mE", "pe5", 9, day(28)),
			pulse("r8", "mE", "pm3", 8, day(40, 12)),
			pulse("r9", "mF", "pe6", 0, day(9, 20)),
		},
		Goals: []evaluation.Goal{
			goal("g1", "mA", day(6), day(25)),
			goal("g2", "mA", day(6), time.Time{}),
			goal("g3", "mB", day(7), day(29)),
			goal("g4", "mE", day(10), time.Time{}),
			g5,
			goal("g6", "mF", day(9, 21), time.Time{}),
		},
		Assessments: []evaluation.SelfAssessment{
			assessment("pt-e1", "pe1", evaluation.PhasePre, day(3), "A", 1, "B", 2),
			assessment("pt-e1", "pe1", evaluation.PhasePost, day(30), "A", 3, "B", 2),
			assessment("pt-e2", "pe2", evaluation.PhasePre, day(3), "A", 2),
			assessment("pt-e2", "pe2", evaluation.PhasePost, day(31), "A", 4),
			assessment("pt-e5", "pe5", evaluation.PhasePre, day(4), "A", 1, "C", 3), // C has only PRE
			assessment("pt-e5", "pe5", evaluation.PhasePost, day(32), "A", 2),
			assessment("pt-m1", "pm1", evaluation.PhasePre, day(2), "D", 3),
			assessment("pt-m1", "pm1", evaluation.PhasePost, day(33), "D", 3),
			assessment("pt-e6", "pe6", evaluation.PhasePre, day(4), "A", 0),
			assessment("pt-e6", "pe6", evaluation.PhasePost, day(34), "A", 5),
			assessment("pt-e3", "pe3", evaluation.PhasePre, day(4), "A", 1), // no POST
			assessment("pt-m2b", "pm2", evaluation.PhasePre, day(6), "E", 2),
			assessment("pt-m2b", "pm2", evaluation.PhasePost, day(38), "E", 1),
		},
	}
}

// programFigures are the fixture's program figures at AsOf (d40 12:00), which
// are also those of its last week.
func programFigures() evaluation.Figures {
	return evaluation.Figures{
		// pm1 pm2 pm3 pe1..pe7: pm2 counts once for two participants.
		People: 10,
		// pt-m1 pt-m2 pt-m3; pt-m2b pt-e1 pt-e2 pt-e3 pt-e5 pt-e6 pt-e7 (pt-e4 withdrew).
		EnrolledMentors: 3,
		EnrolledMentees: 7,
		Withdrawn:       1,
		// pt-m1 (mA mB), pt-m2 (mD, ended), pt-m3 (mE), pt-e1, pt-e2, pt-e5;
		// not pt-m2b (mG only proposed), pt-e3 (mC declined), pt-e6 (mF
		// declined), pt-e7 (mH proposed). 6 / 10.
		Matched:   6,
		MatchRate: 0.6,
		// mA mB mD mE: (80 + 70 + 60 + 75) / 4 = 71.25.
		Pairs:          4,
		MeanMatchScore: 71.25,
		// s1 s2 s5 s6 s8 s9 (not s10 of the declined mF): 6 / 4.
		SessionsHeld:    6,
		SessionsPerPair: 1.5,
		// f1..f7 (not f8 on mF): 5+4+3+4+2+3+5 = 26 / 7 = 3.714285…, by 6
		// authors (pm1 pe1 pe2 pm2 pe4 pm3).
		Ratings:    7,
		MeanRating: new(3.7143),
		// Newest per person: pm1 r2 6 (detractor), pe1 r3 9 (promoter), pe2 r5
		// 10 (promoter), pm2 r6 3 (detractor), pe5 r7 9 (promoter), pm3 r8 8
		// (passive); r9 is on mF. 100 × (3 − 2) / 6 = 16.6667.
		NPSRespondents: 6,
		NPS:            new(16.6667),
		// g1..g5 (not g6 on mF); g1 and g3 completed: 2 / 5.
		Goals:              5,
		GoalsCompleted:     2,
		GoalCompletionRate: 0.4,
		// pe1 (+2, 0), pe2 (+2), pe5 (+1; C has only PRE), pm1 (0), pe6 (+5),
		// pm2 on pt-m2b (−1); pe3 has only PRE. 9 / 7 = 1.285714….
		AssessedPeople: 6,
		MeanUplift:     new(1.2857),
		// pm3 terminated on d20: 9 / 10.
		RetentionRate: 0.9,
	}
}

func TestBuildReportProgram(t *testing.T) {
	t.Parallel()
	r := evaluation.BuildReport(programFixture())
	require.Equal(t, "prog", r.ProgramID)
	require.Equal(t, day(40, 12), r.AsOf)
	require.False(t, r.Suppressed)
	if diff := cmp.Diff(programFigures(), r.Figures); diff != "" {
		t.Errorf("program figures (-want +got):\n%s", diff)
	}
}

func TestBuildReportSegments(t *testing.T) {
	t.Parallel()
	r := evaluation.BuildReport(programFixture())
	suppressed := func(dim, value string) evaluation.Segment {
		return evaluation.Segment{Dimension: dim, Value: value, Suppressed: true}
	}
	want := []evaluation.Segment{
		suppressed("department", ""), // pe7
		{Dimension: "department", Value: "Eng", Figures: evaluation.Figures{
			// pm1 pm2 pe1 pe2 pe4.
			People: 5,
			// pt-m1 pt-m2; pt-m2b pt-e1 pt-e2 (pt-e4 withdrew).
			EnrolledMentors: 2, EnrolledMentees: 3, Withdrawn: 1,
			// pt-m1 pt-m2 pt-e1 pt-e2: 4 / 5.
			Matched: 4, MatchRate: 0.8,
			// mA mB mD, mA counted once though both its sides are in Eng:
			// (80 + 70 + 60) / 3.
			Pairs: 3, MeanMatchScore: 70,
			// s1 s2 s5 s6: 4 / 3.
			SessionsHeld: 4, SessionsPerPair: 1.3333,
			// f1..f6 by 5 authors: (5+4+3+4+2+3) / 6.
			Ratings: 6, MeanRating: new(3.5),
			// pm1 pe1 pe2 pm2: too few for an NPS.
			NPSRespondents: 4,
			// g1 g2 g3 g5; g1 g3 completed.
			Goals: 4, GoalsCompleted: 2, GoalCompletionRate: 0.5,
			// pe1 pe2 pm1 pm2: too few for an uplift.
			AssessedPeople: 4,
			RetentionRate:  1,
		}},
		suppressed("department", "Sales"),      // pm3 pe3
		suppressed("seniority_band", "L1-3"),   // pe1 pe2 pe3 pe7: 4 people
		suppressed("seniority_band", "L10-12"), // pm2
		suppressed("seniority_band", "L4-6"),   // pe4
		suppressed("seniority_band", "L7-9"),   // pm1 pm3
	}
	// pe5 (erased) and pe6 (not in People) belong to no segment: no "L0".
	if diff := cmp.Diff(want, r.Segments); diff != "" {
		t.Errorf("segments (-want +got):\n%s", diff)
	}
}

func TestBuildReportWeeks(t *testing.T) {
	t.Parallel()
	r := evaluation.BuildReport(programFixture())
	week := func(n int, f evaluation.Figures) evaluation.Week {
		return evaluation.Week{Start: day(n), Figures: f}
	}
	want := []evaluation.Week{
		// As of d6 23:59:59.999999: nine people (not pe7); mA mB (mD is
		// accepted at d7 00:00, the next week); g1 g2; no answers yet.
		week(0, evaluation.Figures{
			People: 9, EnrolledMentors: 3, EnrolledMentees: 7,
			// pt-m1 pt-e1 pt-e2: 3 / 10.
			Matched: 3, MatchRate: 0.3,
			Pairs: 2, MeanMatchScore: 75, // (80 + 70) / 2
			Goals: 2, RetentionRate: 1,
		}),
		// As of d13 end: mA mB mD mE (mF accepted d9, declined d10).
		week(7, evaluation.Figures{
			People: 9, EnrolledMentors: 3, EnrolledMentees: 7,
			// pt-m1 pt-m2 pt-m3 pt-e1 pt-e2 pt-e4 pt-e5: 7 / 10.
			Matched: 7, MatchRate: 0.7,
			Pairs: 4, MeanMatchScore: 71.25,
			// s1 s5 (s6 completes at d14 00:00, next week; s10 is mF's): 2 / 4.
			SessionsHeld: 2, SessionsPerPair: 0.5,
			// f1 f2 f4 by 3 authors: counted, no mean.
			Ratings: 3,
			// g1..g5.
			Goals:         5,
			RetentionRate: 1,
		}),
		// As of d20 end: pt-e4 withdrew d15; pm3 terminated d20.
		week(14, evaluation.Figures{
			People: 9, EnrolledMentors: 3, EnrolledMentees: 6, Withdrawn: 1,
			// pt-m1 pt-m2 pt-m3 pt-e1 pt-e2 pt-e5: 6 / 9.
			Matched: 6, MatchRate: 0.6667,
			Pairs: 4, MeanMatchScore: 71.25,
			// s1 s2 s5 s6: 4 / 4.
			SessionsHeld: 4, SessionsPerPair: 1,
			// f1..f6 by 5 authors (pm1 pe1 pe2 pm2 pe4): 21 / 6.
			Ratings: 6, MeanRating: new(3.5),
			// pm2 r6, pm1 r1, pe1 r3, pe2 r5: too few.
			NPSRespondents: 4,
			Goals:          5,
			RetentionRate:  0.8889, // 8 / 9
		}),
		// As of d27 end: s8 and f7 at d21; g1 completed d25.
		week(21, evaluation.Figures{
			People: 9, EnrolledMentors: 3, EnrolledMentees: 6, Withdrawn: 1,
			Matched: 6, MatchRate: 0.6667,
			Pairs: 4, MeanMatchScore: 71.25,
			SessionsHeld: 5, SessionsPerPair: 1.25,
			Ratings: 7, MeanRating: new(3.7143), // 26 / 7
			NPSRespondents: 4, // r7 is at d28 00:00
			Goals:          5, GoalsCompleted: 1, GoalCompletionRate: 0.2,
			RetentionRate: 0.8889,
		}),
		// As of d34 end: pe7 enrolled d30; s9 d28; r7 d28; g3 completed d29;
		// POSTs of pe1 pe2 pe5 pm1 pe6 (pm2's is d38).
		week(28, evaluation.Figures{
			People: 10, EnrolledMentors: 3, EnrolledMentees: 7, Withdrawn: 1,
			Matched: 6, MatchRate: 0.6,
			Pairs: 4, MeanMatchScore: 71.25, // mB ended d30 and still counts
			SessionsHeld: 6, SessionsPerPair: 1.5,
			Ratings: 7, MeanRating: new(3.7143),
			// pm2 r6 (detractor), pm1 r1 10, pe1 r3 9, pe2 r5 10, pe5 r7 9
			// (promoters; pm1's r2 comes d35): 100 × (4 − 1) / 5.
			NPSRespondents: 5, NPS: new(60.0),
			Goals: 5, GoalsCompleted: 2, GoalCompletionRate: 0.4,
			// 2 + 0 + 2 + 1 + 0 + 5 = 10 over 6 (participant, skill): 1.6667.
			AssessedPeople: 5, MeanUplift: new(1.6667),
			RetentionRate: 0.9,
		}),
		// The week of AsOf, as of AsOf.
		week(35, programFigures()),
	}
	if diff := cmp.Diff(want, r.Weeks); diff != "" {
		t.Errorf("weeks (-want +got):\n%s", diff)
	}
}

func TestBuildReportFewerThanFiveAuthors(t *testing.T) {
	t.Parallel()
	d := programFixture()
	// Without pe4's f6, the first three weeks' ratings are f1 f2 f3 f4 f5:
	// five ratings by four authors (pm1 pe1 pe2 pm2), so no mean.
	d.Feedback = append(d.Feedback[:5:5], d.Feedback[6:]...)
	r := evaluation.BuildReport(d)
	require.Equal(t, day(14), r.Weeks[2].Start)
	require.Equal(t, 5, r.Weeks[2].Figures.Ratings)
	require.Nil(t, r.Weeks[2].Figures.MeanRating)
	// By AsOf pm3's f7 makes five authors: (26 − 3) / 6 = 3.8333.
	require.Equal(t, 6, r.Figures.Ratings)
	require.Equal(t, new(3.8333), r.Figures.MeanRating)
}

func TestBuildReportWeekBoundaries(t *testing.T) {
	t.Parallel()
	enrol := func(id string, t time.Time) evaluation.Participant {
		return evaluation.Participant{
			ID: "pt-" + id, ProgramID: "prog", PersonID: id, Role: evaluation.RoleMentee,
			State: evaluation.ParticipantEnrolled, EnrolTime: t, EventTime: t,
		}
	}
	a := enrol("a", day(-5, 10)) // Wednesday of the week before day 0
	a.State, a.WithdrawTime, a.EventTime = evaluation.ParticipantWithdrawn, day(9, 12), day(9, 12)
	d := evaluation.ProgramData{
		ProgramID: "prog",
		// The earliest time is a's person event on Tuesday of the week
		// starting day −7.
		People: map[string]evaluation.Person{"a": {ID: "a", Department: "Ops", EventTime: day(-6)}},
		Participants: []evaluation.Participant{
			a,
			enrol("b", day(-4)),
			enrol("c", day(-3)),
			enrol("d", day(0).Add(-time.Microsecond)), // the last instant of the first week
			enrol("e", day(0)),                        // Monday 00:00: the second week
			enrol("f", day(1)),
			enrol("g", day(8)),
		},
	}
	r := evaluation.BuildReport(d)
	// AsOf is a's withdrawal, Wednesday of the third week.
	require.Equal(t, day(9, 12), r.AsOf)
	want := []evaluation.Week{
		// a b c d: four people, suppressed.
		{Start: day(-7), Suppressed: true},
		// a..f: six mentees, none matched; no one terminated.
		{Start: day(0), Figures: evaluation.Figures{People: 6, EnrolledMentees: 6, RetentionRate: 1}},
		// As of AsOf: g enrolled, a withdrew (still one of the People).
		{Start: day(7), Figures: evaluation.Figures{People: 7, EnrolledMentees: 6, Withdrawn: 1, RetentionRate: 1}},
	}
	if diff := cmp.Diff(want, r.Weeks); diff != "" {
		t.Errorf("weeks (-want +got):\n%s", diff)
	}
	require.Equal(t, r.Weeks[2].Figures, r.Figures)
}

func TestBuildReportEmpty(t *testing.T) {
	t.Parallel()
	want := evaluation.Report{ProgramID: "prog", Suppressed: true}
	if diff := cmp.Diff(want, evaluation.BuildReport(evaluation.ProgramData{ProgramID: "prog"})); diff != "" {
		t.Errorf("empty report (-want +got):\n%s", diff)
	}
}

func TestBuildReportSuppressedProgram(t *testing.T) {
	t.Parallel()
	d := programFixture()
	// pm1 pm2 pe1 pe2 only: four people.
	keep := map[string]bool{"pm1": true, "pm2": true, "pe1": true, "pe2": true}
	var participants []evaluation.Participant
	for _, p := range d.Participants {
		if keep[p.PersonID] {
			participants = append(participants, p)
		}
	}
	d.Participants = participants
	r := evaluation.BuildReport(d)
	require.Equal(t, day(40, 12), r.AsOf, "the other records still date the data")
	require.True(t, r.Suppressed)
	require.Equal(t, evaluation.Figures{}, r.Figures)
	require.Len(t, r.Weeks, 6)
	for _, w := range r.Weeks {
		require.True(t, w.Suppressed, "week %s", w.Start)
		require.Equal(t, evaluation.Figures{}, w.Figures)
	}
	for _, s := range r.Segments {
		require.True(t, s.Suppressed, "segment %s=%s", s.Dimension, s.Value)
	}
}

func TestBuildReportDeterministic(t *testing.T) {
	t.Parallel()
	want := evaluation.BuildReport(programFixture())
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		d := programFixture()
		rng.Shuffle(len(d.Participants), func(i, j int) { d.Participants[i], d.Participants[j] = d.Participants[j], d.Participants[i] })
		rng.Shuffle(len(d.Matches), func(i, j int) { d.Matches[i], d.Matches[j] = d.Matches[j], d.Matches[i] })
		rng.Shuffle(len(d.Sessions), func(i, j int) { d.Sessions[i], d.Sessions[j] = d.Sessions[j], d.Sessions[i] })
		rng.Shuffle(len(d.Feedback), func(i, j int) { d.Feedback[i], d.Feedback[j] = d.Feedback[j], d.Feedback[i] })
		rng.Shuffle(len(d.Pulse), func(i, j int) { d.Pulse[i], d.Pulse[j] = d.Pulse[j], d.Pulse[i] })
		rng.Shuffle(len(d.Goals), func(i, j int) { d.Goals[i], d.Goals[j] = d.Goals[j], d.Goals[i] })
		rng.Shuffle(len(d.Assessments), func(i, j int) { d.Assessments[i], d.Assessments[j] = d.Assessments[j], d.Assessments[i] })
		if diff := cmp.Diff(want, evaluation.BuildReport(d)); diff != "" {
			t.Fatalf("shuffle %d changed the report (-want +got):\n%s", i, diff)
		}
	}
}

func TestSeniorityBand(t *testing.T) {
	t.Parallel()
	for level, want := range map[int]string{
		-1: "L0", 0: "L0", 1: "L1-3", 3: "L1-3", 4: "L4-6", 6: "L4-6", 7: "L7-9", 9: "L7-9", 10: "L10-12", 12: "L10-12",
	} {
		require.Equal(t, want, evaluation.SeniorityBand(level), "level %d", level)
	}
}
