package evaluation

import (
	"context"
	"database/sql"
	"time"
)

// Employment is a person's employment status in the directory.
type Employment string

// Employment statuses; "" when the directory did not say.
const (
	EmploymentActive     Employment = "active"
	EmploymentLeave      Employment = "leave"
	EmploymentTerminated Employment = "terminated"
)

// Person is the projection of a directory person: the attributes reports
// group by and the employment status retention is measured by.
type Person struct {
	ID         string
	Department string
	Seniority  int // 1 to 12, 0 when unknown
	Employment Employment
	// TerminateTime is when the person was first seen TERMINATED since
	// they were last seen employed; zero while employed.
	TerminateTime time.Time
	// Erased persons keep only their id.
	Erased    bool
	EventTime time.Time
}

// MatchState is a step of a match's lifecycle.
type MatchState string

// Match states.
const (
	MatchProposed MatchState = "proposed"
	MatchAccepted MatchState = "accepted"
	MatchActive   MatchState = "active"
	MatchDeclined MatchState = "declined"
	MatchEnded    MatchState = "ended"
)

// Match is the projection of a matching-service match. The times are those
// of the events that moved it into each state (ce-time), zero until then;
// a pair "counts" in reports from its AcceptTime unless it was declined.
type Match struct {
	ID                  string
	ProgramID           string
	MentorParticipantID string
	MenteeParticipantID string
	MentorPersonID      string
	MenteePersonID      string
	State               MatchState
	Score               float64 // 0 to 100
	ProposeTime         time.Time
	AcceptTime          time.Time // also set by match.activated when no accept event was seen
	ActivateTime        time.Time
	DeclineTime         time.Time
	EndTime             time.Time
	EventTime           time.Time
}

// Counts reports whether the match is a pair at t: accepted (or active or
// ended) at or before t, and not declined at or before t.
func (m Match) Counts(t time.Time) bool {
	return at(m.AcceptTime, t) && !at(m.DeclineTime, t)
}

// SessionState is a step of a session's lifecycle.
type SessionState string

// Session states.
const (
	SessionProposed  SessionState = "proposed"
	SessionConfirmed SessionState = "confirmed"
	SessionCancelled SessionState = "cancelled"
	SessionCompleted SessionState = "completed"
	SessionNoShow    SessionState = "no_show"
)

// Session is the projection of a scheduling-service session.
type Session struct {
	ID        string
	MatchID   string
	State     SessionState
	StartTime time.Time
	EndTime   time.Time
	// CompleteTime is the time of the session.completed event; zero unless
	// completed.
	CompleteTime time.Time
	// CancelTime is the time of the session.cancelled event; CancelledBy
	// the person who cancelled (empty when a manager or the service did,
	// for example because the match ended).
	CancelTime  time.Time
	CancelledBy string
	EventTime   time.Time
}

// AgreementTerms are what a pair agrees on.
type AgreementTerms struct {
	TopicScope       string
	Confidentiality  string
	Expectations     []string
	MeetingStructure string
}

// HealthThresholds say when a pair needs attention; see DefaultThresholds.
type HealthThresholds struct {
	DaysWithoutSession    int
	Cancellations         int
	LowRating             float64
	UnsignedAgreementDays int
}

// DefaultThresholds are the thresholds of a program that set none.
var DefaultThresholds = HealthThresholds{DaysWithoutSession: 21, Cancellations: 2, LowRating: 3.0, UnsignedAgreementDays: 14}

// CancellationWindow is how far back cancellations count towards health.
const CancellationWindow = 30 * 24 * time.Hour

// RatingWindow is how many of a pair's newest ratings health averages.
const RatingWindow = 3

// Settings are a program's evaluation rules.
type Settings struct {
	ProgramID         string
	AgreementTemplate AgreementTerms
	PulseSurveyDays   []int // ascending
	Health            HealthThresholds
	UpdateTime        time.Time // zero until set
}

// Agreement is one version of a pair's agreement.
type Agreement struct {
	MatchID        string
	ProgramID      string
	Version        int
	Terms          AgreementTerms
	MentorPersonID string
	MenteePersonID string
	MentorSignTime time.Time // zero until signed
	MenteeSignTime time.Time
	AuthorPersonID string
	CreateTime     time.Time
	UpdateTime     time.Time
}

// Signed reports whether both sides signed this version.
func (a Agreement) Signed() bool { return !a.MentorSignTime.IsZero() && !a.MenteeSignTime.IsZero() }

// SignTime is when the second side signed this version (zero until both did).
func (a Agreement) SignTime() time.Time {
	if !a.Signed() {
		return time.Time{}
	}
	return later(a.MentorSignTime, a.MenteeSignTime)
}

// GoalState is where a goal stands.
type GoalState string

// Goal states.
const (
	GoalOpen      GoalState = "open"
	GoalCompleted GoalState = "completed"
	GoalAbandoned GoalState = "abandoned"
)

// Milestone is a step towards a goal.
type Milestone struct {
	Title    string
	Done     bool
	DoneTime time.Time
}

// Goal is something a pair works towards.
type Goal struct {
	ID             string
	MatchID        string
	ProgramID      string
	Title          string
	Description    string
	Milestones     []Milestone
	Progress       int // 0 to 100
	State          GoalState
	DueDate        string // YYYY-MM-DD or ""
	Revision       int    // 1 on create, +1 per change
	AuthorPersonID string
	CreateTime     time.Time
	UpdateTime     time.Time
	CompleteTime   time.Time // zero unless State is GoalCompleted
}

// Feedback is one side's view of a held session.
type Feedback struct {
	ID             string
	SessionID      string
	MatchID        string
	ProgramID      string
	AuthorPersonID string
	Rating         int // 1 to 5
	Tags           []string
	Comment        string
	// PrivateComment is only read through Store.Feedback; lists and events
	// carry HasPrivateComment instead.
	PrivateComment    string
	HasPrivateComment bool
	SubmitTime        time.Time
}

// PulseResponse answers one pulse survey.
type PulseResponse struct {
	ID           string
	MatchID      string
	ProgramID    string
	PersonID     string
	Day          int
	Satisfaction int // 1 to 5
	Recommend    int // 0 to 10
	Comment      string
	SubmitTime   time.Time
}

// Phase says when a self-assessment was made.
type Phase string

// Phases.
const (
	PhasePre  Phase = "pre"
	PhasePost Phase = "post"
)

// SkillLevel is one self-assessed level; SubmitTime is when it was given.
type SkillLevel struct {
	SkillID    string
	Level      int // 0 to 5
	SubmitTime time.Time
}

// SelfAssessment is a participant's levels in one phase: the newest level
// given per skill.
type SelfAssessment struct {
	ParticipantID string
	ProgramID     string
	PersonID      string
	Phase         Phase
	Levels        []SkillLevel // by skill id
	SubmitTime    time.Time    // of the newest level
}

// HealthStatus is how an active pair is doing; higher is worse.
type HealthStatus int

// Health statuses.
const (
	OnTrack HealthStatus = iota + 1
	NeedsAttention
	AtRisk
)

// PairActivity is what a pair's health is computed from.
type PairActivity struct {
	Match Match
	// HeldStarts are the start times of the pair's completed sessions.
	HeldStarts []time.Time
	// CancelTimes are when a side of the pair (not a manager or the
	// service) cancelled one of its sessions.
	CancelTimes []time.Time
	// Ratings are the pair's session ratings, oldest first by submit time.
	Ratings []int
	// Agreement is the newest version of the pair's agreement, nil if none.
	Agreement *Agreement
	Health    HealthThresholds
}

// Health is an active pair's relationship health.
type Health struct {
	MatchID        string
	ProgramID      string
	MentorPersonID string
	MenteePersonID string
	Status         HealthStatus
	Reasons        []string
	// SinceTime is when the pair got Status; EvaluateTime when the status
	// was last computed.
	SinceTime    time.Time
	EvaluateTime time.Time
	// NextCheck is the earliest time the status may change by time
	// passing alone; zero when it cannot.
	NextCheck time.Time
}

// ProgramData is everything a program's report is computed from: the
// projections of the program's people, participants, matches and
// sessions, and the evaluation service's own records of its pairs.
type ProgramData struct {
	ProgramID    string
	People       map[string]Person // by person id; people of Participants
	Participants []Participant
	Matches      []Match
	Sessions     []Session // of Matches
	Feedback     []Feedback
	Pulse        []PulseResponse
	Goals        []Goal
	Assessments  []SelfAssessment
}

// Store keeps the evaluation service's records and projections, scoped by
// tenant. Every write also writes its event to the outbox in the same
// transaction and, where a pair's health may change, re-evaluates it
// there (see Projector.RefreshHealth). Lookups of a missing record return
// an error wrapping apperr.ErrNotFound.
type Store interface {
	// Settings returns a program's settings (ErrNotFound when never set).
	Settings(ctx context.Context, tenant, programID string) (Settings, error)
	// PutSettings stores settings, writes evaluation_settings.updated and
	// makes every health of the program due for evaluation at once.
	PutSettings(ctx context.Context, tenant string, s Settings) error

	// Match, Session and Participant return projections.
	Match(ctx context.Context, tenant, id string) (Match, error)
	Session(ctx context.Context, tenant, id string) (Session, error)
	Participant(ctx context.Context, tenant, id string) (Participant, error)
	// PersonMatches returns the matches a person is a side of, any state.
	PersonMatches(ctx context.Context, tenant, personID string) ([]Match, error)

	// Agreement returns a version of a pair's agreement, the newest when
	// version is 0.
	Agreement(ctx context.Context, tenant, matchID string, version int) (Agreement, error)
	// CreateAgreement stores version 1 (apperr.ErrAlreadyExists when the pair
	// has one) and writes agreement.created.
	CreateAgreement(ctx context.Context, tenant string, a Agreement, now time.Time) error
	// ChangeAgreement reads the newest version inside a transaction and
	// calls fn with it. When fn returns a higher version it is stored as
	// new and agreement.updated written; when it returns the same version,
	// its signatures are stored and agreement.signed written with signer.
	ChangeAgreement(ctx context.Context, tenant, matchID string, now time.Time,
		fn func(cur Agreement) (next Agreement, signer string, err error)) (Agreement, error)

	// CreateGoal stores a goal and writes goal.created.
	CreateGoal(ctx context.Context, tenant string, g Goal) error
	// UpdateGoal calls fn with the goal read inside a transaction, stores
	// the result (Revision bumped by the store) and writes goal.updated.
	UpdateGoal(ctx context.Context, tenant, id string, fn func(*Goal) error) (Goal, error)
	Goal(ctx context.Context, tenant, id string) (Goal, error)
	// Goals lists a pair's goals by create time.
	Goals(ctx context.Context, tenant, matchID string) ([]Goal, error)

	// CreateFeedback stores feedback (apperr.ErrAlreadyExists when the author
	// gave feedback on the session already) and writes feedback.submitted.
	CreateFeedback(ctx context.Context, tenant string, f Feedback, now time.Time) error
	// Feedback returns one feedback with its private comment.
	Feedback(ctx context.Context, tenant, id string) (Feedback, error)
	// ListFeedback lists a pair's feedback newest first, after the cursor
	// (the submit time and id of the last one of the previous page; zero
	// for the first page), at most limit, without private comments.
	ListFeedback(ctx context.Context, tenant, matchID string, after Cursor, limit int) ([]Feedback, error)
	// RecordPrivateCommentRead writes the feedback.private_comment_read
	// audit event.
	RecordPrivateCommentRead(ctx context.Context, tenant string, r PrivateCommentRead) error

	// CreatePulseResponse stores an answer (apperr.ErrAlreadyExists when the
	// person answered that match's day already) and writes
	// pulse_response.submitted.
	CreatePulseResponse(ctx context.Context, tenant string, r PulseResponse) error
	// PulseResponses returns a person's answers.
	PulseResponses(ctx context.Context, tenant, personID string) ([]PulseResponse, error)

	// SubmitAssessment merges a's levels into the participant's phase
	// (replacing the levels of the skills it names), writes
	// self_assessment.submitted with the whole phase, and returns it.
	SubmitAssessment(ctx context.Context, tenant string, a SelfAssessment) (SelfAssessment, error)
	// Assessments returns a participant's phases (PRE first).
	Assessments(ctx context.Context, tenant, participantID string) ([]SelfAssessment, error)

	// Health returns an active pair's health.
	Health(ctx context.Context, tenant, matchID string) (Health, error)
	// ListHealth lists a program's active pairs with status at least min,
	// worst first, then longest in that status, then by match id, after the
	// cursor (the Health's Status, SinceTime and MatchID of the last one of
	// the previous page), at most limit.
	ListHealth(ctx context.Context, tenant, programID string, min HealthStatus, after HealthCursor, limit int) ([]Health, error)
	// RefreshDueHealth re-evaluates at most limit healths of active pairs in
	// any tenant whose NextCheck is at or before now, each claimed by one
	// caller even when replicas call concurrently, and writes
	// match.health_changed for each status that changed. It returns how
	// many it evaluated.
	RefreshDueHealth(ctx context.Context, now time.Time, limit int) (int, error)
	// NextHealthCheck returns the earliest NextCheck of any active pair.
	NextHealthCheck(ctx context.Context) (time.Time, bool, error)

	// ProgramData reads everything a report needs from one snapshot.
	ProgramData(ctx context.Context, tenant, programID string) (ProgramData, error)
}

// Cursor is a position in a list ordered by time and id.
type Cursor struct {
	Time time.Time
	ID   string
}

// HealthCursor is a position in a list of healths.
type HealthCursor struct {
	Status HealthStatus
	Since  time.Time
	ID     string
}

// PrivateCommentRead is the audit record of an admin reading a private
// comment.
type PrivateCommentRead struct {
	FeedbackID     string
	AuthorPersonID string
	Actor          string
	Reason         string
	ReadTime       time.Time
}

// Projector writes the projections inside the event consumer's
// transaction. Every Apply keeps the newest state by event time (or, for
// the service's own records, by version or revision), so a late or
// repeated event changes nothing; the service's own events are applied so
// that replaying the stream into an empty database rebuilds its records
// (all but private comments, which are never published).
type Projector interface {
	ApplyPerson(ctx context.Context, tx *sql.Tx, tenant string, p Person) error
	ApplyParticipant(ctx context.Context, tx *sql.Tx, tenant string, p Participant) error
	ApplyMatch(ctx context.Context, tx *sql.Tx, tenant string, m Match) error
	ApplySession(ctx context.Context, tx *sql.Tx, tenant string, s Session) error
	// ErasePerson removes a person's attributes (keeping the id, Erased),
	// and the text of their feedback comments, private comments and pulse
	// comments; their ratings and levels stay, unattributable.
	ErasePerson(ctx context.Context, tx *sql.Tx, tenant, personID string) error

	ApplySettings(ctx context.Context, tx *sql.Tx, tenant string, s Settings) error
	ApplyAgreement(ctx context.Context, tx *sql.Tx, tenant string, a Agreement) error
	ApplyGoal(ctx context.Context, tx *sql.Tx, tenant string, g Goal) error
	ApplyFeedback(ctx context.Context, tx *sql.Tx, tenant string, f Feedback) error
	ApplyPulseResponse(ctx context.Context, tx *sql.Tx, tenant string, r PulseResponse) error
	ApplyAssessment(ctx context.Context, tx *sql.Tx, tenant string, a SelfAssessment) error

	// RefreshHealth re-evaluates an active pair's health at now (creating
	// it ON_TRACK, without an event, when the pair just became active;
	// removing it when the pair is no longer active) and writes
	// match.health_changed when its status changed.
	RefreshHealth(ctx context.Context, tx *sql.Tx, tenant, matchID string, now time.Time) error
}

func at(x, t time.Time) bool { return !x.IsZero() && !x.After(t) }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
