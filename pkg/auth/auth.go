// Package auth verifies OIDC/JWT access tokens and carries the verified
// caller (tenant, subject, roles) through a request's context.
//
// The tenant of every call comes from the token, never from the request.
// The gateway verifies each token; backend services verify it again with the
// same Verifier, so a call that bypasses the gateway gains nothing.
package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// Roles a token can grant within its tenant.
const (
	RoleTenantAdmin    = "tenant_admin"
	RoleProgramManager = "program_manager"
	RoleAnalyst        = "analyst"
	RoleParticipant    = "participant"
	// RoleService is held by service accounts of internal apps and services.
	RoleService = "service"
	// Anyone, as a method's only policy entry, lets a call without a bearer
	// token through: the request carries its own credential (a calendar
	// feed's secret token) that the method checks itself.
	Anyone = "*"
)

// KnownRoles lists every role in the order of decreasing privilege.
var KnownRoles = []string{RoleTenantAdmin, RoleProgramManager, RoleAnalyst, RoleParticipant, RoleService}

// MaxTokenBytes bounds the size of an accepted token; bigger ones are refused
// before any parsing.
const MaxTokenBytes = 8 << 10

// Principal is the verified caller of a request.
type Principal struct {
	Tenant  string
	Subject string
	Roles   []string
}

// HasRole reports whether p holds any of roles.
func (p Principal) HasRole(roles ...string) bool {
	for _, r := range roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return false
}

// Claims are the JWT claims Tandem reads: the registered ones plus the
// tenant and the roles within it.
type Claims struct {
	jwt.RegisteredClaims
	Tenant string   `json:"tenant"`
	Roles  []string `json:"roles"`
}

// Config says which tokens to accept.
type Config struct {
	// Issuer is the required "iss" claim.
	Issuer string
	// Audience is the required "aud" claim.
	Audience string
	// JWKSURL is where the issuer publishes its signing keys.
	JWKSURL string
	// Leeway tolerates clock skew on exp/nbf/iat (default 30s).
	Leeway time.Duration
}

// Verifier checks access tokens. It is safe for concurrent use.
type Verifier struct {
	keyfunc  jwt.Keyfunc
	issuer   string
	audience string
	leeway   time.Duration
	cache    verifiedCache
	now      func() time.Time // time.Now; tests move it
}

// verifiedCache remembers tokens that passed verification, so a client's
// repeated calls (and the second check in the backend) skip the signature
// check. An entry lives until the token expires, at most cacheTTL, so a
// revoked signing key stops being honoured within that time.
type verifiedCache struct {
	mu      sync.Mutex
	entries map[[32]byte]cachedPrincipal
}

type cachedPrincipal struct {
	principal Principal
	until     time.Time
}

const (
	cacheTTL        = 5 * time.Minute
	cacheMaxEntries = 10_000
)

func (c *verifiedCache) get(key [32]byte, now time.Time) (Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !now.Before(e.until) {
		return Principal{}, false
	}
	return e.principal, true
}

func (c *verifiedCache) put(key [32]byte, p Principal, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= cacheMaxEntries {
		c.entries = map[[32]byte]cachedPrincipal{} // simple and bounded: start over when full
	}
	c.entries[key] = cachedPrincipal{principal: p, until: until}
}

// allowedAlgorithms is the allow-list of signature algorithms: asymmetric
// only, so a public key can never be used as an HMAC secret.
var allowedAlgorithms = []string{"ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "EdDSA"}

// NewJWKSVerifier returns a Verifier that fetches the issuer's keys from
// cfg.JWKSURL, caches them, refreshes them hourly and at most every five
// minutes on an unknown key id. The refresh stops when ctx is done. It does
// not block on the first fetch.
func NewJWKSVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" || cfg.JWKSURL == "" {
		return nil, errors.New("auth: issuer, audience and JWKS URL are required")
	}
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
		RefreshInterval:  time.Hour,
		HTTPTimeout:      5 * time.Second,
		RateLimitWaitMax: 2 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS %s: %w", cfg.JWKSURL, err)
	}
	return newVerifier(kf.Keyfunc, cfg), nil
}

// NewJWKSetVerifier returns a Verifier for a fixed JSON Web Key Set, as the
// dev issuer publishes.
func NewJWKSetVerifier(jwks []byte, cfg Config) (*Verifier, error) {
	kf, err := keyfunc.NewJWKSetJSON(jwks)
	if err != nil {
		return nil, fmt.Errorf("auth: key set: %w", err)
	}
	return newVerifier(kf.Keyfunc, cfg), nil
}

func newVerifier(kf jwt.Keyfunc, cfg Config) *Verifier {
	leeway := cfg.Leeway
	if leeway == 0 {
		leeway = 30 * time.Second
	}
	return &Verifier{keyfunc: kf, issuer: cfg.Issuer, audience: cfg.Audience, leeway: leeway, now: time.Now}
}

// Verify checks a raw token's size, algorithm, signature, issuer, audience
// and validity period and returns its principal. Every failure wraps
// apperr.ErrUnauthenticated.
func (v *Verifier) Verify(ctx context.Context, raw string) (Principal, error) {
	if len(raw) > MaxTokenBytes {
		return Principal{}, fmt.Errorf("token larger than %d bytes: %w", MaxTokenBytes, apperr.ErrUnauthenticated)
	}
	now := v.now()
	key := sha256.Sum256([]byte(raw))
	if p, ok := v.cache.get(key, now); ok {
		return p, nil
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods(allowedAlgorithms),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience),
		jwt.WithLeeway(v.leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(v.now),
	)
	var claims Claims
	if _, err := parser.ParseWithClaims(raw, &claims, v.keyfunc); err != nil {
		return Principal{}, fmt.Errorf("invalid token: %w", errors.Join(apperr.ErrUnauthenticated, tokenReason(err)))
	}
	if claims.Tenant == "" || claims.Subject == "" {
		return Principal{}, fmt.Errorf("token lacks tenant or subject: %w", apperr.ErrUnauthenticated)
	}
	for _, r := range claims.Roles {
		if !slices.Contains(KnownRoles, r) {
			return Principal{}, fmt.Errorf("token has unknown role %q: %w", r, apperr.ErrUnauthenticated)
		}
	}
	p := Principal{Tenant: claims.Tenant, Subject: claims.Subject, Roles: claims.Roles}
	until := now.Add(cacheTTL)
	if exp := claims.ExpiresAt.Time; exp.Before(until) {
		until = exp
	}
	v.cache.put(key, p, until)
	return p, nil
}

// tokenReason keeps the part of a parse error that is safe to show: which
// check failed, never key material.
func tokenReason(err error) error {
	for _, known := range []error{
		jwt.ErrTokenExpired, jwt.ErrTokenNotValidYet, jwt.ErrTokenInvalidIssuer,
		jwt.ErrTokenInvalidAudience, jwt.ErrTokenSignatureInvalid, jwt.ErrTokenMalformed,
		jwt.ErrTokenUnverifiable, jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenUsedBeforeIssued,
	} {
		if errors.Is(err, known) {
			return known
		}
	}
	return errors.New("token rejected")
}

// BearerToken extracts the token of an "Authorization: Bearer …" value.
func BearerToken(header string) (string, bool) {
	const prefix = "bearer "
	if len(header) <= len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(header[len(prefix):]), true
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the verified caller of the request.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// TenantFrom returns the verified caller's tenant or an Unauthenticated
// error, so a handler can never run without a tenant scope.
func TenantFrom(ctx context.Context) (string, error) {
	p, ok := FromContext(ctx)
	if !ok || p.Tenant == "" {
		return "", fmt.Errorf("no verified caller: %w", apperr.ErrUnauthenticated)
	}
	return p.Tenant, nil
}
