package pbconv

import (
	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

// Report converts a program report.
func Report(r evaluation.Report) *evaluationv1.ProgramReport {
	pb := &evaluationv1.ProgramReport{
		ProgramId: r.ProgramID, AsOfTime: TS(r.AsOf), Suppressed: r.Suppressed, Figures: Figures(r.Figures),
	}
	for _, s := range r.Segments {
		pb.Segments = append(pb.Segments, &evaluationv1.ReportSegment{
			Dimension: s.Dimension, Value: s.Value, Suppressed: s.Suppressed, Figures: Figures(s.Figures),
		})
	}
	for _, w := range r.Weeks {
		pb.Weeks = append(pb.Weeks, &evaluationv1.ReportWeek{
			WeekStartTime: TS(w.Start), Suppressed: w.Suppressed, Figures: Figures(w.Figures),
		})
	}
	return pb
}

// Figures converts a group's figures.
func Figures(f evaluation.Figures) *evaluationv1.ReportFigures {
	return &evaluationv1.ReportFigures{
		People:          int32(f.People),
		EnrolledMentors: int32(f.EnrolledMentors), EnrolledMentees: int32(f.EnrolledMentees), Withdrawn: int32(f.Withdrawn),
		Matched: int32(f.Matched), MatchRate: f.MatchRate,
		Pairs: int32(f.Pairs), MeanMatchScore: f.MeanMatchScore,
		SessionsHeld: int32(f.SessionsHeld), SessionsPerPair: f.SessionsPerPair,
		Ratings: int32(f.Ratings), MeanRating: f.MeanRating,
		NpsRespondents: int32(f.NPSRespondents), Nps: f.NPS,
		Goals: int32(f.Goals), GoalsCompleted: int32(f.GoalsCompleted), GoalCompletionRate: f.GoalCompletionRate,
		AssessedPeople: int32(f.AssessedPeople), MeanUplift: f.MeanUplift,
		RetentionRate: f.RetentionRate,
	}
}
