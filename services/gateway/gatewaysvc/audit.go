package gatewaysvc

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/server"
)

// AuditConfig says where the gateway records its access decisions.
type AuditConfig struct {
	// JetStream receives an audit.access_denied event per refused call;
	// nil records nothing.
	JetStream jetstream.JetStream
	// SubjectPrefix is the first subject token (default "tandem").
	SubjectPrefix string
	// Buffer bounds the events waiting to be published (default 4096);
	// beyond it new events are dropped and counted, so a flood of refusals
	// never slows the calls down.
	Buffer int
}

// Reasons of an AccessDenied event.
const (
	reasonMissingToken = "missing_token"
	reasonInvalidToken = "invalid_token"
	reasonRole         = "role"
	reasonObject       = "object"
	reasonRateLimit    = "rate_limit"
)

// unknownTenant is the subject's tenant token of a call without a verified
// token.
const unknownTenant = "_"

// publishTimeout bounds the wait for one event's PubAck.
const publishTimeout = 5 * time.Second

// summaryWindow is how often the summed rate-limit refusals are published,
// and maxSummaries how many callers, methods and protocols are summed at
// once; refusals beyond it are dropped and counted like a full queue.
const (
	summaryWindow = time.Second
	maxSummaries  = 10_000
)

// auditor publishes an AccessDenied event for every refused call, except
// rate-limit refusals: those are summed per caller, method and protocol
// and published once a summaryWindow, so that a tenant flooding the
// gateway costs one event a second, not one per call, and none is dropped.
// Calls only hand events to a bounded queue; one goroutine publishes them
// with Nats-Msg-Id set to the event id, so a retried publish is not stored
// twice.
type auditor struct {
	js       jetstream.JetStream
	prefix   string
	queue    chan *nats.Msg
	verifier *auth.Verifier
	policy   auth.Policy
	logger   *slog.Logger
	dropped  metric.Int64Counter
	failed   metric.Int64Counter

	mu        sync.Mutex
	summaries map[summaryKey]*eventsv1.AccessDenied
}

// summaryKey is what rate-limit refusals are summed by.
type summaryKey struct{ tenant, actor, method, protocol string }

// newAuditor returns the auditor of cfg, or nil when cfg has no JetStream.
func newAuditor(cfg Config) *auditor {
	if cfg.Audit.JetStream == nil {
		return nil
	}
	a := &auditor{js: cfg.Audit.JetStream, prefix: cfg.Audit.SubjectPrefix, verifier: cfg.Verifier, policy: cfg.Policy, logger: cfg.Logger,
		summaries: make(map[summaryKey]*eventsv1.AccessDenied)}
	if a.prefix == "" {
		a.prefix = eventbus.DefaultSubjectPrefix
	}
	size := cfg.Audit.Buffer
	if size <= 0 {
		size = 4096
	}
	a.queue = make(chan *nats.Msg, size)
	meter := otel.Meter("github.com/tandem-oss/tandem/services/gateway")
	a.dropped, _ = meter.Int64Counter("gateway.audit.dropped", metric.WithDescription("audit events dropped because the queue was full"))
	a.failed, _ = meter.Int64Counter("gateway.audit.failed", metric.WithDescription("audit events JetStream did not acknowledge"))
	return a
}

// run publishes queued events, and the summed ones every summaryWindow,
// until ctx is done, then what is still queued or summed for at most
// publishTimeout. It blocks until then.
func (a *auditor) run(ctx context.Context) error {
	tick := time.NewTicker(summaryWindow)
	defer tick.Stop()
	for {
		select {
		case msg := <-a.queue:
			a.publish(ctx, msg)
		case <-tick.C:
			a.flushSummaries()
		case <-ctx.Done():
			a.flushSummaries()
			drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
			defer cancel()
			for {
				select {
				case msg := <-a.queue:
					a.publish(drain, msg)
				default:
					return nil
				}
			}
		}
	}
}

func (a *auditor) publish(ctx context.Context, msg *nats.Msg) {
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	if _, err := a.js.PublishMsg(ctx, msg); err != nil {
		a.failed.Add(context.Background(), 1)
		a.logger.Warn("audit: event not published", "subject", msg.Subject, "error", err.Error())
	}
}

// record queues the event of one refusal, or adds a rate-limit refusal to
// its caller's sum; it never blocks.
func (a *auditor) record(p auth.Principal, method, protocol string, code codes.Code, reason string) {
	now := timestamppb.Now()
	if reason == reasonRateLimit {
		a.summarise(summaryKey{tenant: p.Tenant, actor: p.Subject, method: method, protocol: protocol}, now)
		return
	}
	a.enqueue(&eventsv1.AccessDenied{Actor: p.Subject, Tenant: p.Tenant, Method: method, Protocol: protocol,
		Decision: strings.ToUpper(codeName(code)), Reason: reason, Time: now, Count: 1, LastTime: now})
}

// summarise counts a rate-limit refusal of k at now.
func (a *auditor) summarise(k summaryKey, now *timestamppb.Timestamp) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.summaries[k]; ok {
		e.Count++
		e.LastTime = now
		return
	}
	if len(a.summaries) >= maxSummaries {
		a.dropped.Add(context.Background(), 1)
		return
	}
	a.summaries[k] = &eventsv1.AccessDenied{Actor: k.actor, Tenant: k.tenant, Method: k.method, Protocol: k.protocol,
		Decision: strings.ToUpper(codeName(codes.ResourceExhausted)), Reason: reasonRateLimit, Time: now, Count: 1, LastTime: now}
}

// flushSummaries queues the summed rate-limit refusals and starts new sums.
func (a *auditor) flushSummaries() {
	a.mu.Lock()
	summed := a.summaries
	a.summaries = make(map[summaryKey]*eventsv1.AccessDenied, len(summed))
	a.mu.Unlock()
	for _, e := range summed {
		a.enqueue(e)
	}
}

// enqueue queues e's message, or drops and counts it when the queue is full.
func (a *auditor) enqueue(e *eventsv1.AccessDenied) {
	data, err := proto.Marshal(e)
	if err != nil {
		return
	}
	tenant := e.GetTenant()
	if tenant == "" || strings.ContainsAny(tenant, ".*> ") {
		tenant = unknownTenant
	}
	id := uuid.Must(uuid.NewV7()).String()
	msg := nats.NewMsg(a.prefix + "." + tenant + ".audit.access_denied")
	msg.Data = data
	h := msg.Header
	h.Set(jetstream.MsgIDHeader, id)
	h.Set(eventbus.HeaderSpecVersion, "1.0")
	h.Set(eventbus.HeaderID, id)
	h.Set(eventbus.HeaderSource, "tandem/gateway")
	h.Set(eventbus.HeaderType, "tandem.audit.access_denied")
	h.Set(eventbus.HeaderTime, e.GetTime().AsTime().Format(time.RFC3339Nano))
	h.Set(eventbus.HeaderSubject, e.GetMethod())
	h.Set(eventbus.HeaderTenant, tenant)
	h.Set(eventbus.HeaderDataContentType, "application/protobuf")
	h.Set(eventbus.HeaderDataSchema, "proto:tandem.events.v1.AccessDenied")
	select {
	case a.queue <- msg:
	default:
		a.dropped.Add(context.Background(), 1)
	}
}

// codeName is the canonical name of a code, e.g. PERMISSION_DENIED.
func codeName(c codes.Code) string {
	switch c {
	case codes.Unauthenticated:
		return "UNAUTHENTICATED"
	case codes.PermissionDenied:
		return "PERMISSION_DENIED"
	case codes.ResourceExhausted:
		return "RESOURCE_EXHAUSTED"
	}
	return c.String()
}

// reason classifies a refusal with code of method; p is the verified caller
// (ok false without one) and hasToken whether the call carried a token.
func (a *auditor) reason(code codes.Code, rateLimited bool, p auth.Principal, ok, hasToken bool, method string) (string, bool) {
	switch code {
	case codes.Unauthenticated:
		if hasToken {
			return reasonInvalidToken, true
		}
		return reasonMissingToken, true
	case codes.PermissionDenied:
		if !ok || a.policy.Check(auth.WithPrincipal(context.Background(), p), method) != nil {
			return reasonRole, true
		}
		return reasonObject, true
	case codes.ResourceExhausted:
		return reasonRateLimit, rateLimited // an oversized request is no access decision
	}
	return "", false
}

// streamInterceptor records every refused gRPC call. It runs first of the
// gateway's interceptors, so it sees the refusals of authentication, the
// role policy, the rate limits and the backend's object rules alike.
func (a *auditor) streamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		err := handler(srv, ss)
		if err == nil {
			return nil
		}
		st := server.Status(err)
		rateLimited := false
		for _, d := range st.Details() {
			if _, ok := d.(*errdetails.RetryInfo); ok {
				rateLimited = true
			}
		}
		md, _ := metadata.FromIncomingContext(ss.Context())
		hasToken := len(md.Get("authorization")) > 0
		var p auth.Principal
		authed, authErr := a.verifier.Authenticate(ss.Context())
		if authErr == nil {
			p, _ = auth.FromContext(authed)
		}
		if reason, ok := a.reason(st.Code(), rateLimited, p, authErr == nil, hasToken, info.FullMethod); ok {
			a.record(p, info.FullMethod, "grpc", st.Code(), reason)
		}
		return err
	}
}

// wrapHTTP records every refused HTTP/JSON call: 401, 403 and 429.
func (a *auditor) wrapHTTP(next http.Handler) http.Handler {
	codesByStatus := map[int]codes.Code{
		http.StatusUnauthorized:    codes.Unauthenticated,
		http.StatusForbidden:       codes.PermissionDenied,
		http.StatusTooManyRequests: codes.ResourceExhausted,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		var grpcMethod string
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), grpcMethodKey{}, &grpcMethod)))
		code, refused := codesByStatus[rec.status]
		if !refused {
			return
		}
		raw, hasToken := auth.BearerToken(r.Header.Get("Authorization"))
		p, err := a.verifier.Verify(r.Context(), raw)
		if reason, ok := a.reason(code, true, p, hasToken && err == nil, hasToken, grpcMethod); ok {
			a.record(p, r.Method+" "+r.URL.Path, "http", code, reason)
		}
	})
}

// grpcMethodKey carries a *string that the HTTP calls' policy interceptor
// fills with the gRPC method the request maps to, for the audit's reason.
type grpcMethodKey struct{}

// noteGRPCMethod stores method where wrapHTTP reads it, if ctx has room.
func noteGRPCMethod(ctx context.Context, method string) {
	if m, ok := ctx.Value(grpcMethodKey{}).(*string); ok {
		*m = method
	}
}

// statusRecorder remembers the status an HTTP handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
