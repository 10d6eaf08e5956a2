package matching

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/services/matching/engine"
)

// runner is the state of the background loop that computes match runs.
// Runs survive restarts: each is held under a lease that the computing
// replica renews; a run whose lease expired (its process died) is claimed
// by any replica and computed again from the start, which gives the same
// result because the engine is deterministic and the run fixes its
// configuration and time.
type runner struct {
	owner        string
	leaseTTL     time.Duration
	pollInterval time.Duration
	// progressInterval is how often a computing run's progress is
	// written when it moved (at least one point).
	progressInterval time.Duration
	maxAttempts      int
	wake             chan struct{}
	failures         map[string]int // consecutive failures per run id
}

func newRunner() runner {
	return runner{
		owner:            uuid.NewString(),
		leaseTTL:         30 * time.Second,
		pollInterval:     2 * time.Second,
		progressInterval: 100 * time.Millisecond,
		maxAttempts:      5,
		wake:             make(chan struct{}, 1),
		failures:         map[string]int{},
	}
}

// Progress milestones of a run, in percent: reading the input and building
// the model come first, the engine takes most, storing the results the
// rest.
const (
	progressInput   = 5
	progressModel   = 10
	progressMatched = 85
	progressStored  = 99
)

// resultBatch is how many pairs (and unmatched rows) one transaction
// stores.
const resultBatch = 1000

func (s *Service) wakeRunner() {
	select {
	case s.runner.wake <- struct{}{}:
	default:
	}
}

// RunMatchRuns computes match runs until ctx is done, then returns nil: at
// once when CreateMatchRun stored one, and every poll interval it looks
// for runs a stopped replica left. A failing run is logged and retried;
// the loop itself never fails.
func (s *Service) RunMatchRuns(ctx context.Context) error {
	poll := time.NewTicker(s.runner.pollInterval)
	defer poll.Stop()
	for {
		worked, err := s.ProcessNextRun(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.log.ErrorContext(ctx, "match run failed; will retry", "error", err.Error())
		}
		if worked && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.runner.wake:
		case <-poll.C:
		}
	}
}

// ProcessNextRun claims one waiting run and computes it to its end,
// blocking meanwhile; it reports whether there was one. On an error the
// lease is given back so the run is retried; after maxAttempts failures in
// a row the run FAILS. RunMatchRuns calls it in a loop; it is not safe for
// concurrent use.
func (s *Service) ProcessNextRun(ctx context.Context) (bool, error) {
	r := &s.runner
	job, ok, err := s.store.ClaimMatchRun(ctx, r.owner, r.leaseTTL)
	if err != nil || !ok {
		return false, err
	}
	err = s.computeRun(ctx, job)
	switch {
	case err == nil:
		delete(r.failures, job.Run.ID)
		return true, nil
	case errors.Is(err, ErrLeaseLost):
		delete(r.failures, job.Run.ID)
		s.log.WarnContext(ctx, "match run taken over by another replica", "run_id", job.Run.ID)
		return true, nil
	}
	// Give the lease back even when ctx is done, so a restarted process
	// resumes the run at once instead of after the lease expires.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if ctx.Err() != nil {
		return true, errors.Join(err, s.store.ReleaseMatchRun(bg, job.Tenant, job.Run.ID, r.owner))
	}
	r.failures[job.Run.ID]++
	if r.failures[job.Run.ID] >= r.maxAttempts {
		delete(r.failures, job.Run.ID)
		msg := fmt.Sprintf("stopped by an internal error after %d attempts; start a new run", r.maxAttempts)
		_, ferr := s.store.FinishMatchRun(bg, job.Tenant, job.Run.ID, r.owner, RunOutcome{State: RunFailed, Error: msg, FinishTime: s.now()})
		return true, errors.Join(err, ferr)
	}
	return true, errors.Join(err, s.store.ReleaseMatchRun(bg, job.Tenant, job.Run.ID, r.owner))
}

// computeRun computes a run and finishes it, keeping the lease and the
// progress current meanwhile.
func (s *Service) computeRun(ctx context.Context, job RunJob) error {
	computing, cancel := context.WithCancelCause(ctx)
	var progress atomic.Int64
	var keeper sync.WaitGroup
	keeper.Go(func() { s.keepRun(computing, job, &progress, cancel) })
	out, err := s.compute(computing, job, &progress)
	cancel(nil)
	keeper.Wait()
	if cause := context.Cause(computing); errors.Is(cause, ErrLeaseLost) {
		return cause
	}
	if err != nil {
		return err
	}
	_, err = s.store.FinishMatchRun(ctx, job.Tenant, job.Run.ID, s.runner.owner, out)
	return err
}

// compute reads the program's input, matches its pool and stores the
// results. A run that cannot succeed whatever the retries (an unknown
// program, a configuration the engine refuses) gets a FAILED outcome; an
// error means it may succeed on a retry.
func (s *Service) compute(ctx context.Context, job RunJob, progress *atomic.Int64) (RunOutcome, error) {
	run := job.Run
	fail := func(reason string) (RunOutcome, error) {
		return RunOutcome{State: RunFailed, Error: reason, FinishTime: s.now()}, nil
	}
	in, err := s.store.ProgramInput(ctx, job.Tenant, run.ProgramID)
	if errors.Is(err, apperr.ErrNotFound) {
		return fail(fmt.Sprintf("program %s is not known to the matching service", run.ProgramID))
	}
	if err != nil {
		return RunOutcome{}, err
	}
	in = in.WithConfig(run.Config).At(run.CreateTime)
	pool := in.Pool()
	progress.Store(progressInput)
	model, err := engine.NewModel(in.Rules, pool.Mentors, pool.Mentees)
	if err != nil {
		return fail("the configuration cannot be scored: " + err.Error())
	}
	progress.Store(progressModel)
	res, err := engine.Match(model, engine.Options{
		Strategy:              engineStrategy(run.Strategy),
		MaximiseParticipation: run.MaximiseParticipation,
		Progress: func(done, total int) {
			if total > 0 {
				progress.Store(int64(progressModel + (progressMatched-progressModel)*done/total))
			}
		},
	})
	if err != nil {
		return fail("the matching failed: " + err.Error())
	}
	progress.Store(progressMatched)
	pairs, unmatched := runResults(model, res)
	batches := max(1, (max(len(pairs), len(unmatched))+resultBatch-1)/resultBatch)
	for b := range batches {
		lo, hi := b*resultBatch, (b+1)*resultBatch
		err := s.store.SaveRunResults(ctx, job.Tenant, run.ID, s.runner.owner,
			pairs[min(lo, len(pairs)):min(hi, len(pairs))], unmatched[min(lo, len(unmatched)):min(hi, len(unmatched))])
		if err != nil {
			return RunOutcome{}, err
		}
		progress.Store(int64(progressMatched + (progressStored-progressMatched)*(b+1)/batches))
	}
	return RunOutcome{State: RunSucceeded, Metrics: runMetrics(res.Metrics, pool), Certified: res.Certified,
		Epoch: in.Epoch, FinishTime: s.now()}, nil
}

// keepRun renews the run's lease every third of its time and writes the
// progress whenever it moved, until ctx is done. When the lease is lost it
// cancels the computation with ErrLeaseLost.
func (s *Service) keepRun(ctx context.Context, job RunJob, progress *atomic.Int64, cancel context.CancelCauseFunc) {
	r := &s.runner
	tick := time.NewTicker(r.progressInterval)
	defer tick.Stop()
	written, renewed := int64(0), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p := progress.Load()
		if p == written && time.Since(renewed) < r.leaseTTL/3 {
			continue
		}
		err := s.store.RenewMatchRun(ctx, job.Tenant, job.Run.ID, r.owner, r.leaseTTL, int(p))
		switch {
		case errors.Is(err, ErrLeaseLost):
			cancel(err)
			return
		case err != nil && ctx.Err() == nil:
			// A passing database error: the next tick tries again, well
			// before the lease runs out.
			s.log.WarnContext(ctx, "renewing a match run failed", "run_id", job.Run.ID, "error", err.Error())
		case err == nil:
			written, renewed = p, time.Now()
		}
	}
}

func engineStrategy(st Strategy) engine.Strategy {
	if st == StrategyStable {
		return engine.Stable
	}
	return engine.Optimal
}
