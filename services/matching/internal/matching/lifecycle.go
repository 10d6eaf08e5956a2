package matching

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/services/matching/engine"
)

// MatchFilter narrows a match listing; empty fields do not filter.
type MatchFilter struct {
	ProgramID string
	State     MatchState
	// ParticipantID matches the mentor or the mentee.
	ParticipantID string
}

// MatchStore keeps matches. Every write runs in a transaction that holds
// the lock of the match's program and bumps its epoch, so checks of live
// matches and capacities cannot race.
type MatchStore interface {
	Match(ctx context.Context, tenant, id string) (Match, error)
	// ListMatches returns matches ordered by id (oldest first).
	ListMatches(ctx context.Context, tenant string, f MatchFilter, page Page) ([]Match, error)
	// CreateMatch calls plan with the snapshot of m's program and two
	// participants and stores the match plan returns with the event of its
	// state; an error of plan writes nothing.
	CreateMatch(ctx context.Context, tenant string, m Match, plan func(Snapshot) (Match, error)) (Match, error)
	// UpdateMatch applies change to the stored match and stores the
	// result, with the event of its new state when the state changed.
	UpdateMatch(ctx context.Context, tenant, id string, change func(*Match) error) (Match, error)
}

// Actor is who acts on a match or request: a participant of the program
// (ParticipantID), or a program manager or tenant admin (Admin) who may act
// on behalf of either side.
type Actor struct {
	ParticipantID string
	Admin         bool
}

// Match returns one match.
func (s *Service) Match(ctx context.Context, tenant, id string) (Match, error) {
	if strings.TrimSpace(id) == "" {
		return Match{}, apperr.Invalid("id", "must not be empty")
	}
	return s.store.Match(ctx, tenant, id)
}

// ListMatches returns one page of matches, oldest first.
func (s *Service) ListMatches(ctx context.Context, tenant string, f MatchFilter, page Page) ([]Match, error) {
	switch f.State {
	case "", MatchProposed, MatchAccepted, MatchActive, MatchDeclined, MatchEnded:
	default:
		return nil, apperr.Invalid("state", fmt.Sprintf("unknown match state %q", f.State))
	}
	return s.store.ListMatches(ctx, tenant, f, page.Clamped())
}

// CreateMatch pairs a mentor with a mentee by hand: both must be eligible
// participants of the program, the pair must break no hard rule (the
// minimum score does not apply to manual pairs), the mentee must be free
// and the mentor have capacity left. The match is PROPOSED, or ACCEPTED
// under automatic acceptance.
func (s *Service) CreateMatch(ctx context.Context, tenant, programID, mentorID, menteeID string) (Match, error) {
	var vs apperr.Violations
	for _, f := range []struct{ field, value string }{
		{"program_id", programID}, {"mentor_participant_id", mentorID}, {"mentee_participant_id", menteeID},
	} {
		if strings.TrimSpace(f.value) == "" {
			vs.Add(f.field, "must not be empty")
		}
	}
	if err := vs.Err(); err != nil {
		return Match{}, err
	}
	in, err := s.ProgramInput(ctx, tenant, programID)
	if err != nil {
		return Match{}, err
	}
	mentor, mentee, err := in.pair(mentorID, menteeID)
	if err != nil {
		return Match{}, err
	}
	pair, err := explainPair(in, mentor, mentee)
	if err != nil {
		return Match{}, err
	}
	now := s.now()
	m := Match{ID: newID(), ProgramID: programID, Source: SourceManual, MentorID: mentor.ID, MenteeID: mentee.ID,
		MentorPersonID: mentor.PersonID, MenteePersonID: mentee.PersonID, State: MatchProposed, Score: pair.Score,
		Factors: Factors(pair.Factors), CreateTime: now, UpdateTime: now}
	return s.store.CreateMatch(ctx, tenant, m, func(snap Snapshot) (Match, error) {
		if err := snap.takesMatches(); err != nil {
			return Match{}, err
		}
		if conflicts := snap.conflicts(m.MentorID, m.MenteeID, nil); len(conflicts) > 0 {
			return Match{}, fmt.Errorf("%s: %w", strings.Join(conflicts, "; "), apperr.ErrFailedPrecondition)
		}
		return snap.Config.created(m), nil
	})
}

// pair finds an eligible mentor and mentee of the input, or says why not.
func (in Input) pair(mentorID, menteeID string) (engine.Profile, engine.Profile, error) {
	mentor, ok := in.Mentor(mentorID)
	if !ok {
		return engine.Profile{}, engine.Profile{}, in.notEligible(mentorID, RoleMentor)
	}
	mentee, ok := in.Mentee(menteeID)
	if !ok {
		return engine.Profile{}, engine.Profile{}, in.notEligible(menteeID, RoleMentee)
	}
	return mentor, mentee, nil
}

func (in Input) notEligible(id string, role Role) error {
	if _, isMentee := in.Mentee(id); isMentee && role == RoleMentor {
		return fmt.Errorf("participant %s is a mentee of program %s, not a mentor: %w", id, in.Program.ID, apperr.ErrFailedPrecondition)
	}
	if _, isMentor := in.Mentor(id); isMentor && role == RoleMentee {
		return fmt.Errorf("participant %s is a mentor of program %s, not a mentee: %w", id, in.Program.ID, apperr.ErrFailedPrecondition)
	}
	return fmt.Errorf("participant %s is not an enrolled, active %s of program %s: %w", id, role, in.Program.ID, apperr.ErrFailedPrecondition)
}

// explainPair scores one pair under the input's rules and fails when it
// breaks a hard rule other than the minimum score, naming the rules.
func explainPair(in Input, mentor, mentee engine.Profile) (engine.PairScore, error) {
	model, err := engine.NewModel(in.Rules, []engine.Profile{mentor}, []engine.Profile{mentee})
	if err != nil {
		return engine.PairScore{}, fmt.Errorf("program %s cannot be scored: %v: %w", in.Program.ID, err, apperr.ErrFailedPrecondition)
	}
	pair := model.Explain(0, 0)
	broken := slices.DeleteFunc(slices.Clone(pair.Broken), func(r engine.Rule) bool { return r == engine.RuleMinScore })
	if len(broken) > 0 {
		names := make([]string, len(broken))
		for i, r := range broken {
			names[i] = string(r)
		}
		return pair, fmt.Errorf("mentor %s and mentee %s break hard rules: %s: %w",
			mentor.ID, mentee.ID, strings.Join(names, ", "), apperr.ErrFailedPrecondition)
	}
	return pair, nil
}

// AcceptMatch records participantID's acceptance of a PROPOSED match; the
// match becomes ACCEPTED once the program's acceptance rule is met.
// Accepting twice changes nothing.
func (s *Service) AcceptMatch(ctx context.Context, tenant, id, participantID string) (Match, error) {
	if err := requireIDs(id, participantID); err != nil {
		return Match{}, err
	}
	current, err := s.store.Match(ctx, tenant, id)
	if err != nil {
		return Match{}, err
	}
	cfg, err := s.ScoringConfig(ctx, tenant, current.ProgramID)
	if err != nil {
		return Match{}, err
	}
	now := s.now()
	return s.store.UpdateMatch(ctx, tenant, id, func(m *Match) error {
		side, err := m.side(participantID)
		if err != nil {
			return err
		}
		if m.State != MatchProposed {
			return illegal(*m, "accepted", MatchProposed)
		}
		if side == RoleMentor {
			m.MentorAccepted = true
		} else {
			m.MenteeAccepted = true
		}
		if cfg.accepts(*m) {
			m.State = MatchAccepted
		}
		m.UpdateTime = now
		return nil
	})
}

// accepts reports whether a proposed match's acceptances meet the rule.
func (c ScoringConfig) accepts(m Match) bool {
	switch c.Acceptance {
	case AcceptanceMentee:
		return m.MenteeAccepted
	case AcceptanceAutomatic:
		return m.MentorAccepted || m.MenteeAccepted
	default:
		return m.MentorAccepted && m.MenteeAccepted
	}
}

// DeclineMatch declines a PROPOSED or ACCEPTED match: both participants
// return to the pool and the pair counts as a past pair of the program.
// A participant declines for their side; an admin may decline for either.
func (s *Service) DeclineMatch(ctx context.Context, tenant, id string, actor Actor, reason string) (Match, error) {
	if strings.TrimSpace(id) == "" {
		return Match{}, apperr.Invalid("id", "must not be empty")
	}
	if actor.ParticipantID == "" && !actor.Admin {
		return Match{}, apperr.Invalid("participant_id", "required: the declining participant")
	}
	now := s.now()
	return s.store.UpdateMatch(ctx, tenant, id, func(m *Match) error {
		if actor.ParticipantID != "" {
			if _, err := m.side(actor.ParticipantID); err != nil {
				return err
			}
		}
		if m.State != MatchProposed && m.State != MatchAccepted {
			return illegal(*m, "declined", MatchProposed, MatchAccepted)
		}
		m.State, m.DeclineReason, m.DeclinedBy, m.UpdateTime = MatchDeclined, reason, actor.ParticipantID, now
		return nil
	})
}

// ActivateMatch starts an ACCEPTED match.
func (s *Service) ActivateMatch(ctx context.Context, tenant, id string) (Match, error) {
	if strings.TrimSpace(id) == "" {
		return Match{}, apperr.Invalid("id", "must not be empty")
	}
	now := s.now()
	return s.store.UpdateMatch(ctx, tenant, id, func(m *Match) error {
		if m.State != MatchAccepted {
			return illegal(*m, "activated", MatchAccepted)
		}
		m.State, m.UpdateTime = MatchActive, now
		return nil
	})
}

// EndMatch ends an ACTIVE match; the reason is required. The pair counts
// as a past pair of the program.
func (s *Service) EndMatch(ctx context.Context, tenant, id, reason string) (Match, error) {
	var vs apperr.Violations
	if strings.TrimSpace(id) == "" {
		vs.Add("id", "must not be empty")
	}
	if strings.TrimSpace(reason) == "" {
		vs.Add("reason", "required: why the mentoring ended")
	}
	if err := vs.Err(); err != nil {
		return Match{}, err
	}
	now := s.now()
	return s.store.UpdateMatch(ctx, tenant, id, func(m *Match) error {
		if m.State != MatchActive {
			return illegal(*m, "ended", MatchActive)
		}
		m.State, m.EndReason, m.UpdateTime = MatchEnded, reason, now
		return nil
	})
}

// side says whether participantID is the match's mentor or mentee.
func (m Match) side(participantID string) (Role, error) {
	switch participantID {
	case m.MentorID:
		return RoleMentor, nil
	case m.MenteeID:
		return RoleMentee, nil
	}
	return "", apperr.Invalid("participant_id", fmt.Sprintf("participant %s is neither the mentor nor the mentee of match %s", participantID, m.ID))
}

// illegal is the error of a move a match in its state cannot make.
func illegal(m Match, move string, from ...MatchState) error {
	names := make([]string, len(from))
	for i, s := range from {
		names[i] = strings.ToUpper(string(s))
	}
	return fmt.Errorf("match %s is %s; it can be %s only when %s: %w",
		m.ID, strings.ToUpper(string(m.State)), move, strings.Join(names, " or "), apperr.ErrFailedPrecondition)
}

func requireIDs(id, participantID string) error {
	var vs apperr.Violations
	if strings.TrimSpace(id) == "" {
		vs.Add("id", "must not be empty")
	}
	if strings.TrimSpace(participantID) == "" {
		vs.Add("participant_id", "must not be empty")
	}
	return vs.Err()
}
