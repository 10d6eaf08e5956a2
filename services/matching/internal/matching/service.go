package matching

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// Store keeps the matching service's data, scoped by tenant. Every change
// writes its domain event in the same transaction.
type Store interface {
	// ScoringConfig returns the newest stored version of the program's
	// configuration, or an error wrapping apperr.ErrNotFound when none was
	// stored.
	ScoringConfig(ctx context.Context, tenant, programID string) (ScoringConfig, error)
	// AddScoringConfig stores c as the program's newest version, bumps the
	// program's epoch and writes a scoring_config.updated event. It fails
	// with an error wrapping apperr.ErrAborted unless the newest stored
	// version is c.Version-1 (0 when none is stored), also when a
	// concurrent update won the race.
	AddScoringConfig(ctx context.Context, tenant string, c ScoringConfig) error
	// ProgramInput reads everything matching needs about a program from
	// the projection in one consistent snapshot (see Input). It fails with
	// apperr.ErrNotFound when no event of the program has arrived.
	ProgramInput(ctx context.Context, tenant, programID string) (Input, error)
	// Program returns a projected program; apperr.ErrNotFound when no
	// event of it has arrived.
	Program(ctx context.Context, tenant, id string) (Program, error)
	RunStore
	MatchStore
	RequestStore
}

// Service carries out the matching service's use cases. Callers pass the
// tenant of the verified caller; every lookup is scoped to it. Its
// background loops (RunMatchRuns, SweepRequests) run beside the server.
type Service struct {
	store  Store
	now    func() time.Time
	log    *slog.Logger
	runner runner
	// sweepInterval is how often expired match requests are swept.
	sweepInterval time.Duration
}

// Option adjusts a Service.
type Option func(*Service)

// WithClock sets the clock of the service (default: the system clock),
// cut to microseconds as both databases keep them.
func WithClock(now func() time.Time) Option {
	return func(s *Service) {
		s.now = func() time.Time { return now().UTC().Truncate(time.Microsecond) }
	}
}

// WithLogger sets the logger of background work (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithRunLease sets how long a replica holds a match run between renewals
// (default 30 s) and how often idle replicas look for runs whose holder
// died (default 2 s).
func WithRunLease(ttl, poll time.Duration) Option {
	return func(s *Service) { s.runner.leaseTTL, s.runner.pollInterval = ttl, poll }
}

// WithSweepInterval sets how often SweepRequests expires the match
// requests past their expiry (default a minute).
func WithSweepInterval(d time.Duration) Option { return func(s *Service) { s.sweepInterval = d } }

// NewService returns a Service over store.
func NewService(store Store, opts ...Option) *Service {
	s := &Service{store: store, log: slog.Default(), runner: newRunner(), sweepInterval: time.Minute}
	WithClock(time.Now)(s)
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// ProgramInput returns what matching knows of a program, with the
// time-zone factor computed for now: the input of match runs and
// candidate lists.
func (s *Service) ProgramInput(ctx context.Context, tenant, programID string) (Input, error) {
	if strings.TrimSpace(programID) == "" {
		return Input{}, apperr.Invalid("program_id", "must not be empty")
	}
	in, err := s.store.ProgramInput(ctx, tenant, programID)
	if err != nil {
		return Input{}, err
	}
	return in.At(s.now()), nil
}

// newID returns a new id; UUIDv7 ids sort by creation time, so listings
// ordered by id are oldest first.
func newID() string { return uuid.Must(uuid.NewV7()).String() }
