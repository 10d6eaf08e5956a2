package gatewaysvc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/gateway/gatewaysvc"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

// FuzzHTTPJSON sends arbitrary methods, paths, queries and bodies to the
// gateway's HTTP/JSON surface in front of a real participant service, with
// a valid token and without one. Whatever arrives, the gateway must answer
// (no panic, no hang), never with 500, and every error must be a JSON
// google.rpc.Status whose code matches the HTTP status family; without a
// token nothing but the public paths may succeed. `go test` runs the
// seeds; `go test -fuzz FuzzHTTPJSON ./services/gateway/gatewaysvc/`
// searches further.
func FuzzHTTPJSON(f *testing.F) {
	base, token := startHTTPGateway(f)
	for _, seed := range []struct {
		method byte
		path   string
		body   []byte
	}{
		{0, "v1/programs", nil},
		{1, "v1/programs", []byte(`{"displayName":"p","type":"PROGRAM_TYPE_REVERSE"}`)},
		{1, "v1/programs", []byte(`{"displayName":`)},
		{1, "v1/programs", []byte(`{"unknownField":1}`)},
		{1, "v1/programs", []byte(`{"displayName":"p","type":"NOPE"}`)},
		{1, "v1/people", []byte(`{"displayName":"x","email":"not-an-email"}`)},
		{0, "v1/programs/%00", nil},
		{0, "v1/programs?pageSize=-1", nil},
		{0, "v1/programs?pageToken=forged", nil},
		{2, "v1/programs/x", []byte(`[]`)},
		{3, "v1/people/x?updateMask=bogus", []byte(`{}`)},
		{1, "v1/imports", []byte(`{"csv":"not base64!"}`)},
		{0, "../../etc/passwd", nil},
		{0, "v1/calendars/x.ics", nil},
	} {
		f.Add(seed.method, seed.path, seed.body)
	}
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	client := &http.Client{Timeout: 10 * time.Second}
	f.Fuzz(func(t *testing.T, method byte, path string, body []byte) {
		u, err := url.Parse(base + "/" + strings.TrimLeft(path, "/"))
		if err != nil || len(body) > 64<<10 {
			return
		}
		for _, authorised := range []bool{true, false} {
			req, err := http.NewRequest(methods[int(method)%len(methods)], u.String(), bytes.NewReader(body))
			if err != nil {
				return
			}
			if authorised {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: no answer: %v", req.Method, u, err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
				t.Fatalf("%s %s %q: %d %s", req.Method, u, body, resp.StatusCode, raw)
			}
			public := strings.HasPrefix(u.Path, "/v1/calendars/") || u.Path == "/healthz" || u.Path == "/openapi.json" ||
				strings.HasPrefix(u.Path, "/.well-known/")
			if !authorised && !public && resp.StatusCode < 300 {
				t.Fatalf("%s %s without a token: %d %s", req.Method, u, resp.StatusCode, raw)
			}
			if resp.StatusCode >= 400 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				var st struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal(raw, &st); err != nil || st.Code == 0 {
					t.Fatalf("%s %s: error body is not a google.rpc.Status: %s", req.Method, u, raw)
				}
			}
		}
	})
}

// startHTTPGateway runs a participant service and a gateway in front of it
// until the fuzz test ends, and returns the HTTP base URL and a tenant
// admin token.
func startHTTPGateway(f *testing.F) (string, string) {
	dbURL := testkit.SQLiteURL(f)
	if _, err := participantsvc.EnsureTenant(context.Background(), dbURL, "acme", ""); err != nil {
		f.Fatal(err)
	}
	h := servicetest.Start(f, func(ctx context.Context, lis net.Listener, env platform.Env) error {
		return participantsvc.Run(ctx, lis, participantsvc.Config{DatabaseURL: dbURL, PageTokenKey: []byte("k")}, env)
	})
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- gatewaysvc.Run(ctx, grpcLis, httpLis, gatewaysvc.Config{
			Backends: map[string]string{gatewaysvc.ParticipantService: h.Conn.Target()},
			Policy:   participantsvc.Policy, Logger: servicetest.Logger(f), Verifier: h.Env.Verifier,
		})
	}()
	f.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			f.Error(err)
		}
	})
	token, err := h.Signer.Sign(auth.Principal{Tenant: "acme", Subject: "fuzz", Roles: []string{auth.RoleTenantAdmin}}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	base := "http://" + httpLis.Addr().String()
	testkit.Eventually(f, servicetest.WaitFor, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}, "gateway not serving")
	return base, token
}
