package gatewaysvc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/gateway/gatewaysvc"
)

const programID = "0190d4c5-7e4f-7a3b-9c1d-2e3f4a5b6c7d"

// echoParticipants is a trivial backend: GetProgram returns the asked id.
type echoParticipants struct {
	participantv1.UnimplementedParticipantServiceServer
}

func (echoParticipants) GetProgram(_ context.Context, req *participantv1.GetProgramRequest) (*participantv1.Program, error) {
	return &participantv1.Program{Id: req.GetId()}, nil
}

// limitedSetup is a trivial backend and the signer of the tokens the
// gateways in front of it accept.
type limitedSetup struct {
	backend string
	signer  *auth.DevSigner
	logger  *slog.Logger
}

func newLimitedSetup(t *testing.T) limitedSetup {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	participantv1.RegisterParticipantServiceServer(srv, echoParticipants{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	signer, err := auth.LoadOrCreateDevSigner(t.TempDir())
	require.NoError(t, err)
	return limitedSetup{backend: lis.Addr().String(), signer: signer, logger: servicetest.Logger(t)}
}

// limitedGateway is one running gateway replica.
type limitedGateway struct {
	client  participantv1.ParticipantServiceClient
	httpURL string
}

func (s limitedSetup) start(t *testing.T, limits gatewaysvc.RateLimitConfig) limitedGateway {
	verifier, err := s.signer.Verifier()
	require.NoError(t, err)
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- gatewaysvc.Run(ctx, grpcLis, httpLis, gatewaysvc.Config{
			Backends: map[string]string{gatewaysvc.ParticipantService: s.backend},
			Policy:   gatewaysvc.Policy, Logger: s.logger, Verifier: verifier, RateLimit: limits,
		})
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	conn, err := grpc.NewClient(grpcLis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return limitedGateway{client: participantv1.NewParticipantServiceClient(conn), httpURL: "http://" + httpLis.Addr().String()}
}

// token signs a token of subject in tenant.
func (s limitedSetup) token(t *testing.T, tenant, subject string) string {
	tok, err := s.signer.Sign(auth.Principal{Tenant: tenant, Subject: subject, Roles: []string{auth.RoleTenantAdmin}}, time.Hour)
	require.NoError(t, err)
	return tok
}

// callGRPC calls GetProgram through g with tok and returns the
// retry-after response header and the error.
func (g limitedGateway) callGRPC(t *testing.T, tok string) (string, error) {
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tok)
	var header metadata.MD
	got, err := g.client.GetProgram(ctx, &participantv1.GetProgramRequest{Id: programID}, grpc.Header(&header))
	if err == nil {
		require.Equal(t, programID, got.GetId())
	}
	return first(header.Get("retry-after")), err
}

// callHTTP calls GET /v1/programs/{id} through g with tok and returns the
// response's status, Retry-After and google.rpc.Status body.
func (g limitedGateway) callHTTP(t *testing.T, tok string) (int, string, map[string]any) {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, g.httpURL+"/v1/programs/"+programID, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, resp.Header.Get("Retry-After"), body
}

func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

// requireLimited checks err is ResourceExhausted naming bucket, with a
// RetryInfo of at most maxDelay and a retry-after header of whole seconds.
func requireLimited(t *testing.T, err error, retryAfter, bucket string, maxDelay time.Duration) {
	t.Helper()
	st := status.Convert(err)
	require.Equal(t, codes.ResourceExhausted, st.Code(), "%v", err)
	require.Contains(t, st.Message(), "rate limit of "+bucket+" exceeded; retry in ")
	require.Len(t, st.Details(), 1)
	info, ok := st.Details()[0].(*errdetails.RetryInfo)
	require.True(t, ok, "detail %T", st.Details()[0])
	delay := info.GetRetryDelay().AsDuration()
	require.Greater(t, delay, time.Duration(0))
	require.LessOrEqual(t, delay, maxDelay)
	secs, err := strconv.Atoi(retryAfter)
	require.NoError(t, err, "retry-after %q", retryAfter)
	require.Equal(t, int((delay+time.Second-1)/time.Second), secs)
}

// The limits below refill slowly (one call per 5 s) so a slow machine
// cannot refill a bucket between a test's calls.
const slowRate, slowInterval = 0.2, 5 * time.Second

func TestTenantRateLimitOverGRPCAndHTTP(t *testing.T) {
	rdb, prefix := testkit.Redis(t)
	s := newLimitedSetup(t)
	gw := s.start(t, gatewaysvc.RateLimitConfig{TenantPerSecond: slowRate, TenantBurst: 5, Redis: rdb, Prefix: prefix})

	acme := s.token(t, "acme", "alice")
	for i := range 5 {
		_, err := gw.callGRPC(t, acme)
		require.NoError(t, err, "call %d", i+1)
	}
	retryAfter, err := gw.callGRPC(t, acme)
	requireLimited(t, err, retryAfter, "tenant acme", slowInterval)

	// Another subject of acme shares the tenant's budget; another tenant
	// has its own.
	_, err = gw.callGRPC(t, s.token(t, "acme", "bob"))
	require.Equal(t, codes.ResourceExhausted, status.Code(err))
	_, err = gw.callGRPC(t, s.token(t, "globex", "carol"))
	require.NoError(t, err)

	// HTTP draws on the same buckets.
	code, retryAfter, body := gw.callHTTP(t, acme)
	require.Equal(t, http.StatusTooManyRequests, code)
	secs, err := strconv.Atoi(retryAfter)
	require.NoError(t, err, "Retry-After %q", retryAfter)
	require.GreaterOrEqual(t, secs, 1)
	require.LessOrEqual(t, secs, 5)
	require.Equal(t, float64(codes.ResourceExhausted), body["code"])
	require.Contains(t, body["message"], "rate limit of tenant acme exceeded")

	initech := s.token(t, "initech", "dave")
	for i := range 5 {
		code, _, body := gw.callHTTP(t, initech)
		require.Equal(t, http.StatusOK, code, "call %d: %v", i+1, body)
		require.Equal(t, programID, body["id"])
	}
	code, retryAfter, _ = gw.callHTTP(t, initech)
	require.Equal(t, http.StatusTooManyRequests, code)
	secs, err = strconv.Atoi(retryAfter)
	require.NoError(t, err, "Retry-After %q", retryAfter)
	require.GreaterOrEqual(t, secs, 1)
}

func TestReplicasShareTheBudgetThroughRedis(t *testing.T) {
	rdb, prefix := testkit.Redis(t)
	s := newLimitedSetup(t)
	limits := gatewaysvc.RateLimitConfig{TenantPerSecond: slowRate, TenantBurst: 5, Redis: rdb, Prefix: prefix}
	replicas := []limitedGateway{s.start(t, limits), s.start(t, limits)}

	tok := s.token(t, "acme", "alice")
	for i := range 5 {
		_, err := replicas[i%2].callGRPC(t, tok)
		require.NoError(t, err, "call %d", i+1)
	}
	for i, gw := range replicas {
		retryAfter, err := gw.callGRPC(t, tok)
		requireLimited(t, err, retryAfter, "tenant acme", slowInterval)
		code, _, _ := gw.callHTTP(t, tok)
		require.Equal(t, http.StatusTooManyRequests, code, "replica %d", i)
	}
	keys, err := rdb.Keys(t.Context(), prefix+"ratelimit:*").Result()
	require.NoError(t, err)
	require.Equal(t, []string{prefix + "ratelimit:acme"}, keys)
}

func TestClientRateLimitPerSubject(t *testing.T) {
	rdb, prefix := testkit.Redis(t)
	s := newLimitedSetup(t)
	gw := s.start(t, gatewaysvc.RateLimitConfig{
		TenantPerSecond: 1, TenantBurst: 1000, ClientPerSecond: slowRate, ClientBurst: 2, Redis: rdb, Prefix: prefix,
	})
	for _, subject := range []string{"alice", "bob"} {
		tok := s.token(t, "acme", subject)
		for i := range 2 {
			_, err := gw.callGRPC(t, tok)
			require.NoError(t, err, "%s call %d", subject, i+1)
		}
		retryAfter, err := gw.callGRPC(t, tok)
		requireLimited(t, err, retryAfter, "client acme/"+subject, slowInterval)
	}
	// A refused call charges no bucket: the tenant saw 4 calls, not 6.
	tat, err := rdb.Get(t.Context(), prefix+"ratelimit:acme").Float64()
	require.NoError(t, err)
	redisNow, err := rdb.Time(t.Context()).Result()
	require.NoError(t, err)
	ahead := time.Duration(tat-float64(redisNow.UnixMicro())) * time.Microsecond
	require.InDelta(t, float64(4*time.Second), float64(ahead), float64(time.Second/2), "tenant bucket %s ahead of now", ahead)
}

func TestLocalFallbackWhenRedisIsDown(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	s := newLimitedSetup(t)
	gw := s.start(t, gatewaysvc.RateLimitConfig{TenantPerSecond: slowRate, TenantBurst: 5, Redis: down, Prefix: "tandemtest:"})

	tok := s.token(t, "acme", "alice")
	for i := range 5 {
		_, err := gw.callGRPC(t, tok)
		require.NoError(t, err, "call %d", i+1)
	}
	retryAfter, err := gw.callGRPC(t, tok)
	requireLimited(t, err, retryAfter, "tenant acme", slowInterval)
	code, _, _ := gw.callHTTP(t, tok)
	require.Equal(t, http.StatusTooManyRequests, code)
	_, err = gw.callGRPC(t, s.token(t, "globex", "carol"))
	require.NoError(t, err)
}

func TestBackToRedisWhenItAnswersAgain(t *testing.T) {
	rdb, prefix := testkit.Redis(t)
	var down atomic.Bool
	down.Store(true)
	gated := redis.NewClient(&redis.Options{Addr: rdb.Options().Addr, MaxRetries: -1,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if down.Load() {
				return nil, errors.New("redis is down in this test")
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}})
	t.Cleanup(func() { gated.Close() })
	s := newLimitedSetup(t)
	var logs lockedBuffer
	s.logger = slog.New(slog.NewTextHandler(&logs, nil))
	gw := s.start(t, gatewaysvc.RateLimitConfig{TenantPerSecond: slowRate, TenantBurst: 5, Redis: gated, Prefix: prefix})

	tok := s.token(t, "acme", "alice")
	for i := range 5 {
		_, err := gw.callGRPC(t, tok)
		require.NoError(t, err, "call %d", i+1)
	}
	_, err := gw.callGRPC(t, tok)
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "the local bucket is empty")

	// Redis's bucket is still full: once Redis answers, calls pass again
	// and are charged there.
	down.Store(false)
	testkit.Eventually(t, 5*time.Second, func() bool {
		_, err := gw.callGRPC(t, tok)
		return err == nil
	}, "calls still refused after Redis came back")
	n, err := rdb.Exists(t.Context(), prefix+"ratelimit:acme").Result()
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	// Each change is logged once, however many calls saw it.
	require.Equal(t, 1, strings.Count(logs.String(), "rate limits: Redis unavailable"), logs.String())
	require.Equal(t, 1, strings.Count(logs.String(), "rate limits: Redis answers again"), logs.String())
}

// lockedBuffer is a log destination safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRefusedTenantSkipsRedisUntilRetry checks that a replica remembers
// Redis's refusal until the retry time: with the bucket gone from Redis it
// still refuses, while a replica that was not told allows the call.
func TestRefusedTenantSkipsRedisUntilRetry(t *testing.T) {
	rdb, prefix := testkit.Redis(t)
	s := newLimitedSetup(t)
	limits := gatewaysvc.RateLimitConfig{TenantPerSecond: slowRate, TenantBurst: 1, Redis: rdb, Prefix: prefix}
	gw := s.start(t, limits)
	acme := s.token(t, "acme", "alice")
	_, err := gw.callGRPC(t, acme)
	require.NoError(t, err)
	retryAfter, err := gw.callGRPC(t, acme)
	requireLimited(t, err, retryAfter, "tenant acme", slowInterval)

	require.NoError(t, rdb.Del(t.Context(), prefix+"ratelimit:acme").Err())
	retryAfter, err = gw.callGRPC(t, acme)
	requireLimited(t, err, retryAfter, "tenant acme", slowInterval)
	_, err = s.start(t, limits).callGRPC(t, acme)
	require.NoError(t, err, "Redis itself has room again")
}
