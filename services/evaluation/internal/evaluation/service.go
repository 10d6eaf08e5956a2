package evaluation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// DefaultPulseSurveyDays are the pulse survey days of a program that set
// none: about one, two and three months into the mentoring.
var DefaultPulseSurveyDays = []int{30, 60, 90}

// DefaultAgreementTemplate is the agreement template of a program that set
// none.
var DefaultAgreementTemplate = AgreementTerms{
	TopicScope:      "The skills and questions we agree to work on; anything else only when we both want to.",
	Confidentiality: "What is said in our sessions stays between us unless we both agree otherwise. Only our goals, ratings and attendance are shared with the program.",
	Expectations: []string{
		"Come prepared and on time; say early when a session must move.",
		"Be candid: the junior teaches, the senior learns, and both give honest feedback.",
	},
	MeetingStructure: "Sessions of an hour at the program's cadence: review of the last actions, one topic in depth, next actions.",
}

// HealthBatch bounds the healths one RefreshDueHealth call evaluates.
const HealthBatch = 200

// Service carries out the evaluation service's use cases. Callers pass the
// tenant of the verified caller; every lookup is scoped to it.
type Service struct {
	store Store
	now   func() time.Time
	poll  time.Duration
	log   *slog.Logger
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces the system clock (tests move it).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = func() time.Time { return now().UTC().Truncate(time.Microsecond) } }
}

// WithHealthPoll sets how often RunHealth looks for healths that other
// replicas made due.
func WithHealthPoll(d time.Duration) Option {
	return func(s *Service) { s.poll = d }
}

// WithLogger sets the logger of the background loop.
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// NewService returns a Service over store.
func NewService(store Store, opts ...Option) *Service {
	s := &Service{
		store: store, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		poll: time.Minute, log: slog.Default(),
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// Settings returns a program's settings, the defaults when never set.
func (s *Service) Settings(ctx context.Context, tenant, programID string) (Settings, error) {
	if strings.TrimSpace(programID) == "" {
		return Settings{}, apperr.Invalid("program_id", "must not be empty")
	}
	st, err := s.store.Settings(ctx, tenant, programID)
	if errors.Is(err, apperr.ErrNotFound) {
		return Settings{
			ProgramID: programID, AgreementTemplate: DefaultAgreementTemplate,
			PulseSurveyDays: slices.Clone(DefaultPulseSurveyDays), Health: DefaultThresholds,
		}, nil
	}
	if err != nil {
		return Settings{}, err
	}
	st.Health = st.Health.WithDefaults()
	return st, nil
}

// UpdateSettings replaces a program's settings; zero thresholds take the
// defaults, pulse days are sorted.
func (s *Service) UpdateSettings(ctx context.Context, tenant string, st Settings) (Settings, error) {
	var vs apperr.Violations
	if strings.TrimSpace(st.ProgramID) == "" {
		vs.Add("settings.program_id", "must not be empty")
	}
	for i, d := range st.PulseSurveyDays {
		if d < 1 || d > 1825 {
			vs.Add(fmt.Sprintf("settings.pulse_survey_days[%d]", i), "must be 1 to 1825 days")
		}
	}
	if err := vs.Err(); err != nil {
		return Settings{}, err
	}
	st.PulseSurveyDays = slices.Compact(slices.Sorted(slices.Values(st.PulseSurveyDays)))
	st.Health = st.Health.WithDefaults()
	st.UpdateTime = s.now()
	if err := s.store.PutSettings(ctx, tenant, st); err != nil {
		return Settings{}, err
	}
	return st, nil
}

// pairMatch returns a match personID is a side of, in a state that lets
// the pair work: accepted or active.
func (s *Service) pairMatch(ctx context.Context, tenant, matchID, personID string) (Match, error) {
	m, err := s.store.Match(ctx, tenant, matchID)
	if err != nil {
		return Match{}, err
	}
	if personID != m.MentorPersonID && personID != m.MenteePersonID {
		return Match{}, fmt.Errorf("%w: person %s is not a side of match %s", apperr.ErrPermissionDenied, personID, matchID)
	}
	if m.State != MatchAccepted && m.State != MatchActive {
		return Match{}, fmt.Errorf("%w: match %s is %s; only an accepted or active pair can do this", apperr.ErrFailedPrecondition, matchID, m.State)
	}
	return m, nil
}

// CreateAgreement starts a pair's agreement from terms, or from the
// program's template when terms is nil.
func (s *Service) CreateAgreement(ctx context.Context, tenant, matchID, personID string, terms *AgreementTerms) (Agreement, error) {
	m, err := s.pairMatch(ctx, tenant, matchID, personID)
	if err != nil {
		return Agreement{}, err
	}
	if terms == nil {
		st, err := s.Settings(ctx, tenant, m.ProgramID)
		if err != nil {
			return Agreement{}, err
		}
		terms = &st.AgreementTemplate
	}
	now := s.now()
	a := Agreement{
		MatchID: m.ID, ProgramID: m.ProgramID, Version: 1, Terms: *terms,
		MentorPersonID: m.MentorPersonID, MenteePersonID: m.MenteePersonID,
		AuthorPersonID: personID, CreateTime: now, UpdateTime: now,
	}
	if err := s.store.CreateAgreement(ctx, tenant, a, now); err != nil {
		return Agreement{}, err
	}
	return a, nil
}

// Agreement returns a version of a pair's agreement, the newest for 0.
func (s *Service) Agreement(ctx context.Context, tenant, matchID string, version int) (Agreement, error) {
	return s.store.Agreement(ctx, tenant, matchID, version)
}

// UpdateAgreement writes a new version of the terms; version is the
// newest the caller saw. Both sides must sign the new version.
func (s *Service) UpdateAgreement(ctx context.Context, tenant, matchID, personID string, terms AgreementTerms, version int) (Agreement, error) {
	if _, err := s.pairMatch(ctx, tenant, matchID, personID); err != nil {
		return Agreement{}, err
	}
	now := s.now()
	return s.store.ChangeAgreement(ctx, tenant, matchID, now, func(cur Agreement) (Agreement, string, error) {
		if cur.Version != version {
			return Agreement{}, "", fmt.Errorf("%w: the agreement is at version %d, not %d: read it again", apperr.ErrAborted, cur.Version, version)
		}
		next := cur
		next.Version++
		next.Terms = terms
		next.MentorSignTime, next.MenteeSignTime = time.Time{}, time.Time{}
		next.AuthorPersonID = personID
		next.CreateTime, next.UpdateTime = now, now
		return next, "", nil
	})
}

// SignAgreement signs the newest version for personID's side.
func (s *Service) SignAgreement(ctx context.Context, tenant, matchID, personID string, version int) (Agreement, error) {
	if _, err := s.pairMatch(ctx, tenant, matchID, personID); err != nil {
		return Agreement{}, err
	}
	now := s.now()
	return s.store.ChangeAgreement(ctx, tenant, matchID, now, func(cur Agreement) (Agreement, string, error) {
		if cur.Version != version {
			return Agreement{}, "", fmt.Errorf("%w: the agreement is at version %d, not %d: read it again", apperr.ErrAborted, cur.Version, version)
		}
		sign := &cur.MentorSignTime
		if personID == cur.MenteePersonID {
			sign = &cur.MenteeSignTime
		}
		if !sign.IsZero() {
			return Agreement{}, "", fmt.Errorf("%w: person %s signed version %d already", apperr.ErrAlreadyExists, personID, version)
		}
		*sign = now
		cur.UpdateTime = now
		return cur, personID, nil
	})
}

// CreateGoal adds a goal to a pair.
func (s *Service) CreateGoal(ctx context.Context, tenant, personID string, g Goal) (Goal, error) {
	m, err := s.pairMatch(ctx, tenant, g.MatchID, personID)
	if err != nil {
		return Goal{}, err
	}
	now := s.now()
	g.ID, g.ProgramID, g.AuthorPersonID, g.Revision = newID(), m.ProgramID, personID, 1
	g.State = cmp.Or(g.State, GoalOpen)
	g.CreateTime, g.CompleteTime = now, time.Time{}
	if err := settleGoal(&g, Goal{}, now); err != nil {
		return Goal{}, err
	}
	if err := s.store.CreateGoal(ctx, tenant, g); err != nil {
		return Goal{}, err
	}
	return g, nil
}

// UpdateGoal changes a goal: patch sets the new field values on the goal
// read inside the store's transaction.
func (s *Service) UpdateGoal(ctx context.Context, tenant, personID, id string, patch func(*Goal) error) (Goal, error) {
	g, err := s.store.Goal(ctx, tenant, id)
	if err != nil {
		return Goal{}, err
	}
	if _, err := s.pairMatch(ctx, tenant, g.MatchID, personID); err != nil {
		return Goal{}, err
	}
	now := s.now()
	return s.store.UpdateGoal(ctx, tenant, id, func(g *Goal) error {
		old := *g
		old.Milestones = slices.Clone(g.Milestones)
		if err := patch(g); err != nil {
			return err
		}
		return settleGoal(g, old, now)
	})
}

// settleGoal validates a goal after a change from old and derives its
// progress, completion time and milestone times.
func settleGoal(g *Goal, old Goal, now time.Time) error {
	var vs apperr.Violations
	if strings.TrimSpace(g.Title) == "" {
		vs.Add("goal.title", "must not be empty")
	}
	if g.State != GoalOpen && g.State != GoalCompleted && g.State != GoalAbandoned {
		vs.Add("goal.state", "must be OPEN, COMPLETED or ABANDONED")
	}
	if g.DueDate != "" {
		if _, err := time.Parse(time.DateOnly, g.DueDate); err != nil {
			vs.Add("goal.due_date", "must be a date as YYYY-MM-DD")
		}
	}
	if g.Progress < 0 || g.Progress > 100 {
		vs.Add("goal.progress_percent", "must be 0 to 100")
	}
	for i := range g.Milestones {
		m := &g.Milestones[i]
		if strings.TrimSpace(m.Title) == "" {
			vs.Add(fmt.Sprintf("goal.milestones[%d].title", i), "must not be empty")
		}
		// A milestone keeps its done time while it stays done under its title.
		m.DoneTime = time.Time{}
		if m.Done {
			m.DoneTime = now
			if i < len(old.Milestones) && old.Milestones[i].Done && old.Milestones[i].Title == m.Title {
				m.DoneTime = old.Milestones[i].DoneTime
			}
		}
	}
	if err := vs.Err(); err != nil {
		return err
	}
	if n := len(g.Milestones); n > 0 {
		done := 0
		for _, m := range g.Milestones {
			if m.Done {
				done++
			}
		}
		g.Progress = done * 100 / n
	}
	switch {
	case g.State == GoalCompleted && old.State != GoalCompleted:
		g.Progress, g.CompleteTime = 100, now
	case g.State == GoalCompleted:
		g.Progress = 100
	default:
		g.CompleteTime = time.Time{}
	}
	g.UpdateTime = now
	return nil
}

// Goals lists a pair's goals.
func (s *Service) Goals(ctx context.Context, tenant, matchID string) ([]Goal, error) {
	if _, err := s.store.Match(ctx, tenant, matchID); err != nil {
		return nil, err
	}
	return s.store.Goals(ctx, tenant, matchID)
}

// SubmitFeedback records one side's feedback on a completed session.
func (s *Service) SubmitFeedback(ctx context.Context, tenant string, f Feedback) (Feedback, error) {
	var vs apperr.Violations
	if f.Rating < 1 || f.Rating > 5 {
		vs.Add("rating", "must be 1 to 5")
	}
	for i, tag := range f.Tags {
		if strings.TrimSpace(tag) == "" {
			vs.Add(fmt.Sprintf("tags[%d]", i), "must not be empty")
		}
	}
	if err := vs.Err(); err != nil {
		return Feedback{}, err
	}
	sess, err := s.store.Session(ctx, tenant, f.SessionID)
	if err != nil {
		return Feedback{}, err
	}
	m, err := s.store.Match(ctx, tenant, sess.MatchID)
	if err != nil {
		return Feedback{}, err
	}
	if f.AuthorPersonID != m.MentorPersonID && f.AuthorPersonID != m.MenteePersonID {
		return Feedback{}, fmt.Errorf("%w: person %s is not a side of session %s", apperr.ErrPermissionDenied, f.AuthorPersonID, f.SessionID)
	}
	if sess.State != SessionCompleted {
		return Feedback{}, fmt.Errorf("%w: session %s is %s; feedback is on held sessions", apperr.ErrFailedPrecondition, f.SessionID, sess.State)
	}
	now := s.now()
	f.ID, f.MatchID, f.ProgramID, f.SubmitTime = newID(), m.ID, m.ProgramID, now
	f.HasPrivateComment = f.PrivateComment != ""
	if err := s.store.CreateFeedback(ctx, tenant, f, now); err != nil {
		return Feedback{}, err
	}
	f.PrivateComment = ""
	return f, nil
}

// ListFeedback lists a pair's feedback, newest first.
func (s *Service) ListFeedback(ctx context.Context, tenant, matchID string, after Cursor, limit int) ([]Feedback, error) {
	if _, err := s.store.Match(ctx, tenant, matchID); err != nil {
		return nil, err
	}
	return s.store.ListFeedback(ctx, tenant, matchID, after, limit)
}

// MinReasonLength is the shortest reason an admin may give for reading a
// private comment.
const MinReasonLength = 10

// ReadPrivateComment returns a feedback's private comment to its author
// (personID), or to an admin (actor, admin true) who gives a reason; an
// admin's read is recorded as an audit event first.
func (s *Service) ReadPrivateComment(ctx context.Context, tenant, feedbackID, personID, actor string, admin bool, reason string) (Feedback, error) {
	f, err := s.store.Feedback(ctx, tenant, feedbackID)
	if err != nil {
		return Feedback{}, err
	}
	if personID != "" && personID == f.AuthorPersonID {
		return f, nil
	}
	if !admin {
		return Feedback{}, fmt.Errorf("%w: only the author or a tenant admin may read a private comment", apperr.ErrPermissionDenied)
	}
	if len(strings.TrimSpace(reason)) < MinReasonLength {
		return Feedback{}, apperr.Invalid("reason", fmt.Sprintf("must say why the comment is read, in at least %d characters", MinReasonLength))
	}
	err = s.store.RecordPrivateCommentRead(ctx, tenant, PrivateCommentRead{
		FeedbackID: f.ID, AuthorPersonID: f.AuthorPersonID, Actor: actor, Reason: strings.TrimSpace(reason), ReadTime: s.now(),
	})
	if err != nil {
		return Feedback{}, err
	}
	return f, nil
}

// PulseSurvey is one side's survey of a pair on one configured day.
type PulseSurvey struct {
	Match    Match
	PersonID string
	Day      int
	Due      time.Time
	Response *PulseResponse // nil until answered
}

// PulseSurveys lists a person's surveys that are due by now: for every pair
// they are a side of and every configured day that fell while the pair was
// active, oldest first.
func (s *Service) PulseSurveys(ctx context.Context, tenant, personID string, dueOnly bool) ([]PulseSurvey, error) {
	matches, err := s.store.PersonMatches(ctx, tenant, personID)
	if err != nil {
		return nil, err
	}
	responses, err := s.store.PulseResponses(ctx, tenant, personID)
	if err != nil {
		return nil, err
	}
	answered := map[string]PulseResponse{}
	for _, r := range responses {
		answered[fmt.Sprint(r.MatchID, "/", r.Day)] = r
	}
	now := s.now()
	settings := map[string]Settings{}
	var out []PulseSurvey
	for _, m := range matches {
		st, ok := settings[m.ProgramID]
		if !ok {
			if st, err = s.Settings(ctx, tenant, m.ProgramID); err != nil {
				return nil, err
			}
			settings[m.ProgramID] = st
		}
		for _, d := range st.PulseSurveyDays {
			due, ok := surveyDue(m, d, now)
			if !ok {
				continue
			}
			ps := PulseSurvey{Match: m, PersonID: personID, Day: d, Due: due}
			if r, ok := answered[fmt.Sprint(m.ID, "/", d)]; ok {
				ps.Response = &r
			}
			if ps.Response == nil || !dueOnly {
				out = append(out, ps)
			}
		}
	}
	slices.SortFunc(out, func(a, b PulseSurvey) int {
		return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.Match.ID, b.Match.ID))
	})
	return out, nil
}

// surveyDue returns when day d of pair m is due, and whether it is by now:
// the pair must have been active then.
func surveyDue(m Match, d int, now time.Time) (time.Time, bool) {
	if m.ActivateTime.IsZero() {
		return time.Time{}, false
	}
	due := m.ActivateTime.Add(time.Duration(d) * day)
	if due.After(now) || at(m.EndTime, due) || at(m.DeclineTime, due) {
		return due, false
	}
	return due, true
}

// SubmitPulseResponse answers a due pulse survey.
func (s *Service) SubmitPulseResponse(ctx context.Context, tenant string, r PulseResponse) (PulseResponse, error) {
	var vs apperr.Violations
	if r.Satisfaction < 1 || r.Satisfaction > 5 {
		vs.Add("satisfaction", "must be 1 to 5")
	}
	if r.Recommend < 0 || r.Recommend > 10 {
		vs.Add("recommend", "must be 0 to 10")
	}
	if err := vs.Err(); err != nil {
		return PulseResponse{}, err
	}
	m, err := s.store.Match(ctx, tenant, r.MatchID)
	if err != nil {
		return PulseResponse{}, err
	}
	if r.PersonID != m.MentorPersonID && r.PersonID != m.MenteePersonID {
		return PulseResponse{}, fmt.Errorf("%w: person %s is not a side of match %s", apperr.ErrPermissionDenied, r.PersonID, r.MatchID)
	}
	st, err := s.Settings(ctx, tenant, m.ProgramID)
	if err != nil {
		return PulseResponse{}, err
	}
	if !slices.Contains(st.PulseSurveyDays, r.Day) {
		return PulseResponse{}, apperr.Invalid("day", fmt.Sprintf("must be a pulse survey day of the program: %v", st.PulseSurveyDays))
	}
	now := s.now()
	if due, ok := surveyDue(m, r.Day, now); !ok {
		if m.ActivateTime.IsZero() || due.After(now) {
			return PulseResponse{}, fmt.Errorf("%w: the day-%d survey of match %s is not due yet", apperr.ErrFailedPrecondition, r.Day, r.MatchID)
		}
		return PulseResponse{}, fmt.Errorf("%w: match %s was no longer active on day %d", apperr.ErrFailedPrecondition, r.MatchID, r.Day)
	}
	r.ID, r.ProgramID, r.SubmitTime = newID(), m.ProgramID, now
	if err := s.store.CreatePulseResponse(ctx, tenant, r); err != nil {
		return PulseResponse{}, err
	}
	return r, nil
}

// SubmitAssessment records a participant's self-assessed levels in skills
// they develop. A POST level needs a PRE level of the same skill.
func (s *Service) SubmitAssessment(ctx context.Context, tenant string, a SelfAssessment) (SelfAssessment, error) {
	p, err := s.store.Participant(ctx, tenant, a.ParticipantID)
	if err != nil {
		return SelfAssessment{}, err
	}
	var vs apperr.Violations
	if a.Phase != PhasePre && a.Phase != PhasePost {
		vs.Add("phase", "must be PRE or POST")
	}
	if len(a.Levels) == 0 {
		vs.Add("levels", "must name at least one skill")
	}
	seen := map[string]bool{}
	for i, l := range a.Levels {
		switch {
		case seen[l.SkillID]:
			vs.Add(fmt.Sprintf("levels[%d].skill_id", i), "is named twice")
		case !slices.Contains(p.DevelopmentSkills, l.SkillID):
			vs.Add(fmt.Sprintf("levels[%d].skill_id", i), fmt.Sprintf("must be a skill the participant develops: %v", p.DevelopmentSkills))
		}
		seen[l.SkillID] = true
		if l.Level < 0 || l.Level > 5 {
			vs.Add(fmt.Sprintf("levels[%d].level", i), "must be 0 to 5")
		}
	}
	if err := vs.Err(); err != nil {
		return SelfAssessment{}, err
	}
	if a.Phase == PhasePost {
		phases, err := s.store.Assessments(ctx, tenant, p.ID)
		if err != nil {
			return SelfAssessment{}, err
		}
		pre := map[string]bool{}
		for _, ph := range phases {
			for _, l := range ph.Levels {
				pre[l.SkillID] = pre[l.SkillID] || ph.Phase == PhasePre
			}
		}
		for _, l := range a.Levels {
			if !pre[l.SkillID] {
				return SelfAssessment{}, fmt.Errorf("%w: skill %s has no PRE assessment to measure the POST one against", apperr.ErrFailedPrecondition, l.SkillID)
			}
		}
	}
	now := s.now()
	a.ProgramID, a.PersonID, a.SubmitTime = p.ProgramID, p.PersonID, now
	for i := range a.Levels {
		a.Levels[i].SubmitTime = now
	}
	return s.store.SubmitAssessment(ctx, tenant, a)
}

// Assessments returns a participant's PRE and POST assessments.
func (s *Service) Assessments(ctx context.Context, tenant, participantID string) ([]SelfAssessment, error) {
	if _, err := s.store.Participant(ctx, tenant, participantID); err != nil {
		return nil, err
	}
	return s.store.Assessments(ctx, tenant, participantID)
}

// Health returns an active pair's health.
func (s *Service) Health(ctx context.Context, tenant, matchID string) (Health, error) {
	return s.store.Health(ctx, tenant, matchID)
}

// PairsAtRisk lists a program's pairs whose health is at least min.
func (s *Service) PairsAtRisk(ctx context.Context, tenant, programID string, min HealthStatus, after HealthCursor, limit int) ([]Health, error) {
	return s.store.ListHealth(ctx, tenant, programID, cmp.Or(min, AtRisk), after, limit)
}

// ProgramReport builds the program's report from the projections.
func (s *Service) ProgramReport(ctx context.Context, tenant, programID string) (Report, error) {
	if strings.TrimSpace(programID) == "" {
		return Report{}, apperr.Invalid("program_id", "must not be empty")
	}
	d, err := s.store.ProgramData(ctx, tenant, programID)
	if err != nil {
		return Report{}, err
	}
	d.ProgramID = programID
	return BuildReport(d), nil
}

// RunHealth re-evaluates, until ctx is done, the healths whose status may
// have changed with time: it sleeps until the next one is due and looks
// again at least every poll interval for changes of other replicas. The
// store claims each health in the transaction that writes its event, so
// replicas running this together evaluate each once. A store error is
// logged and retried.
func (s *Service) RunHealth(ctx context.Context) error {
	for {
		wait := s.poll
		n, err := s.store.RefreshDueHealth(ctx, s.now(), HealthBatch)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			s.log.ErrorContext(ctx, "evaluation: refreshing health", "error", err)
		case n == HealthBatch:
			continue
		default:
			next, ok, err := s.store.NextHealthCheck(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "evaluation: next health check", "error", err)
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
		case <-timer.C:
		}
	}
}

// Match returns the projection of a match; the API's object rules read
// its program and pair.
func (s *Service) Match(ctx context.Context, tenant, id string) (Match, error) {
	return s.store.Match(ctx, tenant, id)
}

// Session returns the projection of a session, for the object rules.
func (s *Service) Session(ctx context.Context, tenant, id string) (Session, error) {
	return s.store.Session(ctx, tenant, id)
}

// Participant returns the projection of a participant, for the object
// rules.
func (s *Service) Participant(ctx context.Context, tenant, id string) (Participant, error) {
	return s.store.Participant(ctx, tenant, id)
}

// Goal returns one goal, for the object rules.
func (s *Service) Goal(ctx context.Context, tenant, id string) (Goal, error) {
	return s.store.Goal(ctx, tenant, id)
}

// Feedback returns one feedback, for the object rules; it is never shown
// as is, since it holds the private comment.
func (s *Service) Feedback(ctx context.Context, tenant, id string) (Feedback, error) {
	return s.store.Feedback(ctx, tenant, id)
}
