package scheduling

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// SlotRequest asks for meeting times of a match.
type SlotRequest struct {
	MatchID string
	// Weeks ahead to look (0 means 2), meeting length (0 means an hour),
	// how many slots (0 means 10), and from when (zero means now).
	Weeks    int
	Duration time.Duration
	Limit    int
	From     time.Time
}

// Slots suggests meeting times for a match from both people's
// availability, avoiding their booked sessions (see SuggestSlots).
func (s *Service) Slots(ctx context.Context, tenant string, req SlotRequest) ([]Slot, error) {
	m, err := s.bookableMatch(ctx, tenant, req.MatchID, "")
	if err != nil {
		return nil, err
	}
	var vs apperr.Violations
	if req.Weeks < 0 || req.Weeks > 12 {
		vs.Add("weeks", "must be from 1 to 12 (0 means 2)")
	}
	if req.Duration != 0 && (req.Duration < MinSessionLength || req.Duration > MaxSessionLength || req.Duration%(15*time.Minute) != 0) {
		vs.Add("duration_minutes", "must be a multiple of 15 from 15 to 480")
	}
	if req.Limit < 0 || req.Limit > 100 {
		vs.Add("limit", "must be from 1 to 100 (0 means 10)")
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	q := SlotQuery{Weeks: cmp.Or(req.Weeks, 2), Duration: cmp.Or(req.Duration, time.Hour), Limit: cmp.Or(req.Limit, 10), From: req.From}
	if now := s.now(); q.From.Before(now) {
		q.From = now
	}
	for _, side := range []struct {
		role, person string
		into         *Availability
	}{{"mentor", m.MentorPersonID, &q.Mentor}, {"mentee", m.MenteePersonID, &q.Mentee}} {
		a, err := s.store.Availability(ctx, tenant, side.person)
		if errors.Is(err, apperr.ErrNotFound) || (err == nil && len(a.Windows) == 0 && len(a.WorkingHours) == 0) {
			return nil, fmt.Errorf("the %s (person %s) has set no availability: %w", side.role, side.person, apperr.ErrFailedPrecondition)
		}
		if err != nil {
			return nil, err
		}
		*side.into = a
	}
	end := q.From.Add(time.Duration(q.Weeks) * 7 * 24 * time.Hour)
	booked, err := s.store.BookedSessions(ctx, tenant, []string{m.MentorPersonID, m.MenteePersonID}, q.From, end)
	if err != nil {
		return nil, err
	}
	for _, b := range booked {
		q.Busy = append(q.Busy, b.Interval())
	}
	return SuggestSlots(q), nil
}

// CreateRoom adds a room for in-person sessions.
func (s *Service) CreateRoom(ctx context.Context, tenant string, r Room) (Room, error) {
	var vs apperr.Violations
	if strings.TrimSpace(r.DisplayName) == "" || len(r.DisplayName) > 200 {
		vs.Add("room.display_name", "must be 1 to 200 characters")
	}
	if len(r.Location) > 200 {
		vs.Add("room.location", "must be at most 200 characters")
	}
	if r.Capacity < 2 || r.Capacity > 10000 {
		vs.Add("room.capacity", "must be from 2 to 10000")
	}
	if err := vs.Err(); err != nil {
		return Room{}, err
	}
	r.ID, r.CreateTime = newID(), s.now()
	if err := s.store.CreateRoom(ctx, tenant, r); err != nil {
		return Room{}, err
	}
	return r, nil
}

// ListRooms lists rooms in creation order after afterID.
func (s *Service) ListRooms(ctx context.Context, tenant, afterID string, limit int) ([]Room, error) {
	return s.store.ListRooms(ctx, tenant, afterID, limit)
}

// tokenBytes is the entropy of a calendar token: 256 bits.
const tokenBytes = 32

// HashToken is how a calendar token is stored and looked up.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// CreateCalendarToken issues a calendar feed token for a person. The
// secret is in the result only; the store keeps its hash.
func (s *Service) CreateCalendarToken(ctx context.Context, tenant, personID string) (CalendarToken, error) {
	if strings.TrimSpace(personID) == "" {
		return CalendarToken{}, apperr.Invalid("person_id", "must not be empty")
	}
	raw := make([]byte, tokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return CalendarToken{}, fmt.Errorf("calendar token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	t := CalendarToken{ID: newID(), PersonID: personID, Token: token, Hash: HashToken(token), CreateTime: s.now()}
	if err := s.store.CreateCalendarToken(ctx, tenant, t); err != nil {
		return CalendarToken{}, err
	}
	return t, nil
}

// CalendarTokens lists a person's tokens, without their secrets.
func (s *Service) CalendarTokens(ctx context.Context, tenant, personID string) ([]CalendarToken, error) {
	if strings.TrimSpace(personID) == "" {
		return nil, apperr.Invalid("person_id", "must not be empty")
	}
	return s.store.CalendarTokens(ctx, tenant, personID)
}

// RevokeCalendarToken revokes one of a person's tokens.
func (s *Service) RevokeCalendarToken(ctx context.Context, tenant, personID, id string) (CalendarToken, error) {
	if strings.TrimSpace(personID) == "" {
		return CalendarToken{}, apperr.Invalid("person_id", "must not be empty")
	}
	return s.store.RevokeCalendarToken(ctx, tenant, personID, id, s.now())
}

// Feed bounds: sessions from this long ago, and at most this many.
const (
	FeedHistory     = 180 * 24 * time.Hour
	FeedMaxSessions = 2000
)

// CalendarFeed renders the calendar of the person a token opens: their
// sessions from FeedHistory ago on, cancelled ones included so calendar
// applications remove them. An unknown or revoked token is NotFound, the
// same answer for both so tokens cannot be probed.
func (s *Service) CalendarFeed(ctx context.Context, token string) ([]byte, error) {
	token = strings.TrimSuffix(token, ".ics")
	notFound := fmt.Errorf("unknown or revoked calendar token: %w", apperr.ErrNotFound)
	if len(token) < 20 || len(token) > 128 {
		return nil, notFound
	}
	tenant, t, err := s.store.CalendarTokenByHash(ctx, HashToken(token))
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	f := Feed{PersonID: t.PersonID, Rooms: map[string]Room{}, Now: s.now()}
	if a, err := s.store.Availability(ctx, tenant, t.PersonID); err == nil {
		f.TimeZone = a.TimeZone
	} else if !errors.Is(err, apperr.ErrNotFound) {
		return nil, err
	}
	filter := SessionFilter{PersonID: t.PersonID, From: f.Now.Add(-FeedHistory), Limit: 500}
	for len(f.Sessions) < FeedMaxSessions {
		page, err := s.store.ListSessions(ctx, tenant, filter)
		if err != nil {
			return nil, err
		}
		f.Sessions = append(f.Sessions, page...)
		if len(page) < filter.Limit {
			break
		}
		last := page[len(page)-1]
		filter.AfterStart, filter.AfterID = last.Start, last.ID
	}
	for _, sess := range f.Sessions {
		if _, ok := f.Rooms[sess.RoomID]; sess.RoomID == "" || ok {
			continue
		}
		room, err := s.store.Room(ctx, tenant, sess.RoomID)
		if err != nil {
			return nil, err
		}
		f.Rooms[room.ID] = room
	}
	return RenderFeed(f)
}

// ReminderBatch is how many reminders one store call fires.
const ReminderBatch = 100

// RunReminders fires due reminders until ctx is done: it sleeps until the
// next one is due, is woken by this replica's bookings, and looks again at
// least every poll interval for other replicas' bookings. The store claims
// each reminder in the transaction that writes its event, so replicas
// running this together fire each reminder once, and a restart resumes
// where the last run stopped. A store error is logged and retried.
func (s *Service) RunReminders(ctx context.Context) error {
	for {
		wait := s.poll
		n, err := s.store.FireDueReminders(ctx, s.now(), ReminderBatch)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			s.log.ErrorContext(ctx, "scheduling: firing reminders", "error", err)
		case n == ReminderBatch:
			continue
		default:
			next, ok, err := s.store.NextReminderDue(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "scheduling: next reminder", "error", err)
			}
			if ok {
				wait = min(wait, max(next.Sub(s.now()), 10*time.Millisecond))
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-s.reminders:
		case <-timer.C:
		}
		timer.Stop()
	}
}
