package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tandem-oss/tandem/cmd/tandem/internal/devserver"
	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// startDev runs `tandem dev` in-process on free loopback ports and returns
// its addresses and a stop function that waits for a clean exit.
func startDev(t *testing.T, dataDir string, redisURL ...string) (devserver.Addrs, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan devserver.Addrs, 1)
	done := make(chan error, 1)
	cfg := devserver.Config{
		DataDir: dataDir, HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", NATSAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if len(redisURL) > 0 {
		cfg.RedisURL = redisURL[0]
	}
	go func() { done <- devserver.Run(ctx, cfg, func(a devserver.Addrs) { ready <- a }) }()
	select {
	case a := <-ready:
		stopped := false
		stop := func() {
			if stopped {
				return
			}
			stopped = true
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err, "tandem dev must stop cleanly")
			case <-time.After(30 * time.Second):
				t.Fatal("tandem dev did not stop within 30s")
			}
		}
		t.Cleanup(stop)
		return a, stop
	case err := <-done:
		cancel()
		t.Fatalf("tandem dev exited before ready: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("tandem dev not ready within 60s")
	}
	return devserver.Addrs{}, nil
}

// runCLI runs the tandem command line with args and returns its stdout.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	require.NoError(t, cmd.ExecuteContext(context.Background()), "tandem %v", args)
	return strings.TrimSpace(out.String())
}

func httpDo(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &out), "body: %s", raw)
	return resp.StatusCode, out
}

// TestDevContract checks the contract the Foundation issue promises to
// outside checks, end to end through a real HTTP client, a real gRPC client
// and a NATS subscriber.
func TestDevContract(t *testing.T) {
	dataDir := t.TempDir()
	addrs, stop := startDev(t, dataDir)
	base := "http://" + addrs.HTTP
	token := runCLI(t, "token", "--data-dir", dataDir, "--tenant", "acme", "--role", "tenant_admin", "--subject", "admin@acme.example")

	t.Run("healthz", func(t *testing.T) {
		code, body := httpDo(t, http.MethodGet, base+"/healthz", "", "")
		require.Equal(t, http.StatusOK, code, "body: %v", body)
	})

	t.Run("openapi", func(t *testing.T) {
		code, doc := httpDo(t, http.MethodGet, base+"/openapi.json", "", "")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, doc["paths"], "/v1/programs")
	})

	var programID string
	t.Run("create and get a program over HTTP", func(t *testing.T) {
		code, created := httpDo(t, http.MethodPost, base+"/v1/programs", token, `{"displayName":"Digital reverse mentoring","type":"PROGRAM_TYPE_REVERSE"}`)
		require.Equal(t, http.StatusOK, code, "body: %v", created)
		programID, _ = created["id"].(string)
		require.NotEmpty(t, programID)
		require.Equal(t, "PROGRAM_STATE_DRAFT", created["state"])

		code, got := httpDo(t, http.MethodGet, base+"/v1/programs/"+programID, token, "")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, created, got)
	})

	t.Run("no token is 401", func(t *testing.T) {
		code, body := httpDo(t, http.MethodPost, base+"/v1/programs", "", `{"displayName":"x","type":"PROGRAM_TYPE_REVERSE"}`)
		require.Equal(t, http.StatusUnauthorized, code)
		require.EqualValues(t, codes.Unauthenticated, body["code"])
		code, _ = httpDo(t, http.MethodGet, base+"/v1/programs/"+programID, "not-a-token", "")
		require.Equal(t, http.StatusUnauthorized, code)
	})

	t.Run("bad input is 400 with the field", func(t *testing.T) {
		code, body := httpDo(t, http.MethodPost, base+"/v1/programs", token, `{"displayName":"","type":"PROGRAM_TYPE_REVERSE"}`)
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, body["message"], "program.display_name")
	})

	t.Run("another tenant sees nothing", func(t *testing.T) {
		other := runCLI(t, "token", "--data-dir", dataDir, "--tenant", "globex", "--role", "tenant_admin", "--subject", "admin@globex.example")
		code, _ := httpDo(t, http.MethodGet, base+"/v1/programs/"+programID, other, "")
		require.Equal(t, http.StatusNotFound, code)
	})

	t.Run("reflection lists the four services", func(t *testing.T) {
		conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer conn.Close()
		stream, err := reflectionv1.NewServerReflectionClient(conn).ServerReflectionInfo(context.Background())
		require.NoError(t, err)
		require.NoError(t, stream.Send(&reflectionv1.ServerReflectionRequest{
			MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{ListServices: ""},
		}))
		resp, err := stream.Recv()
		require.NoError(t, err)
		var names []string
		for _, s := range resp.GetListServicesResponse().GetService() {
			names = append(names, s.GetName())
		}
		for _, want := range []string{
			"tandem.participant.v1.ParticipantService", "tandem.matching.v1.MatchingService",
			"tandem.scheduling.v1.SchedulingService", "tandem.evaluation.v1.EvaluationService",
		} {
			require.True(t, slices.Contains(names, want), "reflection lists %v, want %s", names, want)
		}
	})

	t.Run("gRPC through the gateway", func(t *testing.T) {
		conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer conn.Close()
		client := participantv1.NewParticipantServiceClient(conn)
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
		got, err := client.GetProgram(ctx, &participantv1.GetProgramRequest{Id: programID})
		require.NoError(t, err)
		require.Equal(t, "Digital reverse mentoring", got.GetDisplayName())

		_, err = client.GetProgram(context.Background(), &participantv1.GetProgramRequest{Id: programID})
		require.Equal(t, codes.Unauthenticated, status.Code(err))
		_, err = client.GetProgram(ctx, &participantv1.GetProgramRequest{Id: ""})
		require.Equal(t, codes.InvalidArgument, status.Code(err))
	})

	t.Run("program.created on the TANDEM stream", func(t *testing.T) {
		nc, err := nats.Connect(addrs.NATS)
		require.NoError(t, err)
		defer nc.Close()
		js, err := jetstream.New(nc)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cons, err := js.OrderedConsumer(ctx, "TANDEM", jetstream.OrderedConsumerConfig{FilterSubjects: []string{"tandem.acme.program.created"}})
		require.NoError(t, err)
		batch, err := cons.Fetch(10, jetstream.FetchMaxWait(5*time.Second))
		require.NoError(t, err)
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		require.Len(t, msgs, 1, "exactly one program.created for the one program created")
		m := msgs[0]
		require.Equal(t, "tandem.acme.program.created", m.Subject())
		require.Equal(t, "tandem.program.created", m.Headers().Get("ce-type"))
		require.Equal(t, m.Headers().Get("Nats-Msg-Id"), m.Headers().Get("ce-id"))
		require.NotEmpty(t, m.Headers().Get("ce-id"))
		var ev eventsv1.ProgramCreated
		require.NoError(t, proto.Unmarshal(m.Data(), &ev))
		require.Equal(t, programID, ev.GetProgram().GetId())
	})

	t.Run("enrolment reaches the evaluation report through events", func(t *testing.T) {
		code, person := httpDo(t, http.MethodPost, base+"/v1/people", token,
			`{"displayName":"Grace Senior","email":"grace@acme.example","timeZone":"America/New_York","seniorityLevel":10,"languages":["en"]}`)
		require.Equal(t, http.StatusOK, code, "body: %v", person)
		code, skill := httpDo(t, http.MethodPost, base+"/v1/skills", token, `{"id":"genai","displayName":"Generative AI","category":"AI"}`)
		require.Equal(t, http.StatusOK, code, "body: %v", skill)
		code, _ = httpDo(t, http.MethodPost, base+"/v1/programs/"+programID+":transition", token, `{"state":"PROGRAM_STATE_ENROLLING"}`)
		require.Equal(t, http.StatusOK, code)
		code, p := httpDo(t, http.MethodPost, base+"/v1/programs/"+programID+"/participants", token,
			`{"personId":"`+person["id"].(string)+`","role":"PARTICIPANT_ROLE_MENTEE","developmentAreas":[{"skillId":"genai","currentLevel":1,"targetLevel":4}]}`)
		require.Equal(t, http.StatusOK, code, "body: %v", p)

		var report map[string]any
		testkit.Eventually(t, 20*time.Second, func() bool {
			code, report = httpDo(t, http.MethodGet, base+"/v1/programs/"+programID+"/report", token, "")
			return code == http.StatusOK && report["asOfTime"] != nil
		}, "the report reflects the enrolment: %v", report)
		require.Equal(t, true, report["suppressed"], "one person is fewer than 5: %v", report)

		req, err := http.NewRequest(http.MethodGet, base+"/v1/programs/"+programID+"/report:export", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
		require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
		require.True(t, strings.HasPrefix(string(body), "group,dimension,value,"), "CSV: %s", body)
	})

	t.Run("matching and scheduling answer over HTTP", func(t *testing.T) {
		code, cfg := httpDo(t, http.MethodGet, base+"/v1/programs/"+programID+"/scoringConfig", token, "")
		require.Equal(t, http.StatusOK, code, "body: %v", cfg)
		require.NotEmpty(t, cfg["weights"])
		code, person := httpDo(t, http.MethodPost, base+"/v1/people", token,
			`{"displayName":"Ada Lovelace","email":"ada@acme.example","timeZone":"Europe/London"}`)
		require.Equal(t, http.StatusOK, code, "body: %v", person)
		availability := base + "/v1/people/" + person["id"].(string) + "/availability"
		var avail map[string]any
		testkit.Eventually(t, 10*time.Second, func() bool { // once the person event reaches scheduling
			code, avail = httpDo(t, http.MethodPut, availability, token,
				`{"timeZone":"Europe/London","windows":[{"day":"DAY_OF_WEEK_MONDAY","start":"09:00","end":"12:00"}]}`)
			return code == http.StatusOK
		}, "availability: %d %v", code, avail)
		code, _ = httpDo(t, http.MethodPut, availability, token,
			`{"timeZone":"Europe/London","windows":[{"day":"DAY_OF_WEEK_MONDAY","start":"12:00","end":"09:00"}]}`)
		require.Equal(t, http.StatusBadRequest, code)
	})

	t.Run("oversized requests are refused at the edge", func(t *testing.T) {
		big := strings.Repeat("x", 2<<20)
		code, body := httpDo(t, http.MethodPost, base+"/v1/programs", token, `{"displayName":"`+big+`","type":"PROGRAM_TYPE_REVERSE"}`)
		require.Equal(t, http.StatusRequestEntityTooLarge, code, "body: %v", body)

		conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer conn.Close()
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
		_, err = participantv1.NewParticipantServiceClient(conn).CreateProgram(ctx, &participantv1.CreateProgramRequest{
			Program: &participantv1.Program{DisplayName: big, Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE}})
		require.Equal(t, codes.ResourceExhausted, status.Code(err), "err: %v", err)
	})

	t.Run("data survives a restart", func(t *testing.T) {
		stop()
		addrs, _ := startDev(t, dataDir)
		code, got := httpDo(t, http.MethodGet, "http://"+addrs.HTTP+"/v1/programs/"+programID, token, "")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, programID, got["id"])
	})
}

// TestDevWithRedis runs `tandem dev --redis-url` against the machine's
// Redis: the matching service's cache lands there.
func TestDevWithRedis(t *testing.T) {
	client, _ := testkit.Redis(t)
	dataDir := t.TempDir()
	addrs, _ := startDev(t, dataDir, "redis://"+client.Options().Addr+"/0")
	tenant := testkit.RandomName("t")
	token := runCLI(t, "token", "--data-dir", dataDir, "--tenant", tenant, "--role", "program_manager", "--subject", "pm")
	// The program manager creates the program, so manages it.
	code, program := httpDo(t, http.MethodPost, "http://"+addrs.HTTP+"/v1/programs", token, `{"displayName":"Cached","type":"PROGRAM_TYPE_PEER"}`)
	require.Equal(t, http.StatusOK, code, "body: %v", program)
	programID := program["id"].(string)
	key := "tandem:matching:scoring_config:" + tenant + ":" + programID
	t.Cleanup(func() { client.Del(context.Background(), key) })
	url := "http://" + addrs.HTTP + "/v1/programs/" + programID + "/scoringConfig"
	var body map[string]any
	testkit.Eventually(t, 10*time.Second, func() bool { // once the program event reaches matching
		code, body = httpDo(t, http.MethodPut, url, token, `{"weights":{"competencyCoverage":50}}`)
		return code == http.StatusOK
	}, "scoring config: %d %v", code, body)
	code, _ = httpDo(t, http.MethodGet, url, token, "")
	require.Equal(t, http.StatusOK, code)
	testkit.Eventually(t, 5*time.Second, func() bool {
		n, err := client.Exists(context.Background(), key).Result()
		return err == nil && n == 1
	}, "scoring config cached in Redis")
}

func TestDevRefusesUnreachableRedis(t *testing.T) {
	err := devserver.Run(context.Background(), devserver.Config{
		DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", NATSAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		RedisURL: "redis://127.0.0.1:1/0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, func(devserver.Addrs) { t.Error("must not become ready") })
	require.ErrorContains(t, err, "--redis-url")
}
