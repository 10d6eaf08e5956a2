package matching

import (
	"time"

	"github.com/tandem-oss/tandem/services/matching/engine"
)

// Input is everything matching needs about one program, read from the
// projection at one moment: what match runs and candidate lists are
// computed from.
type Input struct {
	Program Program
	// Config is the configuration in force (the defaults when none is
	// stored); ConfigVersion its version.
	Config        ScoringConfig
	ConfigVersion int64
	// Rules are the engine's rules from Config, the program's type and
	// format and PastPairs. Rules.At is zero: the caller sets the moment
	// the time-zone factor is computed for.
	Rules engine.Rules
	// PastPairs are {mentor, mentee} person ids of the program's declined
	// and ended matches: never proposed again.
	PastPairs [][2]string
	// Mentors and Mentees are the eligible participants (enrolled, person
	// active and not erased), ordered by participant id. A mentor's
	// Capacity is their whole capacity; Remaining tells what is left.
	Mentors []engine.Profile
	Mentees []engine.Profile
	// Remaining is each eligible mentor's capacity minus their live
	// matches (never below 0), by participant id.
	Remaining map[string]int
	// Live holds the participant ids (mentors and mentees) in a live
	// (proposed, accepted or active) match.
	Live map[string]bool
	// Epoch is the program's projection epoch: it changes with every
	// event that can change what this input holds, so it keys caches.
	Epoch int64
}

// RulesFor builds the engine's rules of a program under configuration c.
func RulesFor(program Program, c ScoringConfig, pastPairs [][2]string) engine.Rules {
	return engine.Rules{
		Type:                  program.EngineType(),
		Weights:               c.Weights.Engine(),
		ReportingChainDepth:   c.ReportingChainDepth,
		RequireSharedLanguage: c.RequireSharedLanguage,
		MinPairScore:          c.MinPairScore,
		ProgramFormat:         program.Format.Engine(),
		PastPairs:             pastPairs,
	}
}

// WithConfig returns the input scored under c instead (a what-if).
func (in Input) WithConfig(c ScoringConfig) Input {
	at := in.Rules.At
	in.Config = c
	in.Rules = RulesFor(in.Program, c, in.PastPairs)
	in.Rules.At = at
	return in
}

// At returns the input with the time-zone factor computed for t.
func (in Input) At(t time.Time) Input {
	in.Rules.At = t
	return in
}

// Pool is the part of an input a match run assigns: mentees not in a live
// match and mentors with capacity left, each mentor's Capacity being what
// is left. It also counts who was left out.
type Pool struct {
	Mentors, Mentees                 []engine.Profile
	ExcludedMentors, ExcludedMentees int
}

// Pool returns the run's pool of the input.
func (in Input) Pool() Pool {
	var p Pool
	for _, m := range in.Mentors {
		left := in.Remaining[m.ID]
		if left <= 0 {
			p.ExcludedMentors++
			continue
		}
		m.Capacity = left
		p.Mentors = append(p.Mentors, m)
	}
	for _, m := range in.Mentees {
		if in.Live[m.ID] {
			p.ExcludedMentees++
			continue
		}
		p.Mentees = append(p.Mentees, m)
	}
	return p
}

// Mentor returns the eligible mentor with participant id id.
func (in Input) Mentor(id string) (engine.Profile, bool) {
	return find(in.Mentors, id)
}

// Mentee returns the eligible mentee with participant id id.
func (in Input) Mentee(id string) (engine.Profile, bool) {
	return find(in.Mentees, id)
}

func find(profiles []engine.Profile, id string) (engine.Profile, bool) {
	for _, p := range profiles {
		if p.ID == id {
			return p, true
		}
	}
	return engine.Profile{}, false
}
