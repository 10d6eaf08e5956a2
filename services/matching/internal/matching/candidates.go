package matching

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/services/matching/engine"
)

// Bounds of a candidate list.
const (
	DefaultCandidates = 10
	MaxCandidates     = 100
)

// CandidateTTL bounds how long a computed list is served. Lists are keyed
// by the program's epoch, so a change is seen at once; the TTL only frees
// Redis of lists nobody asks for again, and bounds how stale the
// time-zone factor (computed for the moment of the computation) can be.
const CandidateTTL = 15 * time.Minute

// CandidateCache stores computed candidate lists (Redis, or in process in
// `tandem dev`). Every error is treated as a miss: the list is computed
// again, so an outage costs latency, never correctness.
type CandidateCache interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	GetPrefix(ctx context.Context, key string, n int) ([]byte, bool, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

// VersionReader tells the versions a program's candidates depend on.
type VersionReader interface {
	// CandidateVersion returns the program's scoring-config version (0
	// for the defaults) and projection epoch, or an error wrapping
	// apperr.ErrNotFound when no event of the program has arrived.
	CandidateVersion(ctx context.Context, tenant, programID string) (configVersion, epoch int64, err error)
}

// Candidate is a suggested partner with the pair's explained score.
type Candidate struct {
	ParticipantID string   `json:"participant_id"`
	PersonID      string   `json:"person_id"`
	Score         float64  `json:"score"`
	Factors       []Factor `json:"factors"`
}

// CandidateList is a participant's best partners, best first, and the
// versions it was computed at.
type CandidateList struct {
	Candidates    []Candidate `json:"candidates"`
	ConfigVersion int64       `json:"config_version"`
	Epoch         int64       `json:"epoch"`
}

// Candidates serves top-k candidate lists from the cache, computing and
// caching them on a miss.
type Candidates struct {
	svc      *Service
	versions VersionReader
	cache    CandidateCache
	log      *slog.Logger
}

// NewCandidates returns candidate lists of svc's programs cached in cache.
func NewCandidates(svc *Service, versions VersionReader, cache CandidateCache, log *slog.Logger) *Candidates {
	return &Candidates{svc: svc, versions: versions, cache: cache, log: log}
}

// candidateKey scopes a list by tenant, program, scoring-config version,
// epoch and participant: a change to any of them is a new key, so nothing
// ever has to be deleted.
func candidateKey(tenant, programID string, configVersion, epoch int64, participantID string) string {
	return fmt.Sprintf("matching:candidates:%s:%s:v%d:e%d:%s", tenant, programID, configVersion, epoch, participantID)
}

// List returns the best k (0: DefaultCandidates) partners of the
// participant in the program: mentors for a mentee, mentees for a mentor,
// among those still in the matching pool. It fails with FailedPrecondition
// when the participant is not in the pool (already matched, or no capacity
// left), NotFound when they are not an eligible participant of the
// program.
func (c *Candidates) List(ctx context.Context, tenant, programID, participantID string, k int) (CandidateList, error) {
	var vs apperr.Violations
	if strings.TrimSpace(programID) == "" {
		vs.Add("program_id", "must not be empty")
	}
	if strings.TrimSpace(participantID) == "" {
		vs.Add("participant_id", "must not be empty")
	}
	if k < 0 || k > MaxCandidates {
		vs.Add("k", fmt.Sprintf("must be between 0 and %d", MaxCandidates))
	}
	if err := vs.Err(); err != nil {
		return CandidateList{}, err
	}
	if k == 0 {
		k = DefaultCandidates
	}
	version, epoch, err := c.versions.CandidateVersion(ctx, tenant, programID)
	if err != nil {
		return CandidateList{}, err
	}
	if top, ok := c.cached(ctx, candidateKey(tenant, programID, version, epoch, participantID), k); ok {
		// The key holds the versions: an entry is only ever stored under
		// those of its computation.
		return CandidateList{Candidates: top, ConfigVersion: version, Epoch: epoch}, nil
	}
	list, err := c.compute(ctx, tenant, programID, participantID)
	if err != nil {
		return CandidateList{}, err
	}
	if data, err := json.Marshal(list); err == nil {
		key := candidateKey(tenant, programID, list.ConfigVersion, list.Epoch, participantID)
		if err := c.cache.Set(ctx, key, data, CandidateTTL); err != nil {
			c.log.WarnContext(ctx, "candidate cache write failed; serving the computed list", "error", err)
		}
	}
	return list.top(k), nil
}

// candidateBytes is generous for one encoded candidate: nine factors with
// their explanations take about 1 KB.
const candidateBytes = 2 << 10

// cached returns the first k candidates of the list under key. It reads
// the start of the entry only (an entry holds MaxCandidates candidates,
// about 100 KB, and most look-ups want 10), and the whole entry only when
// that start turns out too short.
func (c *Candidates) cached(ctx context.Context, key string, k int) ([]Candidate, bool) {
	limit := (k + 1) * candidateBytes
	data, ok, err := c.cache.GetPrefix(ctx, key, limit)
	if err == nil && ok && len(data) == limit { // a start, maybe too short
		if top, err := decodeTop(data, k); err == nil {
			return top, true
		}
		data, ok, err = c.cache.Get(ctx, key)
	}
	if err != nil {
		c.log.WarnContext(ctx, "candidate cache read failed; computing the list", "error", err)
		return nil, false
	}
	if !ok {
		return nil, false
	}
	top, err := decodeTop(data, k)
	if err != nil {
		c.log.WarnContext(ctx, "candidate cache entry unreadable; computing the list", "error", err)
		return nil, false
	}
	return top, true
}

// decodeTop decodes the first k candidates of an encoded CandidateList
// and nothing after them. An entry holds MaxCandidates explained
// candidates (about 100 KB of JSON) while most look-ups want the default
// 10; decoding whole entries was three quarters of a cached look-up's
// CPU. The encoder writes the candidates first, so nothing is skipped
// before them.
func decodeTop(data []byte, k int) ([]Candidate, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	for dec.More() {
		name, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if name != "candidates" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
			continue
		}
		if err := expectDelim(dec, '['); err != nil {
			return nil, err
		}
		top := []Candidate{}
		for len(top) < k && dec.More() {
			var cand Candidate
			if err := dec.Decode(&cand); err != nil {
				return nil, err
			}
			top = append(top, cand)
		}
		return top, nil
	}
	return nil, errors.New("no candidates in the entry")
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("got %v, want %v", tok, want)
	}
	return nil
}

// compute scores the participant against the other side of the pool and
// keeps the best MaxCandidates, so that any k is served from one entry.
func (c *Candidates) compute(ctx context.Context, tenant, programID, participantID string) (CandidateList, error) {
	in, err := c.svc.ProgramInput(ctx, tenant, programID)
	if err != nil {
		return CandidateList{}, err
	}
	pool := in.Pool()
	side, index := engine.SideMentee, -1
	for i, p := range pool.Mentees {
		if p.ID == participantID {
			index = i
		}
	}
	for i, p := range pool.Mentors {
		if p.ID == participantID {
			side, index = engine.SideMentor, i
		}
	}
	if index < 0 {
		if _, ok := in.Mentee(participantID); ok {
			return CandidateList{}, fmt.Errorf("participant %s is already in a live match: %w", participantID, apperr.ErrFailedPrecondition)
		}
		if _, ok := in.Mentor(participantID); ok {
			return CandidateList{}, fmt.Errorf("mentor %s has no capacity left: %w", participantID, apperr.ErrFailedPrecondition)
		}
		return CandidateList{}, fmt.Errorf("participant %s is not an eligible participant of program %s: %w", participantID, programID, apperr.ErrNotFound)
	}
	model, err := engine.NewModel(in.Rules, pool.Mentors, pool.Mentees)
	if err != nil {
		return CandidateList{}, err
	}
	list := CandidateList{ConfigVersion: in.ConfigVersion, Epoch: in.Epoch, Candidates: []Candidate{}}
	for _, cand := range model.Candidates(side, index, MaxCandidates) {
		var ps engine.PairScore
		var other engine.Profile
		if side == engine.SideMentee {
			ps, other = model.Explain(cand.Index, index), pool.Mentors[cand.Index]
		} else {
			ps, other = model.Explain(index, cand.Index), pool.Mentees[cand.Index]
		}
		list.Candidates = append(list.Candidates, Candidate{
			ParticipantID: other.ID, PersonID: other.PersonID, Score: ps.Score, Factors: Factors(ps.Factors),
		})
	}
	return list, nil
}

func (l CandidateList) top(k int) CandidateList {
	l.Candidates = l.Candidates[:min(k, len(l.Candidates))]
	return l
}
