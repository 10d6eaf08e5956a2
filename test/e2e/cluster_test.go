package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

// binDir holds the five service binaries, built once by TestMain.
var binDir string

// backends are the services with a database, in start order; the gateway
// starts after them.
var backends = []string{"participant", "matching", "scheduling", "evaluation"}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tandem-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	for _, svc := range append(backends, "gateway") {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, svc), "./services/"+svc)
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: build %s: %v\n%s", svc, err, out)
			return 1
		}
	}
	fmt.Printf("e2e: built the five service binaries in %s\n", time.Since(start).Round(time.Millisecond))
	binDir = dir
	return m.Run()
}

// clusterOptions change where a cluster's services find their servers.
type clusterOptions struct {
	// natsURL replaces the machine's NATS (a private server for the NATS
	// fault test).
	natsURL string
	// redisURL replaces the machine's Redis (a private server for the
	// Redis fault test); "" uses the machine's Redis with a private prefix.
	redisURL string
	// databaseURLs replaces the fresh database of a backend.
	databaseURLs map[string]string
}

// cluster is the five services running as separate processes on
// loopback, each backend with its own fresh PostgreSQL database, all on
// one private JetStream stream and subject prefix and one Redis key prefix.
type cluster struct {
	t        *testing.T
	services map[string]*process
	// HTTP is the gateway's HTTP/JSON base URL; GRPC its gRPC address.
	HTTP, GRPC    string
	Tenant        string
	Stream        string
	SubjectPrefix string
	signer        *auth.DevSigner
	conn          *grpc.ClientConn
	js            jetstream.JetStream
}

// startCluster starts the services and waits until each is SERVING and
// the gateway's /healthz answers 200. Everything is stopped and removed
// when the test ends.
func startCluster(t *testing.T, opts clusterOptions) *cluster {
	t.Helper()
	natsURL := opts.natsURL
	if natsURL == "" {
		natsURL = testkit.ExternalNATSURL(t)
	}
	redisURL, redisPrefix := opts.redisURL, testkit.RandomName("tandeme2e:")+":"
	if redisURL == "" {
		client, prefix := testkit.Redis(t)
		redisURL, redisPrefix = "redis://"+client.Options().Addr+"/0", prefix
	}
	signer, err := auth.LoadOrCreateDevSigner(t.TempDir())
	require.NoError(t, err)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(signer.JWKS())
	}))
	t.Cleanup(jwks.Close)

	c := &cluster{
		t: t, services: map[string]*process{}, signer: signer,
		Tenant:        testkit.RandomName("t"),
		Stream:        strings.ToUpper(testkit.RandomName("E2E_")),
		SubjectPrefix: testkit.RandomName("e2e"),
	}
	nc, err := nats.Connect(natsURL, nats.MaxReconnects(-1))
	require.NoError(t, err)
	c.js, err = jetstream.New(nc)
	require.NoError(t, err)
	t.Cleanup(func() {
		// Delete the stream last: after the services stopped using it.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.js.DeleteStream(ctx, c.Stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Logf("delete stream %s: %v", c.Stream, err)
		}
		nc.Close()
	})

	common := []string{
		"TANDEM_NATS_URL=" + natsURL,
		"TANDEM_REDIS_URL=" + redisURL,
		"TANDEM_REDIS_PREFIX=" + redisPrefix,
		"TANDEM_STREAM=" + c.Stream,
		"TANDEM_SUBJECT_PREFIX=" + c.SubjectPrefix,
		"TANDEM_OIDC_ISSUER=" + auth.DevIssuer,
		"TANDEM_OIDC_AUDIENCE=" + auth.DevAudience,
		"TANDEM_OIDC_JWKS_URL=" + jwks.URL,
		"TANDEM_DRAIN_DELAY=500ms",
		"TANDEM_LOG_LEVEL=WARN",
		"TANDEM_PAGE_TOKEN_KEY=" + randomHex(24),
	}
	addrs := map[string]string{}
	for _, svc := range backends {
		db := opts.databaseURLs[svc]
		if db == "" {
			db = testkit.PostgresURL(t)
		}
		p := c.newProcess(svc, append(common, "TANDEM_DATABASE_URL="+db))
		addrs[svc] = p.grpcAddr
	}
	gw := c.newProcess("gateway", append(common, "TANDEM_AUDIT_EVENTS=true",
		"TANDEM_PARTICIPANT_ADDR="+addrs["participant"], "TANDEM_MATCHING_ADDR="+addrs["matching"],
		"TANDEM_SCHEDULING_ADDR="+addrs["scheduling"], "TANDEM_EVALUATION_ADDR="+addrs["evaluation"]))
	c.HTTP, c.GRPC = "http://"+gw.httpAddr, gw.grpcAddr

	start := time.Now()
	for _, svc := range append(backends, "gateway") {
		c.services[svc].start()
	}
	for _, svc := range append(backends, "gateway") {
		c.waitHealthy(svc)
	}
	t.Logf("cluster: five processes SERVING in %s (stream %s, subjects %s.>)", time.Since(start).Round(time.Millisecond), c.Stream, c.SubjectPrefix)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = participantsvc.EnsureTenant(ctx, c.services["participant"].env("TANDEM_DATABASE_URL"), c.Tenant, "E2E Corp")
	require.NoError(t, err)
	c.conn, err = grpc.NewClient(c.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { c.conn.Close() })
	return c
}

// token signs a token of the cluster's tenant for subject with role.
func (c *cluster) token(subject, role string) string {
	tok, err := c.signer.Sign(auth.Principal{Tenant: c.Tenant, Subject: subject, Roles: []string{role}}, 2*time.Hour)
	require.NoError(c.t, err)
	return tok
}

// ctx returns a context carrying token as the bearer credential.
func (c *cluster) ctx(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

// waitHealthy polls svc until it is SERVING (the gateway: until /healthz
// answers 200, i.e. every backend SERVING), failing after 60 s.
func (c *cluster) waitHealthy(svc string) {
	c.t.Helper()
	p := c.services[svc]
	var last error
	testkit.Eventually(c.t, 60*time.Second, func() bool {
		if exited, err := p.exited(); exited {
			c.t.Fatalf("%s exited while starting: %v\n%s", svc, err, p.logTail())
		}
		last = p.healthy()
		return last == nil
	}, "%s healthy (last: %v)", svc, &last)
}

// kill sends SIGKILL to svc and waits until it is gone.
func (c *cluster) kill(svc string) {
	c.t.Helper()
	c.services[svc].signal(syscall.SIGKILL, 10*time.Second)
}

// terminate sends SIGTERM to svc and waits until it exits; it returns how
// long the shutdown took.
func (c *cluster) terminate(svc string) time.Duration {
	c.t.Helper()
	start := time.Now()
	c.services[svc].signal(syscall.SIGTERM, 30*time.Second)
	return time.Since(start)
}

// restart starts svc again with the same configuration (same ports, same
// database) and waits until it is healthy; it returns how long that took.
func (c *cluster) restart(svc string) time.Duration {
	c.t.Helper()
	start := time.Now()
	c.services[svc].start()
	c.waitHealthy(svc)
	return time.Since(start)
}

// process is one service or server process the test started.
type process struct {
	t        *testing.T
	name     string
	path     string
	args     []string
	environ  []string
	grpcAddr string
	httpAddr string // the gateway's only
	logPath  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func (c *cluster) newProcess(name string, environ []string) *process {
	p := &process{
		t: c.t, name: name, path: filepath.Join(binDir, name), grpcAddr: freeAddr(c.t),
		logPath: filepath.Join(c.t.TempDir(), name+".log"),
	}
	p.environ = append(append([]string{}, environ...), "TANDEM_GRPC_ADDR="+p.grpcAddr, "TANDEM_ADMIN_ADDR="+freeAddr(c.t))
	if name == "gateway" {
		p.httpAddr = freeAddr(c.t)
		p.environ = append(p.environ, "TANDEM_HTTP_ADDR="+p.httpAddr)
	}
	c.services[name] = p
	c.t.Cleanup(func() {
		if exited, _ := p.exited(); !exited {
			p.signal(syscall.SIGTERM, 30*time.Second)
		}
		if c.t.Failed() {
			c.t.Logf("%s log (tail):\n%s", name, p.logTail())
		}
	})
	return p
}

func (p *process) env(key string) string {
	for _, kv := range p.environ {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

func (p *process) start() {
	p.t.Helper()
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(p.t, err)
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = append(os.Environ(), p.environ...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(p.t, cmd.Start())
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done, p.err = cmd, done, nil
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logFile.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
}

// exited reports whether the process has exited, and how.
func (p *process) exited() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// signal sends sig to the process (by its PID) and waits up to timeout
// for it to exit.
func (p *process) signal(sig syscall.Signal, timeout time.Duration) {
	p.t.Helper()
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		p.t.Errorf("%s did not exit within %s of %v; killed", p.name, timeout, sig)
	}
}

func (p *process) healthy() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if p.httpAddr != "" {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.httpAddr+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/healthz: %s", resp.Status)
		}
		return nil
	}
	conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health: %s", resp.GetStatus())
	}
	return nil
}

func (p *process) logTail() string {
	raw, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// freeAddr returns a loopback address with a port that was free a moment
// ago and that nothing else will take meanwhile: it lies below the
// kernel's ephemeral range, so no outgoing connection and no listener on
// port 0 (other test packages run alongside) can be given it, and this
// process never hands the same port out twice. A port inside the range
// was taken by a concurrent connection between the check and the
// service's bind in one CI run ("bind: address already in use").
func freeAddr(t *testing.T) string {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	low := ephemeralLow()
	for range 1000 {
		port := 0
		if low > firstPort {
			port = firstPort + mathrand.IntN(low-firstPort)
			if portsGiven[port] {
				continue
			}
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		addr := l.Addr().(*net.TCPAddr)
		l.Close()
		portsGiven[addr.Port] = true
		return addr.String()
	}
	t.Fatal("no free loopback port below the ephemeral range")
	return ""
}

// firstPort is the lowest port freeAddr picks.
const firstPort = 20000

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// ephemeralLow is the first port of the kernel's ephemeral range, or 0
// when it cannot be read (freeAddr then asks the kernel for any port).
func ephemeralLow() int {
	raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(raw))
	if len(fields) == 0 {
		return 0
	}
	low, _ := strconv.Atoi(fields[0])
	return low
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
