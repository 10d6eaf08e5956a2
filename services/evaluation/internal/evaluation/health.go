package evaluation

import (
	"cmp"
	"fmt"
	"time"
)

const day = 24 * time.Hour

// EvaluateHealth computes an active pair's health at now from its activity.
// It fills every field but SinceTime and EvaluateTime, which the store
// keeps. Each rule gives a signal:
//
//   - no session held (counted from the newest held session's start, or
//     from activation) for DaysWithoutSession days: needs attention; for
//     twice as many: at risk;
//   - Cancellations or more sessions cancelled by a side within the last
//     CancellationWindow: needs attention;
//   - the mean of the newest RatingWindow ratings (fewer when fewer were
//     given) below LowRating: at risk;
//   - the agreement not signed by both sides UnsignedAgreementDays after
//     activation: needs attention.
//
// The pair is at risk with any at-risk signal or two needs-attention
// signals, needs attention with one, and is on track with none. Zero
// thresholds take DefaultThresholds'.
func EvaluateHealth(a PairActivity, now time.Time) Health {
	th := a.Health.WithDefaults()
	m := a.Match
	h := Health{
		MatchID: m.ID, ProgramID: m.ProgramID, MentorPersonID: m.MentorPersonID, MenteePersonID: m.MenteePersonID,
	}
	attention, risk := 0, false
	// next keeps the earliest future instant at which a rule's outcome flips.
	next := func(t time.Time) {
		if t.After(now) && (h.NextCheck.IsZero() || t.Before(h.NextCheck)) {
			h.NextCheck = t
		}
	}

	since := m.ActivateTime
	for _, s := range a.HeldStarts {
		if !s.After(now) && s.After(since) {
			since = s
		}
	}
	idle := now.Sub(since)
	limit := time.Duration(th.DaysWithoutSession) * day
	switch {
	case idle >= 2*limit:
		risk = true
		h.Reasons = append(h.Reasons, fmt.Sprintf("no session held for %d days", int(idle/day)))
	case idle >= limit:
		attention++
		h.Reasons = append(h.Reasons, fmt.Sprintf("no session held for %d days", int(idle/day)))
	}
	next(since.Add(limit))
	next(since.Add(2 * limit))

	recent := 0
	for _, c := range a.CancelTimes {
		if !c.After(now) && now.Sub(c) < CancellationWindow {
			recent++
			next(c.Add(CancellationWindow))
		}
	}
	if recent >= th.Cancellations {
		attention++
		h.Reasons = append(h.Reasons, fmt.Sprintf("%d sessions cancelled in the last %d days", recent, int(CancellationWindow/day)))
	}

	if n := len(a.Ratings); n > 0 {
		newest := a.Ratings[max(0, n-RatingWindow):]
		sum := 0
		for _, r := range newest {
			sum += r
		}
		if mean := float64(sum) / float64(len(newest)); mean < th.LowRating {
			risk = true
			h.Reasons = append(h.Reasons, fmt.Sprintf("mean rating of the last %d sessions is %.1f", len(newest), mean))
		}
	}

	if a.Agreement == nil || !a.Agreement.Signed() {
		deadline := m.ActivateTime.Add(time.Duration(th.UnsignedAgreementDays) * day)
		if !now.Before(deadline) {
			attention++
			h.Reasons = append(h.Reasons, fmt.Sprintf("agreement not signed %d days after the pair started", int(now.Sub(m.ActivateTime)/day)))
		}
		next(deadline)
	}

	switch {
	case risk || attention >= 2:
		h.Status = AtRisk
	case attention == 1:
		h.Status = NeedsAttention
	default:
		h.Status = OnTrack
	}
	return h
}

// WithDefaults fills zero thresholds from DefaultThresholds.
func (t HealthThresholds) WithDefaults() HealthThresholds {
	d := DefaultThresholds
	return HealthThresholds{
		DaysWithoutSession:    cmp.Or(t.DaysWithoutSession, d.DaysWithoutSession),
		Cancellations:         cmp.Or(t.Cancellations, d.Cancellations),
		LowRating:             cmp.Or(t.LowRating, d.LowRating),
		UnsignedAgreementDays: cmp.Or(t.UnsignedAgreementDays, d.UnsignedAgreementDays),
	}
}

// String names a status as the API's enum does, without its prefix.
func (s HealthStatus) String() string {
	switch s {
	case OnTrack:
		return "ON_TRACK"
	case NeedsAttention:
		return "NEEDS_ATTENTION"
	case AtRisk:
		return "AT_RISK"
	}
	return "UNSPECIFIED"
}
