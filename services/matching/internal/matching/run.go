package matching

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/services/matching/engine"
)

// RunState is a step of a match run's life.
type RunState string

// Run states. A run is RUNNING until its results are stored (SUCCEEDED)
// or it cannot complete (FAILED); publishing a SUCCEEDED run makes it
// PUBLISHED.
const (
	RunRunning   RunState = "running"
	RunSucceeded RunState = "succeeded"
	RunFailed    RunState = "failed"
	RunPublished RunState = "published"
)

// Strategy is how a run assigns its pool.
type Strategy string

// Strategies.
const (
	// StrategyOptimal maximises the total score (certified optimal).
	StrategyOptimal Strategy = "optimal"
	// StrategyStable finds an assignment no unpaired mentor and mentee
	// would both rather leave.
	StrategyStable Strategy = "stable"
)

// Segment is the fairness view of one group of a run's mentees.
type Segment struct {
	// Dimension is "department" or "seniority_band".
	Dimension string  `json:"dimension"`
	Name      string  `json:"name"`
	Mentees   int     `json:"mentees"`
	Matched   int     `json:"matched"`
	MeanScore float64 `json:"mean_score"`
	MinScore  float64 `json:"min_score"`
}

// RunMetrics summarise a run's result.
type RunMetrics struct {
	Mentees    int     `json:"mentees"`
	Mentors    int     `json:"mentors"`
	Pairs      int     `json:"pairs"`
	Coverage   float64 `json:"coverage"`
	MeanScore  float64 `json:"mean_score"`
	MinScore   float64 `json:"min_score"`
	TotalScore float64 `json:"total_score"`
	// Histogram counts pair scores by tenths of the scale.
	Histogram [10]int   `json:"histogram"`
	Segments  []Segment `json:"segments"`
	// ExcludedMentees are enrolled mentees already in a live match,
	// ExcludedMentors mentors without capacity left: not in the pool.
	ExcludedMentees int `json:"excluded_mentees"`
	ExcludedMentors int `json:"excluded_mentors"`
}

// MatchRun is one matching of a program's pool.
type MatchRun struct {
	ID                    string
	ProgramID             string
	State                 RunState
	Strategy              Strategy
	MaximiseParticipation bool
	// Config is the configuration the run scores with; WhatIf says it
	// was given with the run instead of the stored one.
	Config        ScoringConfig
	ConfigVersion int64
	WhatIf        bool
	// ProgressPercent is 0 to 100.
	ProgressPercent int
	Error           string
	Metrics         RunMetrics
	Certified       bool
	// Epoch is the program's projection epoch the input was read at.
	Epoch          int64
	MatchesCreated int
	CreateTime     time.Time
	FinishTime     time.Time
	PublishTime    time.Time
}

// RunPair is one pair a run proposes.
type RunPair struct {
	MentorID       string
	MenteeID       string
	MentorPersonID string
	MenteePersonID string
	Score          float64
	Factors        []Factor
}

// Unmatched is a participant of a run's pool left without a partner.
type Unmatched struct {
	ParticipantID string
	PersonID      string
	Role          Role
	// Reason is the engine's code: no_eligible_partner, below_min_score,
	// partners_taken or not_chosen.
	Reason string
	Detail string
}

// RunRequest asks for a match run.
type RunRequest struct {
	ProgramID             string
	Strategy              Strategy // empty: optimal
	MaximiseParticipation bool
	// Override, when set, is scored with instead of the stored
	// configuration.
	Override *ScoringConfig
}

// RunJob is a claimed running run.
type RunJob struct {
	Tenant string
	Run    MatchRun
}

// RunOutcome is how a run ended.
type RunOutcome struct {
	State      RunState // succeeded or failed
	Error      string
	Metrics    RunMetrics
	Certified  bool
	Epoch      int64
	FinishTime time.Time
}

// Page asks for one page of a listing ordered by a key: up to Size items
// after the key After ("" for the first page).
type Page struct {
	Size  int
	After string
}

// Page sizes of every listing.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// Clamped returns p with its size defaulted and capped, as listings apply
// it; a listing that returns a full clamped page may have more.
func (p Page) Clamped() Page {
	if p.Size <= 0 {
		p.Size = DefaultPageSize
	}
	p.Size = min(p.Size, MaxPageSize)
	return p
}

// ErrLeaseLost is returned by the run store when the caller no longer
// holds a run's lease: another replica took the run over.
var ErrLeaseLost = errors.New("match run lease lost")

// RunStore keeps match runs and their results.
type RunStore interface {
	// CreateMatchRun stores a RUNNING run, claimable at once, and writes
	// match_run.created.
	CreateMatchRun(ctx context.Context, tenant string, r MatchRun) error
	MatchRun(ctx context.Context, tenant, id string) (MatchRun, error)
	// ListMatchRuns returns a program's runs ordered by id (oldest first).
	ListMatchRuns(ctx context.Context, tenant, programID string, page Page) ([]MatchRun, error)
	// ListRunPairs returns a run's pairs ordered by mentee participant id,
	// ListRunUnmatched its unmatched participants by participant id;
	// size 0 means all. Both fail with apperr.ErrNotFound for an unknown
	// run.
	ListRunPairs(ctx context.Context, tenant, runID string, page Page) ([]RunPair, error)
	ListRunUnmatched(ctx context.Context, tenant, runID string, page Page) ([]Unmatched, error)
	// ClaimMatchRun leases the oldest RUNNING run whose lease expired to
	// owner for ttl, drops any results a previous holder stored (the run
	// starts over) and returns it; false when there is none.
	ClaimMatchRun(ctx context.Context, owner string, ttl time.Duration) (RunJob, bool, error)
	// RenewMatchRun extends the lease and raises the progress to percent
	// (never lowers it); ErrLeaseLost when owner no longer holds it.
	RenewMatchRun(ctx context.Context, tenant, id, owner string, ttl time.Duration, percent int) error
	// SaveRunResults stores a batch of pairs and unmatched participants
	// while owner holds the lease.
	SaveRunResults(ctx context.Context, tenant, id, owner string, pairs []RunPair, unmatched []Unmatched) error
	// FinishMatchRun ends a run with out, writes match_run.succeeded or
	// match_run.failed and returns it.
	FinishMatchRun(ctx context.Context, tenant, id, owner string, out RunOutcome) (MatchRun, error)
	// ReleaseMatchRun gives the lease up so any replica can resume the run.
	ReleaseMatchRun(ctx context.Context, tenant, id, owner string) error
	// PublishMatchRun runs plan in one transaction with the run, its
	// pairs and the snapshot of their participants, stores the matches
	// plan returns, marks the run PUBLISHED and writes match_run.published
	// and one event per match. An error of plan writes nothing.
	PublishMatchRun(ctx context.Context, tenant, id string, now time.Time,
		plan func(MatchRun, []RunPair, Snapshot) ([]Match, error)) (MatchRun, error)
}

// CreateMatchRun validates req, stores the run RUNNING and returns it at
// once; the runner computes it in the background.
func (s *Service) CreateMatchRun(ctx context.Context, tenant string, req RunRequest) (MatchRun, error) {
	var vs apperr.Violations
	if strings.TrimSpace(req.ProgramID) == "" {
		vs.Add("program_id", "must not be empty")
	}
	switch req.Strategy {
	case "":
		req.Strategy = StrategyOptimal
	case StrategyOptimal, StrategyStable:
	default:
		vs.Add("strategy", "must be OPTIMAL or STABLE")
	}
	if err := vs.Err(); err != nil {
		return MatchRun{}, err
	}
	if _, err := s.store.Program(ctx, tenant, req.ProgramID); err != nil {
		return MatchRun{}, err
	}
	run := MatchRun{ID: newID(), ProgramID: req.ProgramID, State: RunRunning, Strategy: req.Strategy,
		MaximiseParticipation: req.MaximiseParticipation, CreateTime: s.now()}
	if req.Override != nil {
		c := req.Override.WithDefaults()
		if c.ProgramID == "" {
			c.ProgramID = req.ProgramID
		}
		if err := c.validate("config_override"); err != nil {
			return MatchRun{}, err
		}
		if c.ProgramID != req.ProgramID {
			return MatchRun{}, apperr.Invalid("config_override.program_id", "must be the run's program "+req.ProgramID)
		}
		run.Config, run.ConfigVersion, run.WhatIf = c, c.Version, true
	} else {
		c, err := s.ScoringConfig(ctx, tenant, req.ProgramID)
		if err != nil {
			return MatchRun{}, err
		}
		run.Config, run.ConfigVersion = c, c.Version
	}
	if err := s.store.CreateMatchRun(ctx, tenant, run); err != nil {
		return MatchRun{}, err
	}
	s.wakeRunner()
	return run, nil
}

// MatchRun returns a run with its progress.
func (s *Service) MatchRun(ctx context.Context, tenant, id string) (MatchRun, error) {
	if strings.TrimSpace(id) == "" {
		return MatchRun{}, apperr.Invalid("id", "must not be empty")
	}
	return s.store.MatchRun(ctx, tenant, id)
}

// ListMatchRuns returns one page of a program's runs, oldest first.
func (s *Service) ListMatchRuns(ctx context.Context, tenant, programID string, page Page) ([]MatchRun, error) {
	if strings.TrimSpace(programID) == "" {
		return nil, apperr.Invalid("program_id", "must not be empty")
	}
	return s.store.ListMatchRuns(ctx, tenant, programID, page.Clamped())
}

// ListRunPairs returns one page of a run's pairs by mentee participant id.
func (s *Service) ListRunPairs(ctx context.Context, tenant, runID string, page Page) ([]RunPair, error) {
	if strings.TrimSpace(runID) == "" {
		return nil, apperr.Invalid("run_id", "must not be empty")
	}
	return s.store.ListRunPairs(ctx, tenant, runID, page.Clamped())
}

// ListRunUnmatched returns one page of a run's unmatched participants by
// participant id.
func (s *Service) ListRunUnmatched(ctx context.Context, tenant, runID string, page Page) ([]Unmatched, error) {
	if strings.TrimSpace(runID) == "" {
		return nil, apperr.Invalid("run_id", "must not be empty")
	}
	return s.store.ListRunUnmatched(ctx, tenant, runID, page.Clamped())
}

// ComparedPair is a pair with its score in each run (0 where absent).
type ComparedPair struct {
	MentorID, MenteeID string
	Score, OtherScore  float64
}

// Comparison tells two runs apart. Delta is the other run's metrics minus
// the first run's.
type Comparison struct {
	InBoth, OnlyInRun, OnlyInOther []ComparedPair
	DeltaPairs                     int
	DeltaCoverage                  float64
	DeltaMeanScore                 float64
	DeltaMinScore                  float64
	DeltaTotalScore                float64
}

// CompareMatchRuns compares two finished runs of one program.
func (s *Service) CompareMatchRuns(ctx context.Context, tenant, runID, otherID string) (Comparison, error) {
	var vs apperr.Violations
	if strings.TrimSpace(runID) == "" {
		vs.Add("run_id", "must not be empty")
	}
	if strings.TrimSpace(otherID) == "" {
		vs.Add("other_run_id", "must not be empty")
	}
	if err := vs.Err(); err != nil {
		return Comparison{}, err
	}
	a, err := s.store.MatchRun(ctx, tenant, runID)
	if err != nil {
		return Comparison{}, err
	}
	b, err := s.store.MatchRun(ctx, tenant, otherID)
	if err != nil {
		return Comparison{}, err
	}
	if a.ProgramID != b.ProgramID {
		return Comparison{}, apperr.Invalid("other_run_id", fmt.Sprintf("run %s is of program %s, not %s", b.ID, b.ProgramID, a.ProgramID))
	}
	for _, r := range []MatchRun{a, b} {
		if r.State != RunSucceeded && r.State != RunPublished {
			return Comparison{}, fmt.Errorf("run %s is %s; only SUCCEEDED or PUBLISHED runs compare: %w",
				r.ID, strings.ToUpper(string(r.State)), apperr.ErrFailedPrecondition)
		}
	}
	pairsA, err := s.store.ListRunPairs(ctx, tenant, a.ID, Page{})
	if err != nil {
		return Comparison{}, err
	}
	pairsB, err := s.store.ListRunPairs(ctx, tenant, b.ID, Page{})
	if err != nil {
		return Comparison{}, err
	}
	c := comparePairs(pairsA, pairsB)
	c.DeltaPairs = b.Metrics.Pairs - a.Metrics.Pairs
	c.DeltaCoverage = b.Metrics.Coverage - a.Metrics.Coverage
	c.DeltaMeanScore = b.Metrics.MeanScore - a.Metrics.MeanScore
	c.DeltaMinScore = b.Metrics.MinScore - a.Metrics.MinScore
	c.DeltaTotalScore = b.Metrics.TotalScore - a.Metrics.TotalScore
	return c, nil
}

// comparePairs splits the pairs of two runs, both sorted by mentee, into
// those in both and those in one only; the lists stay sorted by mentee.
func comparePairs(a, b []RunPair) Comparison {
	type key struct{ mentor, mentee string }
	inB := make(map[key]RunPair, len(b))
	for _, p := range b {
		inB[key{p.MentorID, p.MenteeID}] = p
	}
	var c Comparison
	inA := make(map[key]bool, len(a))
	for _, p := range a {
		k := key{p.MentorID, p.MenteeID}
		inA[k] = true
		if q, ok := inB[k]; ok {
			c.InBoth = append(c.InBoth, ComparedPair{MentorID: p.MentorID, MenteeID: p.MenteeID, Score: p.Score, OtherScore: q.Score})
			continue
		}
		c.OnlyInRun = append(c.OnlyInRun, ComparedPair{MentorID: p.MentorID, MenteeID: p.MenteeID, Score: p.Score})
	}
	for _, p := range b {
		if !inA[key{p.MentorID, p.MenteeID}] {
			c.OnlyInOther = append(c.OnlyInOther, ComparedPair{MentorID: p.MentorID, MenteeID: p.MenteeID, OtherScore: p.Score})
		}
	}
	return c
}

// PublishMatchRun turns a SUCCEEDED run's pairs into matches in one
// transaction: PROPOSED, or ACCEPTED under automatic acceptance. It checks
// again that every mentee is still free and enrolled and every mentor has
// the capacity; otherwise nothing is written and the FailedPrecondition
// names the participants in conflict.
func (s *Service) PublishMatchRun(ctx context.Context, tenant, id string) (MatchRun, error) {
	if strings.TrimSpace(id) == "" {
		return MatchRun{}, apperr.Invalid("id", "must not be empty")
	}
	now := s.now()
	return s.store.PublishMatchRun(ctx, tenant, id, now, func(run MatchRun, pairs []RunPair, snap Snapshot) ([]Match, error) {
		switch run.State {
		case RunSucceeded:
		case RunPublished:
			return nil, fmt.Errorf("run %s was published already: %w", run.ID, apperr.ErrFailedPrecondition)
		default:
			return nil, fmt.Errorf("run %s is %s; only a SUCCEEDED run is published: %w",
				run.ID, strings.ToUpper(string(run.State)), apperr.ErrFailedPrecondition)
		}
		if err := snap.takesMatches(); err != nil {
			return nil, err
		}
		var conflicts []string
		added := map[string]int{}
		matches := make([]Match, 0, len(pairs))
		for _, p := range pairs {
			conflicts = append(conflicts, snap.conflicts(p.MentorID, p.MenteeID, added)...)
			added[p.MentorID]++
			added[p.MenteeID]++
			m := Match{ID: newID(), ProgramID: run.ProgramID, RunID: run.ID, Source: SourceRun,
				MentorID: p.MentorID, MenteeID: p.MenteeID, MentorPersonID: p.MentorPersonID, MenteePersonID: p.MenteePersonID,
				State: MatchProposed, Score: p.Score, Factors: p.Factors, CreateTime: now, UpdateTime: now}
			matches = append(matches, snap.Config.created(m))
		}
		if len(conflicts) > 0 {
			return nil, fmt.Errorf("the program changed since run %s: %s; run the matching again: %w",
				run.ID, summarise(conflicts), apperr.ErrFailedPrecondition)
		}
		return matches, nil
	})
}

// summarise joins up to ten conflicts and counts the rest.
func summarise(conflicts []string) string {
	const shown = 10
	if len(conflicts) <= shown {
		return strings.Join(conflicts, "; ")
	}
	return strings.Join(conflicts[:shown], "; ") + fmt.Sprintf("; and %d more", len(conflicts)-shown)
}

// runResults turns the engine's result into the rows a run stores.
func runResults(model *engine.Model, res engine.Result) ([]RunPair, []Unmatched) {
	mentors, mentees := model.Mentors(), model.Mentees()
	pairs := make([]RunPair, len(res.Pairs))
	for i, p := range res.Pairs {
		mentor, mentee := mentors[p.Mentor], mentees[p.Mentee]
		pairs[i] = RunPair{MentorID: mentor.ID, MenteeID: mentee.ID, MentorPersonID: mentor.PersonID,
			MenteePersonID: mentee.PersonID, Score: p.Score, Factors: Factors(model.Explain(p.Mentor, p.Mentee).Factors)}
	}
	unmatched := make([]Unmatched, len(res.Unmatched))
	for i, u := range res.Unmatched {
		// u.Index counts within its own side: read only that side.
		var profile engine.Profile
		role := RoleMentee
		if u.Side == engine.SideMentor {
			profile, role = mentors[u.Index], RoleMentor
		} else {
			profile = mentees[u.Index]
		}
		unmatched[i] = Unmatched{ParticipantID: profile.ID, PersonID: profile.PersonID, Role: role, Reason: string(u.Reason), Detail: u.Detail}
	}
	return pairs, unmatched
}

// runMetrics converts the engine's metrics and adds who the pool left out.
func runMetrics(m engine.Metrics, pool Pool) RunMetrics {
	out := RunMetrics{Mentees: m.Mentees, Mentors: m.Mentors, Pairs: m.Pairs, Coverage: m.Coverage, MeanScore: m.MeanScore,
		MinScore: m.MinScore, TotalScore: m.TotalScore, Histogram: m.Histogram,
		ExcludedMentees: pool.ExcludedMentees, ExcludedMentors: pool.ExcludedMentors}
	for _, s := range m.Segments {
		out.Segments = append(out.Segments, Segment{Dimension: s.Dimension, Name: s.Name, Mentees: s.Mentees, Matched: s.Matched,
			MeanScore: s.MeanScore, MinScore: s.MinScore})
	}
	return out
}
