package gatewaysvc

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tandem-oss/tandem/pkg/auth"
)

// RateLimitConfig sets the request rate each tenant, and each client (a
// token subject within a tenant), may sustain through the gateway. A zero
// PerSecond turns that kind of limit off.
type RateLimitConfig struct {
	// TenantPerSecond and TenantBurst bound all calls of one tenant.
	TenantPerSecond float64
	TenantBurst     int
	// ClientPerSecond and ClientBurst bound the calls of one subject of a
	// tenant.
	ClientPerSecond float64
	ClientBurst     int
	// Redis, when set, holds the buckets so every gateway replica shares
	// them; without it, or while it fails, each replica limits on its own.
	Redis *redis.Client
	// Prefix starts every Redis key.
	Prefix string
}

// redisTimeout bounds each Redis call so a slow Redis costs a request at
// most this much before the local fallback decides.
const redisTimeout = 50 * time.Millisecond

// maxLocalBuckets bounds the in-process fallback's map of buckets.
const maxLocalBuckets = 10_000

// gcraScript applies GCRA to every key in KEYS at once, with ARGV holding
// (emission interval in µs, burst) per key: the request passes only if every
// bucket has room, and then all of them are charged. It reads the clock of
// Redis, so the replicas' clocks do not matter. It returns {0, 0} when
// allowed, else {µs to wait, 1-based index of the fullest key}.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait, which = 0, 0
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  tats[i] = tat + interval
  local allowAt = tats[i] - burst * interval
  if allowAt - now > wait then wait, which = allowAt - now, i end
end
if wait > 0 then return {math.ceil(wait), which} end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, string.format('%.0f', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000) + 1)
end
return {0, 0}
`)

// limiter enforces RateLimitConfig for authenticated callers.
type limiter struct {
	cfg    RateLimitConfig
	logger *slog.Logger

	mu        sync.Mutex
	local     map[string]*rate.Limiter
	redisDown bool
	// refusedUntil remembers, per bucket key, until when Redis said the
	// bucket is empty: GCRA frees no room before then, whatever the other
	// replicas do, so the calls of a tenant far over its quota are refused
	// here without a Redis round trip and cost the other tenants little.
	refusedUntil map[string]time.Time
}

// newLimiter returns the limiter of cfg, or nil when cfg sets no limit.
func newLimiter(cfg RateLimitConfig, logger *slog.Logger) *limiter {
	if cfg.TenantPerSecond <= 0 && cfg.ClientPerSecond <= 0 {
		return nil
	}
	return &limiter{cfg: cfg, logger: logger, local: map[string]*rate.Limiter{}, refusedUntil: map[string]time.Time{}}
}

// bucket is one rate limit that applies to a request.
type bucket struct {
	name      string // "tenant acme" or "client acme/alice", for messages
	key       string // acme or acme/alice
	perSecond float64
	burst     int
}

// denial says why a request was refused and when to retry.
type denial struct {
	bucket string
	key    string
	retry  time.Duration
}

// stillRefused is the denial of the first of buckets Redis refused until
// after now, or nil.
func (l *limiter) stillRefused(buckets []bucket, now time.Time) *denial {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range buckets {
		if until, ok := l.refusedUntil[b.key]; ok {
			if now.Before(until) {
				return &denial{bucket: b.name, key: b.key, retry: until.Sub(now)}
			}
			delete(l.refusedUntil, b.key)
		}
	}
	return nil
}

// refuseUntil records that Redis refused key until until.
func (l *limiter) refuseUntil(key string, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.refusedUntil) >= maxLocalBuckets {
		clear(l.refusedUntil)
	}
	l.refusedUntil[key] = until
}

func (d *denial) message() string {
	return fmt.Sprintf("rate limit of %s exceeded; retry in %d ms", d.bucket, (d.retry+time.Millisecond-1)/time.Millisecond)
}

// retryAfter is the Retry-After value: whole seconds, rounded up.
func (d *denial) retryAfter() string {
	return strconv.Itoa(int(math.Ceil(d.retry.Seconds())))
}

// allow charges p's buckets for one request and returns nil, or the denial
// if any bucket is empty (then none is charged). It blocks for at most
// redisTimeout on Redis.
func (l *limiter) allow(ctx context.Context, p auth.Principal) *denial {
	var buckets []bucket
	if l.cfg.TenantPerSecond > 0 {
		buckets = append(buckets, bucket{"tenant " + p.Tenant, p.Tenant, l.cfg.TenantPerSecond, max(l.cfg.TenantBurst, 1)})
	}
	if l.cfg.ClientPerSecond > 0 {
		key := p.Tenant + "/" + p.Subject
		buckets = append(buckets, bucket{"client " + key, key, l.cfg.ClientPerSecond, max(l.cfg.ClientBurst, 1)})
	}
	if l.cfg.Redis != nil {
		now := time.Now()
		if d := l.stillRefused(buckets, now); d != nil {
			return d
		}
		d, err := l.allowRedis(ctx, buckets)
		l.setRedisDown(err)
		if err == nil {
			if d != nil {
				l.refuseUntil(d.key, now.Add(d.retry))
			}
			return d
		}
	}
	return l.allowLocal(buckets, time.Now())
}

func (l *limiter) allowRedis(ctx context.Context, buckets []bucket) (*denial, error) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	keys := make([]string, len(buckets))
	args := make([]any, 0, 2*len(buckets))
	for i, b := range buckets {
		keys[i] = l.cfg.Prefix + "ratelimit:" + b.key
		args = append(args, 1e6/b.perSecond, b.burst)
	}
	res, err := gcraScript.Run(ctx, l.cfg.Redis, keys, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 2 || res[0] <= 0 {
		return nil, nil
	}
	b := buckets[res[1]-1]
	return &denial{bucket: b.name, key: b.key, retry: time.Duration(res[0]) * time.Microsecond}, nil
}

// setRedisDown records whether the last Redis call failed and logs each
// change between Redis and the local fallback once.
func (l *limiter) setRedisDown(err error) {
	l.mu.Lock()
	changed := l.redisDown != (err != nil)
	l.redisDown = err != nil
	l.mu.Unlock()
	switch {
	case changed && err != nil:
		l.logger.Warn("rate limits: Redis unavailable, each replica now limits on its own", "error", err.Error())
	case changed:
		l.logger.Info("rate limits: Redis answers again, limits are shared")
	}
}

// allowLocal is allow with one in-process bucket per key.
func (l *limiter) allowLocal(buckets []bucket, now time.Time) *denial {
	l.mu.Lock()
	defer l.mu.Unlock()
	var taken []*rate.Reservation
	for _, b := range buckets {
		lim, ok := l.local[b.key]
		if !ok {
			if len(l.local) >= maxLocalBuckets {
				for k := range l.local {
					delete(l.local, k)
					break
				}
			}
			lim = rate.NewLimiter(rate.Limit(b.perSecond), b.burst)
			l.local[b.key] = lim
		}
		r := lim.ReserveN(now, 1)
		if delay := r.DelayFrom(now); delay > 0 {
			r.CancelAt(now)
			for _, t := range taken {
				t.CancelAt(now)
			}
			return &denial{bucket: b.name, key: b.key, retry: delay}
		}
		taken = append(taken, r)
	}
	return nil
}

// streamInterceptor refuses a call over its caller's limits with
// ResourceExhausted, a RetryInfo detail and a retry-after header. It runs
// after authentication; calls without a principal (public ones) pass.
func (l *limiter) streamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		p, ok := auth.FromContext(ss.Context())
		if !ok {
			return handler(srv, ss)
		}
		d := l.allow(ss.Context(), p)
		if d == nil {
			return handler(srv, ss)
		}
		ss.SetHeader(metadata.Pairs("retry-after", d.retryAfter()))
		st := status.New(codes.ResourceExhausted, d.message())
		if withInfo, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d.retry)}); err == nil {
			st = withInfo
		}
		return st.Err()
	}
}

// limitRate is the HTTP counterpart of streamInterceptor: 429 with
// Retry-After. It runs after authenticate.
func (l *limiter) limitRate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := auth.FromContext(r.Context()); ok {
			if d := l.allow(r.Context(), p); d != nil {
				w.Header().Set("Retry-After", d.retryAfter())
				writeStatus(w, http.StatusTooManyRequests, int(codes.ResourceExhausted), d.message())
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
