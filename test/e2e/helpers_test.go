package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// full reports whether the full (reliability) sizes were asked for:
// TANDEM_E2E_FULL=1, as `make reliability` sets. CI runs the short sizes.
func full() bool { return os.Getenv("TANDEM_E2E_FULL") == "1" }

// pick returns short in the CI variant and long in the full one.
func pick(short, long int) int {
	if full() {
		return long
	}
	return short
}

// poll calls cond every 50 ms until it returns nil or timeout passes, then
// fails the test with what and cond's last error.
func poll(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	if err := pollErr(timeout, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// pollErr calls cond every 50 ms until it returns nil or timeout passes;
// it returns cond's last error, wrapped, on timeout. Safe in goroutines.
func pollErr(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still failing after %s: %w", timeout, err)
		}
		<-tick.C
	}
}

// settling retries call while it fails with a code that means "another
// service has not seen the event yet" (NotFound, FailedPrecondition) or
// "briefly down" (Unavailable), for at most timeout, and returns its last
// result. Any other error is returned at once. Safe in goroutines.
func settling[T any](timeout time.Duration, call func() (T, error)) (T, error) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := call()
		switch status.Code(err) {
		case codes.NotFound, codes.FailedPrecondition, codes.Unavailable:
			if time.Now().Before(deadline) {
				<-tick.C
				continue
			}
		}
		return out, err
	}
}

// httpJSON calls the gateway's HTTP/JSON API with token and returns the
// status code and the decoded body.
func httpJSON(t testing.TB, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	code, out, err := httpJSONErr(method, url, token, body)
	require.NoError(t, err)
	return code, out
}

func httpJSONErr(method, url, token, body string) (int, map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	out := map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return resp.StatusCode, nil, fmt.Errorf("%s %s: %d %q: %w", method, url, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode, out, nil
}
