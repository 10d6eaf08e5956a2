// Package cachedstore puts the look-aside cache in front of the matching
// store: scoring configurations are read through the cache and dropped from
// it after every committed update. The cache is never trusted for writes,
// and any cache error is a miss, so a Redis outage costs latency only.
package cachedstore

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/tandem-oss/tandem/pkg/cache"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
)

// TTL bounds how long a cached configuration may be served; it also bounds
// staleness should an invalidation be lost (e.g. Redis down at that moment).
const TTL = time.Minute

// Store is a matching.Store with a cache in front of the scoring
// configurations; every other method is the next store's.
type Store struct {
	matching.Store
	next   matching.Store
	cache  cache.Cache
	logger *slog.Logger
}

var _ matching.Store = (*Store)(nil)

// New returns next behind c.
func New(next matching.Store, c cache.Cache, logger *slog.Logger) *Store {
	return &Store{Store: next, next: next, cache: c, logger: logger}
}

func key(tenant, programID string) string {
	return "matching:scoring_config:" + tenant + ":" + programID
}

// ScoringConfig serves from the cache, else from the store (and fills the
// cache). Not-found is not cached, so the first update is seen at once.
func (s *Store) ScoringConfig(ctx context.Context, tenant, programID string) (matching.ScoringConfig, error) {
	k := key(tenant, programID)
	raw, ok, err := s.cache.Get(ctx, k)
	if err != nil {
		s.logger.WarnContext(ctx, "cache get failed; reading the database", "error", err.Error())
	}
	var c matching.ScoringConfig
	if ok && json.Unmarshal(raw, &c) == nil {
		return c, nil
	}
	c, err = s.next.ScoringConfig(ctx, tenant, programID)
	if err != nil {
		return c, err
	}
	if raw, err := json.Marshal(c); err == nil {
		if err := s.cache.Set(ctx, k, raw, TTL); err != nil {
			s.logger.WarnContext(ctx, "cache set failed", "error", err.Error())
		}
	}
	return c, nil
}

// AddScoringConfig writes through to the store, then drops the cached
// value so every replica reads the new version.
func (s *Store) AddScoringConfig(ctx context.Context, tenant string, c matching.ScoringConfig) error {
	if err := s.next.AddScoringConfig(ctx, tenant, c); err != nil {
		return err
	}
	if err := s.cache.Delete(ctx, key(tenant, c.ProgramID)); err != nil {
		s.logger.WarnContext(ctx, "cache delete failed; the old value expires within the TTL", "error", err.Error())
	}
	return nil
}
