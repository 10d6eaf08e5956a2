// Package gatewaysvc wires the gateway, Tandem's public surface: the gRPC
// API of every service (proxied to the backends) and the same API as
// HTTP/JSON through grpc-gateway, with the OpenAPI document, token
// verification and the role policy applied at the edge. The backends check
// the token and the tenant again.
package gatewaysvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoregistry"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/gen/openapi"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/server"
)

// Service names, as the keys of Config.Backends.
const (
	ParticipantService = "tandem.participant.v1.ParticipantService"
	MatchingService    = "tandem.matching.v1.MatchingService"
	SchedulingService  = "tandem.scheduling.v1.SchedulingService"
	EvaluationService  = "tandem.evaluation.v1.EvaluationService"
)

// Config is the gateway's configuration.
type Config struct {
	// Backends maps each service name to the address of its gRPC server.
	Backends map[string]string
	// Policy holds the role policy of every RPC of every backend.
	Policy auth.Policy
	// CallTimeout is the deadline of a backend call whose caller set none
	// (default 30s).
	CallTimeout time.Duration
	// MaxBodyBytes bounds an HTTP request body and a gRPC request message
	// (default 1 MiB), except for the upload methods in largeRequests.
	MaxBodyBytes int64
	// DevJWKS, when set, is served at /.well-known/jwks.json (dev mode).
	DevJWKS []byte
	// RateLimit bounds the calls of each tenant and each client (none by
	// default).
	RateLimit RateLimitConfig
	// Audit says where refused calls are recorded (nowhere by default).
	Audit AuditConfig
	// Logger, Verifier and DrainDelay as for every service.
	Logger     *slog.Logger
	Verifier   *auth.Verifier
	DrainDelay time.Duration
}

// Run serves gRPC on grpcLis and HTTP/JSON on httpLis until ctx is done. It
// blocks until both servers have stopped.
func Run(ctx context.Context, grpcLis, httpLis net.Listener, cfg Config) error {
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = 30 * time.Second
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	conns := map[string]*grpc.ClientConn{}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for _, name := range slices.Sorted(maps.Keys(cfg.Backends)) {
		conn, err := grpc.NewClient(cfg.Backends[name],
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			// Spread calls over every backend pod: the backends' Services
			// are headless, so DNS names each pod.
			grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
			grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
			grpc.WithChainUnaryInterceptor(policyClientInterceptor(cfg.Policy), timeoutInterceptor(cfg.CallTimeout)))
		if err != nil {
			return fmt.Errorf("gateway: backend %s: %w", name, err)
		}
		conns[name] = conn
	}

	lim := newLimiter(cfg.RateLimit, cfg.Logger)
	audit := newAuditor(cfg)
	grpcSrv, err := newGRPCServer(cfg, conns, lim, audit)
	if err != nil {
		return err
	}
	httpHandler, err := newHTTPHandler(ctx, cfg, conns, lim, audit)
	if err != nil {
		return err
	}
	httpSrv := &http.Server{Handler: httpHandler, ReadHeaderTimeout: 10 * time.Second}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return grpcSrv.Serve(ctx, grpcLis) })
	if audit != nil {
		// The audit outlives the servers by its drain: it stops when Run's
		// context does, after the servers have stopped taking calls.
		g.Go(func() error { return audit.run(ctx) })
	}
	g.Go(func() error {
		if err := httpSrv.Serve(httpLis); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("gateway: http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		if cfg.DrainDelay > 0 {
			time.Sleep(cfg.DrainDelay)
		}
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return httpSrv.Shutdown(shutdownCtx)
	})
	return g.Wait()
}

func newGRPCServer(cfg Config, conns map[string]*grpc.ClientConn, lim *limiter, audit *auditor) (*server.Server, error) {
	p := &proxy{backends: conns, timeout: cfg.CallTimeout, codec: newCodec(), maxBytes: func(method string) int64 {
		return maxRequestBytes(method, cfg.MaxBodyBytes)
	}}
	// Every authenticated call is a stream: the proxy serves them all as
	// an UnknownServiceHandler.
	var stream []grpc.StreamServerInterceptor
	if audit != nil {
		stream = append(stream, audit.streamInterceptor())
	}
	stream = append(stream, cfg.Verifier.StreamInterceptor(cfg.Policy), cfg.Policy.StreamInterceptor())
	if lim != nil {
		stream = append(stream, lim.streamInterceptor())
	}
	srv, err := server.New(server.Options{
		MaxRecvBytes: 96 << 20, // the largest upload; the proxy bounds every other method
		Logger:       cfg.Logger,
		Stream:       stream,
		Extra:        []grpc.ServerOption{grpc.UnknownServiceHandler(p.handle), grpc.ForceServerCodecV2(p.codec)},
		NoReflection: true,
		DrainDelay:   cfg.DrainDelay,
	})
	if err != nil {
		return nil, err
	}
	// Reflection describes the proxied services as if they were served
	// here, so grpcurl and other tools work against the gateway.
	opts := reflection.ServerOptions{
		Services:           proxiedServices{srv: srv.GRPC(), names: slices.Collect(maps.Keys(conns))},
		DescriptorResolver: protoregistry.GlobalFiles,
		ExtensionResolver:  protoregistry.GlobalTypes,
	}
	reflectionv1.RegisterServerReflectionServer(srv.GRPC(), reflection.NewServerV1(opts))
	reflectionv1alpha.RegisterServerReflectionServer(srv.GRPC(), reflection.NewServer(opts))
	return srv, nil
}

// proxiedServices lists the gateway's own services plus the proxied ones.
type proxiedServices struct {
	srv   *grpc.Server
	names []string
}

func (p proxiedServices) GetServiceInfo() map[string]grpc.ServiceInfo {
	info := p.srv.GetServiceInfo()
	for _, n := range p.names {
		info[n] = grpc.ServiceInfo{}
	}
	return info
}

func newHTTPHandler(ctx context.Context, cfg Config, conns map[string]*grpc.ClientConn, lim *limiter, audit *auditor) (http.Handler, error) {
	mux := runtime.NewServeMux(
		// HttpBody responses (CSV exports) are sent as their own content type.
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{Marshaler: &runtime.JSONPb{
			MarshalOptions: protojson.MarshalOptions{EmitUnpopulated: false},
			// Unknown fields are an error, so a misspelt field is reported
			// instead of silently ignored.
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
	)
	register := map[string]func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		ParticipantService: func(ctx context.Context, m *runtime.ServeMux, c *grpc.ClientConn) error {
			return participantv1.RegisterParticipantServiceHandlerClient(ctx, m, participantv1.NewParticipantServiceClient(c))
		},
		MatchingService: func(ctx context.Context, m *runtime.ServeMux, c *grpc.ClientConn) error {
			return matchingv1.RegisterMatchingServiceHandlerClient(ctx, m, matchingv1.NewMatchingServiceClient(c))
		},
		SchedulingService: func(ctx context.Context, m *runtime.ServeMux, c *grpc.ClientConn) error {
			return schedulingv1.RegisterSchedulingServiceHandlerClient(ctx, m, schedulingv1.NewSchedulingServiceClient(c))
		},
		EvaluationService: func(ctx context.Context, m *runtime.ServeMux, c *grpc.ClientConn) error {
			return evaluationv1.RegisterEvaluationServiceHandlerClient(ctx, m, evaluationv1.NewEvaluationServiceClient(c))
		},
	}
	for name, conn := range conns {
		reg, ok := register[name]
		if !ok {
			return nil, fmt.Errorf("gateway: unknown backend service %q", name)
		}
		if err := reg(ctx, mux, conn); err != nil {
			return nil, fmt.Errorf("gateway: register %s: %w", name, err)
		}
	}

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { healthz(w, r, conns) })
	root.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openapi.JSON)
	})
	if cfg.DevJWKS != nil {
		root.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(cfg.DevJWKS)
		})
	}
	if conn, ok := conns[SchedulingService]; ok {
		feeds := schedulingv1.NewSchedulingServiceClient(conn)
		root.HandleFunc("GET /v1/calendars/{file}", func(w http.ResponseWriter, r *http.Request) { calendarFeed(w, r, feeds) })
	}
	api := limitBody(mux, cfg.MaxBodyBytes)
	if lim != nil {
		api = lim.limitRate(api)
	}
	api = authenticate(cfg.Verifier, api)
	if audit != nil {
		api = audit.wrapHTTP(api)
	}
	root.Handle("/v1/", api)
	return otelhttp.NewHandler(root, "gateway"), nil
}

// largeRequests are the upload methods allowed bigger requests than
// Config.MaxBodyBytes, by gRPC method and by HTTP route. An HTTP body holds
// the file base64-encoded in JSON, a third larger than the file.
var largeRequests = map[string]int64{
	"/" + ParticipantService + "/CreateImport": 96 << 20,
	"POST /v1/imports":                         128 << 20,
}

// maxRequestBytes is the size limit of a gRPC method or an HTTP route.
func maxRequestBytes(key string, def int64) int64 {
	if n, ok := largeRequests[key]; ok {
		return n
	}
	return def
}

// limitBody bounds each HTTP request body; a larger one gets 413.
func limitBody(next http.Handler, def int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := maxRequestBytes(r.Method+" "+r.URL.Path, def)
		if r.ContentLength > limit {
			writeStatus(w, http.StatusRequestEntityTooLarge, 8, fmt.Sprintf("request body of %d bytes is larger than the %d bytes this route accepts", r.ContentLength, limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// authenticate verifies the bearer token before any API route runs and
// answers 401 with a google.rpc.Status body otherwise. The token is then
// forwarded to the backend, which verifies it again.
func authenticate(v *auth.Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := auth.BearerToken(r.Header.Get("Authorization"))
		if !ok {
			writeStatus(w, http.StatusUnauthorized, 16, "missing bearer token")
			return
		}
		p, err := v.Verify(r.Context(), raw)
		if err != nil {
			writeStatus(w, http.StatusUnauthorized, 16, err.Error())
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

// calendarFeed serves GET /v1/calendars/{token}.ics to calendar
// applications, which send no bearer token: the secret token in the path
// is the credential, checked by the scheduling service.
func calendarFeed(w http.ResponseWriter, r *http.Request, feeds schedulingv1.SchedulingServiceClient) {
	token, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok {
		writeStatus(w, http.StatusNotFound, int(codes.NotFound), "a calendar feed's address ends in .ics")
		return
	}
	feed, err := feeds.GetCalendarFeed(r.Context(), &schedulingv1.GetCalendarFeedRequest{Token: token})
	if err != nil {
		st := status.Convert(err)
		writeStatus(w, runtime.HTTPStatusFromCode(st.Code()), int(st.Code()), st.Message())
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=300")
	io.WriteString(w, feed.GetIcs())
}

// writeStatus writes an error in grpc-gateway's google.rpc.Status shape.
func writeStatus(w http.ResponseWriter, httpCode, grpcCode int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	if httpCode == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tandem"`)
	}
	w.WriteHeader(httpCode)
	json.NewEncoder(w).Encode(map[string]any{"code": grpcCode, "message": msg, "details": []any{}})
}

// policyClientInterceptor applies the role policy to HTTP calls; the
// principal was put in the context by authenticate.
func policyClientInterceptor(p auth.Policy) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		noteGRPCMethod(ctx, method)
		if err := p.Check(ctx, method); err != nil {
			return server.Status(err).Err()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// timeoutInterceptor gives every backend call a deadline.
func timeoutInterceptor(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// healthz answers 200 when every backend reports SERVING, else 503 with the
// state of each.
func healthz(w http.ResponseWriter, r *http.Request, conns map[string]*grpc.ClientConn) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	states := map[string]string{}
	code := http.StatusOK
	for name, conn := range conns {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		switch {
		case err != nil:
			states[name] = "UNREACHABLE"
			code = http.StatusServiceUnavailable
		default:
			states[name] = resp.GetStatus().String()
			if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				code = http.StatusServiceUnavailable
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"status": http.StatusText(code), "services": states})
}
