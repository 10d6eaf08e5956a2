// Package cache is the services' look-aside cache: Redis in the cluster, an
// in-process map for the single binary. A cache is never the source of
// truth: callers treat every error as a miss and read the database, so a
// Redis outage costs latency, never correctness.
package cache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cache stores byte values under string keys with a time to live.
type Cache interface {
	// Get returns the value of key and whether it was found.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// GetPrefix is Get of at most the first n bytes of the value, for
	// readers that need only the start of a large value. An empty value
	// reads as missing.
	GetPrefix(ctx context.Context, key string, n int) ([]byte, bool, error)
	// Set stores value under key for ttl.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes keys; missing keys are not an error.
	Delete(ctx context.Context, keys ...string) error
}

// ErrSkipped is returned, without a round trip, while Redis is considered
// down after a failure.
var ErrSkipped = errors.New("cache: redis failed recently; skipped")

// RetryAfter is how long Redis is skipped after a failed call, so an outage
// costs one timeout, not one per request.
const RetryAfter = 5 * time.Second

// Redis is a Cache in Redis, every key under a prefix (e.g. "tandem:").
type Redis struct {
	client    *redis.Client
	prefix    string
	downUntil atomic.Int64 // unix nanoseconds
}

// NewRedis returns a Cache on client; every key gets prefix.
func NewRedis(client *redis.Client, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// Get blocks for one round trip, or none while Redis is skipped.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := r.skip(); err != nil {
		return nil, false, err
	}
	v, err := r.client.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, r.failed("get", err)
	}
	return v, true, nil
}

// GetPrefix blocks for one round trip (GETRANGE), or none while Redis is
// skipped.
func (r *Redis) GetPrefix(ctx context.Context, key string, n int) ([]byte, bool, error) {
	if err := r.skip(); err != nil {
		return nil, false, err
	}
	v, err := r.client.GetRange(ctx, r.prefix+key, 0, int64(n)-1).Bytes()
	if err != nil {
		return nil, false, r.failed("getrange", err)
	}
	return v, len(v) > 0, nil
}

// Set blocks for one round trip, or none while Redis is skipped.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := r.skip(); err != nil {
		return err
	}
	if err := r.client.Set(ctx, r.prefix+key, value, ttl).Err(); err != nil {
		return r.failed("set", err)
	}
	return nil
}

// Delete blocks for one round trip. It is tried even while Redis is
// skipped: a lost invalidation would serve stale values until they expire.
func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.prefix + k
	}
	if err := r.client.Del(ctx, full...).Err(); err != nil {
		return r.failed("delete", err)
	}
	return nil
}

func (r *Redis) skip() error {
	if time.Now().UnixNano() < r.downUntil.Load() {
		return ErrSkipped
	}
	return nil
}

func (r *Redis) failed(op string, err error) error {
	r.downUntil.Store(time.Now().Add(RetryAfter).UnixNano())
	return fmt.Errorf("cache: %s: %w", op, err)
}

// Memory is an in-process Cache holding at most a fixed number of entries;
// when full, it first drops expired entries, then arbitrary ones.
type Memory struct {
	mu      sync.Mutex
	max     int
	entries map[string]entry
	now     func() time.Time
}

type entry struct {
	value   []byte
	expires time.Time
}

// NewMemory returns an in-process Cache of at most maxEntries entries.
func NewMemory(maxEntries int) *Memory {
	return &Memory{max: maxEntries, entries: map[string]entry{}, now: time.Now}
}

// Get never blocks on I/O.
func (m *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	v, ok := m.get(key, math.MaxInt)
	return v, ok, nil
}

// GetPrefix never blocks on I/O, and copies only the prefix.
func (m *Memory) GetPrefix(_ context.Context, key string, n int) ([]byte, bool, error) {
	v, ok := m.get(key, n)
	return v, ok && len(v) > 0, nil
}

// get returns a copy of at most the first n bytes of key's live value.
func (m *Memory) get(key string, n int) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || !m.now().Before(e.expires) {
		delete(m.entries, key)
		return nil, false
	}
	return append([]byte(nil), e.value[:min(n, len(e.value))]...), true
}

// Set never blocks on I/O.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, exists := m.entries[key]; !exists && len(m.entries) >= m.max {
		m.evict()
	}
	m.entries[key] = entry{value: append([]byte(nil), value...), expires: m.now().Add(ttl)}
	return nil
}

func (m *Memory) evict() {
	now := m.now()
	for k, e := range m.entries {
		if !now.Before(e.expires) {
			delete(m.entries, k)
		}
	}
	for k := range m.entries {
		if len(m.entries) < m.max {
			return
		}
		delete(m.entries, k)
	}
}

// Delete never blocks on I/O.
func (m *Memory) Delete(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.entries, k)
	}
	return nil
}
