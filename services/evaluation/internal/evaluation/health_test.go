package evaluation

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestEvaluateHealth(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	d := func(days int) time.Time { return start.Add(time.Duration(days) * day) }
	signed := &Agreement{MentorSignTime: d(1), MenteeSignTime: d(2)}
	base := func() PairActivity {
		return PairActivity{
			Match:     Match{ID: "m1", ProgramID: "p1", State: MatchActive, ActivateTime: start},
			Agreement: signed,
		}
	}
	tests := []struct {
		name    string
		mod     func(*PairActivity)
		now     time.Time
		status  HealthStatus
		reasons []string
		next    time.Time
	}{
		{"new pair", nil, d(0), OnTrack, nil, d(21)},
		{"day 20 without session", nil, d(20), OnTrack, nil, d(21)},
		{"day 21 without session", nil, d(21), NeedsAttention, []string{"no session held for 21 days"}, d(42)},
		{"a microsecond before day 42", nil, d(42).Add(-time.Microsecond), NeedsAttention, []string{"no session held for 41 days"}, d(42)},
		{"day 42 without session", nil, d(42), AtRisk, []string{"no session held for 42 days"}, time.Time{}},
		{"a held session restarts the count", func(a *PairActivity) { a.HeldStarts = []time.Time{d(30), d(10)} }, d(50), OnTrack, nil, d(51)},
		{"a future session does not count", func(a *PairActivity) { a.HeldStarts = []time.Time{d(60)} }, d(25), NeedsAttention, []string{"no session held for 25 days"}, d(42)},
		{"two cancellations in 30 days", func(a *PairActivity) {
			a.HeldStarts = []time.Time{d(9)}
			a.CancelTimes = []time.Time{d(5), d(8)}
		}, d(10), NeedsAttention, []string{"2 sessions cancelled in the last 30 days"}, d(30)},
		{"an old cancellation drops out", func(a *PairActivity) {
			a.HeldStarts = []time.Time{d(34)}
			a.CancelTimes = []time.Time{d(5), d(8)}
		}, d(35), OnTrack, nil, d(38)},
		{"low ratings", func(a *PairActivity) { a.Ratings = []int{5, 2, 3, 2} }, d(1), AtRisk, []string{"mean rating of the last 3 sessions is 2.3"}, d(21)},
		{"good newest ratings", func(a *PairActivity) { a.Ratings = []int{1, 3, 3, 3} }, d(1), OnTrack, nil, d(21)},
		{"one low rating", func(a *PairActivity) { a.Ratings = []int{2} }, d(1), AtRisk, []string{"mean rating of the last 1 sessions is 2.0"}, d(21)},
		{"unsigned agreement on day 14", func(a *PairActivity) {
			a.Agreement = &Agreement{MentorSignTime: d(1)}
			a.HeldStarts = []time.Time{d(13)}
		}, d(14), NeedsAttention, []string{"agreement not signed 14 days after the pair started"}, d(34)},
		{"no agreement on day 13", func(a *PairActivity) { a.Agreement = nil }, d(13), OnTrack, nil, d(14)},
		{"two attention signals make a risk", func(a *PairActivity) { a.Agreement = nil }, d(21), AtRisk,
			[]string{"no session held for 21 days", "agreement not signed 21 days after the pair started"}, d(42)},
		{"program thresholds", func(a *PairActivity) {
			a.Health = HealthThresholds{DaysWithoutSession: 7, Cancellations: 1, LowRating: 4, UnsignedAgreementDays: 3}
			a.Agreement = nil
		}, d(7), AtRisk, []string{"no session held for 7 days", "agreement not signed 7 days after the pair started"}, d(14)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := base()
			if tt.mod != nil {
				tt.mod(&a)
			}
			h := EvaluateHealth(a, tt.now)
			assert.Equal(t, tt.status, h.Status)
			assert.Equal(t, tt.reasons, h.Reasons)
			assert.Equal(t, tt.next, h.NextCheck, "next check")
			assert.Equal(t, "m1", h.MatchID)
		})
	}
}

// TestHealthFlagsOnTheRightDay walks a pair day by day: it needs attention
// exactly on day 21 and is at risk exactly on day 42, and the next check
// the function asks for is the instant of each change.
func TestHealthFlagsOnTheRightDay(t *testing.T) {
	start := time.Date(2026, 10, 20, 15, 30, 0, 0, time.UTC) // spans the end of European summer time
	a := PairActivity{Match: Match{ID: "m", State: MatchActive, ActivateTime: start}, Agreement: &Agreement{MentorSignTime: start, MenteeSignTime: start}}
	var changes []int
	prev := OnTrack
	for n := 0; n <= 60; n++ {
		h := EvaluateHealth(a, start.Add(time.Duration(n)*day))
		if h.Status != prev {
			changes = append(changes, n)
			prev = h.Status
		}
	}
	assert.Equal(t, []int{21, 42}, changes)
	assert.Equal(t, start.Add(21*day), EvaluateHealth(a, start).NextCheck)
}
