package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/auth"
)

func claims(mutate func(*auth.Claims)) auth.Claims {
	now := time.Now()
	c := auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: auth.DevIssuer, Subject: "ada", Audience: jwt.ClaimStrings{auth.DevAudience},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		},
		Tenant: "acme", Roles: []string{auth.RoleTenantAdmin},
	}
	if mutate != nil {
		mutate(&c)
	}
	return c
}

// signWith signs claims with a fresh key of its own under kid.
func signWith(t *testing.T, kid string, c auth.Claims) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func TestVerify(t *testing.T) {
	signer, err := auth.LoadOrCreateDevSigner(t.TempDir())
	require.NoError(t, err)
	v, err := signer.Verifier()
	require.NoError(t, err)
	ctx := context.Background()

	good, err := signer.Sign(auth.Principal{Tenant: "acme", Subject: "ada", Roles: []string{auth.RoleProgramManager}}, time.Hour)
	require.NoError(t, err)
	p, err := v.Verify(ctx, good)
	require.NoError(t, err)
	require.Equal(t, auth.Principal{Tenant: "acme", Subject: "ada", Roles: []string{auth.RoleProgramManager}}, p)

	header, payload, _ := strings.Cut(good, ".")
	payload, _, _ = strings.Cut(payload, ".")
	kid := func() string {
		raw, _ := base64.RawURLEncoding.DecodeString(header)
		_, after, _ := strings.Cut(string(raw), `"kid":"`)
		id, _, _ := strings.Cut(after, `"`)
		return id
	}()
	enc := base64.RawURLEncoding.EncodeToString

	expired, err := signer.Sign(auth.Principal{Tenant: "acme", Subject: "ada"}, -time.Hour)
	require.NoError(t, err)

	cases := map[string]string{
		"alg none":              enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + payload + ".",
		"HS256 with public key": hs256WithPublicKey(t, signer, payload),
		"expired":               expired,
		"unknown key id":        signWith(t, "someone-else", claims(nil)),
		"right kid, wrong key":  signWith(t, kid, claims(nil)),
		"oversized":             good + strings.Repeat("A", auth.MaxTokenBytes),
		"garbage":               "not.a.token",
		"empty":                 "",
		"tampered payload":      header + "." + enc([]byte(`{"iss":"tandem-dev","aud":"tandem","sub":"eve","tenant":"globex","exp":9999999999}`)) + "." + strings.Split(good, ".")[2],
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(ctx, tok)
			require.ErrorIs(t, err, apperr.ErrUnauthenticated)
		})
	}

	// Claims checks need tokens signed by the trusted key.
	for name, mutate := range map[string]func(*auth.Claims){
		"wrong issuer":   func(c *auth.Claims) { c.Issuer = "https://evil.example" },
		"wrong audience": func(c *auth.Claims) { c.Audience = jwt.ClaimStrings{"other"} },
		"no expiry":      func(c *auth.Claims) { c.ExpiresAt = nil },
		"no tenant":      func(c *auth.Claims) { c.Tenant = "" },
		"unknown role":   func(c *auth.Claims) { c.Roles = []string{"root"} },
		"not yet valid":  func(c *auth.Claims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour)) },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(ctx, signDevClaims(t, signer, claims(mutate)))
			require.ErrorIs(t, err, apperr.ErrUnauthenticated)
		})
	}
}

// signDevClaims signs arbitrary claims with the dev signer's key, by
// reusing its key file through a second signer.
func signDevClaims(t *testing.T, signer *auth.DevSigner, c auth.Claims) string {
	t.Helper()
	tok, err := signer.SignClaims(c)
	require.NoError(t, err)
	return tok
}

// hs256WithPublicKey forges the classic algorithm-confusion token: HMAC
// keyed with the issuer's public JWKS.
func hs256WithPublicKey(t *testing.T, signer *auth.DevSigner, payload string) string {
	t.Helper()
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	tok, err := jwt.SigningMethodHS256.Sign(header+"."+payload, signer.JWKS())
	require.NoError(t, err)
	return header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(tok)
}

func TestJWKSVerifierFetchesAndCachesKeys(t *testing.T) {
	signer, err := auth.LoadOrCreateDevSigner(t.TempDir())
	require.NoError(t, err)
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(signer.JWKS())
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := auth.NewJWKSVerifier(ctx, auth.Config{Issuer: auth.DevIssuer, Audience: auth.DevAudience, JWKSURL: srv.URL})
	require.NoError(t, err)
	for range 5 {
		tok, err := signer.Sign(auth.Principal{Tenant: "acme", Subject: "ada"}, time.Minute)
		require.NoError(t, err)
		_, err = v.Verify(ctx, tok)
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, fetches.Load(), "keys fetched once and cached")

	// An unknown key id triggers at most one rate-limited refetch.
	for range 3 {
		_, err := v.Verify(ctx, signWith(t, "rotated", claims(nil)))
		require.ErrorIs(t, err, apperr.ErrUnauthenticated)
	}
	require.LessOrEqual(t, fetches.Load(), int32(2))
}

func TestBearerToken(t *testing.T) {
	for header, want := range map[string]string{"Bearer abc": "abc", "bearer abc ": "abc", "Basic abc": "", "Bearer": "", "": ""} {
		got, ok := auth.BearerToken(header)
		require.Equal(t, want, got, header)
		require.Equal(t, want != "", ok, header)
	}
}

func TestDevSignerKeyIsStable(t *testing.T) {
	dir := t.TempDir()
	a, err := auth.LoadOrCreateDevSigner(dir)
	require.NoError(t, err)
	b, err := auth.LoadOrCreateDevSigner(dir)
	require.NoError(t, err)
	require.Equal(t, string(a.JWKS()), string(b.JWKS()), "the second load reads the stored key")
	tok, err := a.Sign(auth.Principal{Tenant: "acme", Subject: "ada"}, time.Minute)
	require.NoError(t, err)
	v, err := b.Verifier()
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)
}

// TestCachedTokenExpiresWithTheToken: the verified-token cache never
// accepts a token past its expiry (plus leeway).
func TestCachedTokenExpiresWithTheToken(t *testing.T) {
	signer, err := auth.LoadOrCreateDevSigner(t.TempDir())
	require.NoError(t, err)
	v, err := signer.Verifier()
	require.NoError(t, err)
	now := time.Now()
	v.SetClock(func() time.Time { return now })
	tok, err := signer.Sign(auth.Principal{Tenant: "acme", Subject: "ada"}, 2*time.Minute)
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)
	now = now.Add(time.Minute)
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err, "still valid, served from the cache")
	now = now.Add(2 * time.Minute)
	_, err = v.Verify(context.Background(), tok)
	require.ErrorIs(t, err, apperr.ErrUnauthenticated, "expired: the cache must not keep it alive")
}
