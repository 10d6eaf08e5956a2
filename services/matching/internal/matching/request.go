package matching

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/services/matching/engine"
)

// RequestState is a step of a self-matching request's life.
type RequestState string

// Request states. A PENDING request past its expiry reads as EXPIRED
// before the sweeper stores it so.
const (
	RequestPending   RequestState = "pending"
	RequestApproved  RequestState = "approved"
	RequestRejected  RequestState = "rejected"
	RequestCancelled RequestState = "cancelled"
	RequestExpired   RequestState = "expired"
)

// MatchRequest is one participant's request to pair up with another of
// the same program, one a mentor and the other a mentee.
type MatchRequest struct {
	ID                string
	ProgramID         string
	RequesterID       string
	TargetID          string
	RequesterPersonID string
	TargetPersonID    string
	// RequesterRole is the requester's side; the target has the other.
	RequesterRole Role
	Message       string
	State         RequestState
	// Reason is why it was rejected.
	Reason string
	// MatchID names the match the approval created.
	MatchID    string
	CreateTime time.Time
	UpdateTime time.Time
	ExpireTime time.Time
}

// At returns the request as it reads at now: a pending request past its
// expiry is EXPIRED.
func (r MatchRequest) At(now time.Time) MatchRequest {
	if r.State == RequestPending && !now.Before(r.ExpireTime) {
		r.State = RequestExpired
	}
	return r
}

// mentorAndMentee returns the participant ids of the request's mentor and
// mentee.
func (r MatchRequest) mentorAndMentee() (string, string) {
	if r.RequesterRole == RoleMentor {
		return r.RequesterID, r.TargetID
	}
	return r.TargetID, r.RequesterID
}

// RequestFilter narrows a request listing; empty fields do not filter.
type RequestFilter struct {
	ProgramID string
	// ParticipantID matches the requester or the target.
	ParticipantID string
	State         RequestState
}

// RequestSnapshot is what the store reads, in the transaction creating a
// request, besides the program's snapshot: the requester's pending,
// unexpired requests in the program and whether the two already have one.
type RequestSnapshot struct {
	Snapshot
	Pending   int
	Duplicate bool
}

// RequestStore keeps self-matching requests.
type RequestStore interface {
	// CreateMatchRequest calls check in a transaction holding the
	// program's lock and stores r with match_request.created unless check
	// fails. Pending counts only requests unexpired at r.CreateTime.
	CreateMatchRequest(ctx context.Context, tenant string, r MatchRequest, check func(RequestSnapshot) error) error
	MatchRequest(ctx context.Context, tenant, id string) (MatchRequest, error)
	// ListMatchRequests returns requests ordered by id; the state filter
	// reads requests as they are at now (a pending request past its expiry
	// is expired).
	ListMatchRequests(ctx context.Context, tenant string, f RequestFilter, now time.Time, page Page) ([]MatchRequest, error)
	// UpdateMatchRequest applies change to a request and stores it with
	// the event of its new state. A concurrent change of the request
	// fails with apperr.ErrAborted.
	UpdateMatchRequest(ctx context.Context, tenant, id string, change func(*MatchRequest) error) (MatchRequest, error)
	// ApproveMatchRequest calls plan in a transaction holding the
	// program's lock and stores the approved request and the new match it
	// returns, with match_request.approved and the match's event.
	ApproveMatchRequest(ctx context.Context, tenant, id string, plan func(MatchRequest, Snapshot) (MatchRequest, Match, error)) (MatchRequest, Match, error)
	// ExpireMatchRequests stores up to limit pending requests of any
	// tenant whose expiry is not after now as EXPIRED, each with
	// match_request.expired, and returns how many.
	ExpireMatchRequests(ctx context.Context, now time.Time, limit int) (int, error)
}

// CreateMatchRequest asks targetID to pair up with requesterID. One must
// be an eligible mentor and the other an eligible mentee of the program;
// the pair must break no hard rule (the minimum score does not apply), the
// mentee must be free and the mentor have capacity left; the requester
// may have at most the configuration's max_pending_requests pending.
func (s *Service) CreateMatchRequest(ctx context.Context, tenant, programID, requesterID, targetID, message string) (MatchRequest, error) {
	var vs apperr.Violations
	for _, f := range []struct{ field, value string }{
		{"program_id", programID}, {"requester_participant_id", requesterID}, {"target_participant_id", targetID},
	} {
		if strings.TrimSpace(f.value) == "" {
			vs.Add(f.field, "must not be empty")
		}
	}
	if requesterID != "" && requesterID == targetID {
		vs.Add("target_participant_id", "must not be the requester")
	}
	if err := vs.Err(); err != nil {
		return MatchRequest{}, err
	}
	in, err := s.ProgramInput(ctx, tenant, programID)
	if err != nil {
		return MatchRequest{}, err
	}
	r := MatchRequest{ID: newID(), ProgramID: programID, RequesterID: requesterID, TargetID: targetID, Message: message,
		State: RequestPending}
	switch {
	case has(in.Mentors, requesterID):
		r.RequesterRole = RoleMentor
	case has(in.Mentees, requesterID):
		r.RequesterRole = RoleMentee
	default:
		return MatchRequest{}, fmt.Errorf("participant %s is not an enrolled, active participant of program %s: %w",
			requesterID, programID, apperr.ErrFailedPrecondition)
	}
	mentorID, menteeID := r.mentorAndMentee()
	mentor, mentee, err := in.pair(mentorID, menteeID)
	if err != nil {
		return MatchRequest{}, err
	}
	if _, err := explainPair(in, mentor, mentee); err != nil {
		return MatchRequest{}, err
	}
	r.RequesterPersonID, r.TargetPersonID = mentor.PersonID, mentee.PersonID
	if r.RequesterRole == RoleMentee {
		r.RequesterPersonID, r.TargetPersonID = mentee.PersonID, mentor.PersonID
	}
	r.CreateTime = s.now()
	r.UpdateTime, r.ExpireTime = r.CreateTime, r.CreateTime.Add(in.Config.RequestTTL())
	err = s.store.CreateMatchRequest(ctx, tenant, r, func(snap RequestSnapshot) error {
		if err := snap.takesMatches(); err != nil {
			return err
		}
		if snap.Duplicate {
			return fmt.Errorf("a pending request between %s and %s exists already: %w", requesterID, targetID, apperr.ErrAlreadyExists)
		}
		if snap.Pending >= snap.Config.MaxPendingRequests {
			return fmt.Errorf("participant %s has %d pending requests, the program's limit is %d; cancel one or wait for an answer: %w",
				requesterID, snap.Pending, snap.Config.MaxPendingRequests, apperr.ErrFailedPrecondition)
		}
		if conflicts := snap.conflicts(mentorID, menteeID, nil); len(conflicts) > 0 {
			return fmt.Errorf("%s: %w", strings.Join(conflicts, "; "), apperr.ErrFailedPrecondition)
		}
		return nil
	})
	if err != nil {
		return MatchRequest{}, err
	}
	return r, nil
}

func has(profiles []engine.Profile, id string) bool {
	_, ok := find(profiles, id)
	return ok
}

// MatchRequest returns one request as it reads now.
func (s *Service) MatchRequest(ctx context.Context, tenant, id string) (MatchRequest, error) {
	if strings.TrimSpace(id) == "" {
		return MatchRequest{}, apperr.Invalid("id", "must not be empty")
	}
	r, err := s.store.MatchRequest(ctx, tenant, id)
	if err != nil {
		return MatchRequest{}, err
	}
	return r.At(s.now()), nil
}

// ListMatchRequests returns one page of requests as they read now, oldest
// first.
func (s *Service) ListMatchRequests(ctx context.Context, tenant string, f RequestFilter, page Page) ([]MatchRequest, error) {
	switch f.State {
	case "", RequestPending, RequestApproved, RequestRejected, RequestCancelled, RequestExpired:
	default:
		return nil, apperr.Invalid("state", fmt.Sprintf("unknown request state %q", f.State))
	}
	now := s.now()
	list, err := s.store.ListMatchRequests(ctx, tenant, f, now, page.Clamped())
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i] = list[i].At(now)
	}
	return list, nil
}

// ApproveMatchRequest approves a pending request on behalf of its target
// (or by an admin) and creates an ACCEPTED match: both sides agreed. The
// hard rules, the mentee's freedom and the mentor's capacity are checked
// again.
func (s *Service) ApproveMatchRequest(ctx context.Context, tenant, id string, actor Actor) (MatchRequest, error) {
	if strings.TrimSpace(id) == "" {
		return MatchRequest{}, apperr.Invalid("id", "must not be empty")
	}
	current, err := s.store.MatchRequest(ctx, tenant, id)
	if err != nil {
		return MatchRequest{}, err
	}
	now := s.now()
	if err := current.answerable(now, actor, current.TargetID, "approved"); err != nil {
		return MatchRequest{}, err
	}
	in, err := s.ProgramInput(ctx, tenant, current.ProgramID)
	if err != nil {
		return MatchRequest{}, err
	}
	mentorID, menteeID := current.mentorAndMentee()
	mentor, mentee, err := in.pair(mentorID, menteeID)
	if err != nil {
		return MatchRequest{}, err
	}
	pair, err := explainPair(in, mentor, mentee)
	if err != nil {
		return MatchRequest{}, err
	}
	r, _, err := s.store.ApproveMatchRequest(ctx, tenant, id, func(r MatchRequest, snap Snapshot) (MatchRequest, Match, error) {
		if err := r.answerable(now, actor, r.TargetID, "approved"); err != nil {
			return r, Match{}, err
		}
		if err := snap.takesMatches(); err != nil {
			return r, Match{}, err
		}
		if conflicts := snap.conflicts(mentorID, menteeID, nil); len(conflicts) > 0 {
			return r, Match{}, fmt.Errorf("%s: %w", strings.Join(conflicts, "; "), apperr.ErrFailedPrecondition)
		}
		m := Match{ID: newID(), ProgramID: r.ProgramID, RequestID: r.ID, Source: SourceRequest, MentorID: mentor.ID,
			MenteeID: mentee.ID, MentorPersonID: mentor.PersonID, MenteePersonID: mentee.PersonID, State: MatchAccepted,
			Score: pair.Score, Factors: Factors(pair.Factors), MentorAccepted: true, MenteeAccepted: true,
			CreateTime: now, UpdateTime: now}
		r.State, r.MatchID, r.UpdateTime = RequestApproved, m.ID, now
		return r, m, nil
	})
	return r, err
}

// RejectMatchRequest rejects a pending request on behalf of its target (or
// by an admin).
func (s *Service) RejectMatchRequest(ctx context.Context, tenant, id string, actor Actor, reason string) (MatchRequest, error) {
	if strings.TrimSpace(id) == "" {
		return MatchRequest{}, apperr.Invalid("id", "must not be empty")
	}
	now := s.now()
	return s.store.UpdateMatchRequest(ctx, tenant, id, func(r *MatchRequest) error {
		if err := r.answerable(now, actor, r.TargetID, "rejected"); err != nil {
			return err
		}
		r.State, r.Reason, r.UpdateTime = RequestRejected, reason, now
		return nil
	})
}

// CancelMatchRequest withdraws a pending request on behalf of its
// requester (or by an admin).
func (s *Service) CancelMatchRequest(ctx context.Context, tenant, id string, actor Actor) (MatchRequest, error) {
	if strings.TrimSpace(id) == "" {
		return MatchRequest{}, apperr.Invalid("id", "must not be empty")
	}
	now := s.now()
	return s.store.UpdateMatchRequest(ctx, tenant, id, func(r *MatchRequest) error {
		if err := r.answerable(now, actor, r.RequesterID, "cancelled"); err != nil {
			return err
		}
		r.State, r.UpdateTime = RequestCancelled, now
		return nil
	})
}

// answerable checks that the request is pending at now and that actor may
// move it: the participant who, or an admin.
func (r MatchRequest) answerable(now time.Time, actor Actor, who, move string) error {
	switch {
	case actor.ParticipantID == "" && !actor.Admin:
		return apperr.Invalid("participant_id", "required: the participant acting")
	case actor.ParticipantID != "" && actor.ParticipantID != who:
		return fmt.Errorf("request %s is %s only by participant %s or a program manager: %w", r.ID, move, who, apperr.ErrPermissionDenied)
	}
	if state := r.At(now).State; state != RequestPending {
		return fmt.Errorf("request %s is %s; only a PENDING request can be %s: %w",
			r.ID, strings.ToUpper(string(state)), move, apperr.ErrFailedPrecondition)
	}
	return nil
}

// sweepBatch is how many requests one sweeper transaction expires.
const sweepBatch = 500

// SweepRequests stores the pending requests past their expiry as EXPIRED,
// each with its event, every sweep interval until ctx is done; it returns
// nil then. Failures are logged and retried at the next sweep.
func (s *Service) SweepRequests(ctx context.Context) error {
	tick := time.NewTicker(s.sweepInterval)
	defer tick.Stop()
	for {
		if _, err := s.ExpireRequests(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "expiring match requests failed; will retry", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// ExpireRequests expires every pending request past its expiry now and
// returns how many; it blocks until done.
func (s *Service) ExpireRequests(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.store.ExpireMatchRequests(ctx, s.now(), sweepBatch)
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}
