package evaluation_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

func TestParticipantValidate(t *testing.T) {
	t.Parallel()
	valid := evaluation.Participant{
		ID: "pt-1", ProgramID: "prog-1", Role: evaluation.RoleMentee, State: evaluation.ParticipantEnrolled,
		EventTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	tests := []struct {
		name   string
		change func(*evaluation.Participant)
		fields []string // nil: valid
	}{
		{name: "valid", change: func(*evaluation.Participant) {}},
		{name: "withdrawn mentor", change: func(p *evaluation.Participant) {
			p.Role, p.State = evaluation.RoleMentor, evaluation.ParticipantWithdrawn
		}},
		{name: "no id", change: func(p *evaluation.Participant) { p.ID = "" }, fields: []string{"participant.id"}},
		{name: "no program", change: func(p *evaluation.Participant) { p.ProgramID = "" }, fields: []string{"participant.program_id"}},
		{name: "no role", change: func(p *evaluation.Participant) { p.Role = "" }, fields: []string{"participant.role"}},
		{name: "unknown state", change: func(p *evaluation.Participant) { p.State = "paused" }, fields: []string{"participant.state"}},
		{name: "no event time", change: func(p *evaluation.Participant) { p.EventTime = time.Time{} }, fields: []string{"event.time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := valid
			tt.change(&p)
			err := p.Validate()
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			var invalid *apperr.InvalidError
			require.True(t, errors.As(err, &invalid), "%v", err)
			var got []string
			for _, v := range invalid.Violations {
				got = append(got, v.Field)
			}
			require.ElementsMatch(t, tt.fields, got)
		})
	}
}
