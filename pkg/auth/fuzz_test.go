package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/auth"
)

// FuzzVerify feeds the token parser arbitrary input: it must never panic,
// every refusal must be Unauthenticated, and whatever it accepts must be a
// token our key signed, i.e. carry exactly the principal we signed. `go
// test` runs the seeds (a good token, its known attacks and mutations);
// `go test -fuzz FuzzVerify ./pkg/auth/` searches further.
func FuzzVerify(f *testing.F) {
	signer, err := auth.LoadOrCreateDevSigner(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	v, err := signer.Verifier()
	if err != nil {
		f.Fatal(err)
	}
	want := auth.Principal{Tenant: "acme", Subject: "ada", Roles: []string{auth.RoleProgramManager}}
	good, err := signer.Sign(want, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	header, rest, _ := strings.Cut(good, ".")
	payload, _, _ := strings.Cut(rest, ".")
	enc := base64.RawURLEncoding.EncodeToString
	for _, seed := range []string{
		good,
		"",
		".",
		"..",
		header + "." + payload + ".",
		enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + payload + ".",
		enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + payload + "." + enc([]byte("x")),
		header + "." + enc([]byte(`{"tenant":"globex","sub":"eve","exp":9999999999}`)) + "." + strings.SplitN(good, ".", 3)[2],
		strings.Repeat("a", auth.MaxTokenBytes+1),
		good[:len(good)-2],
		good + "=",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := v.Verify(context.Background(), raw)
		if err != nil {
			if !errors.Is(err, apperr.ErrUnauthenticated) {
				t.Fatalf("refusal %v is not Unauthenticated", err)
			}
			return
		}
		if p.Tenant != want.Tenant || p.Subject != want.Subject || len(p.Roles) != 1 || p.Roles[0] != want.Roles[0] {
			t.Fatalf("accepted a principal we never signed: %+v from %q", p, raw)
		}
	})
}
