package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The dev issuer's fixed claims; dev tokens are accepted only by a server
// started in dev mode, which trusts nothing else.
const (
	DevIssuer   = "tandem-dev"
	DevAudience = "tandem"
)

// DevKeyFile is the name of the dev issuer's signing key in a data directory.
const DevKeyFile = "dev-signing-key.pem"

// DevSigner is the built-in token issuer of `tandem dev`: an ES256 key kept
// in the data directory, so `tandem token` and the running server agree.
type DevSigner struct {
	key *ecdsa.PrivateKey
	kid string
}

// LoadOrCreateDevSigner reads the signing key from dataDir, creating it
// (mode 0600) when absent.
func LoadOrCreateDevSigner(dataDir string) (*DevSigner, error) {
	path := filepath.Join(dataDir, DevKeyFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createDevSigner(path)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: read dev key: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("auth: %s is not PEM", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: parse dev key: %w", err)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("auth: %s is not an ECDSA key", path)
	}
	return newDevSigner(key), nil
}

func createDevSigner(path string) (*DevSigner, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("auth: generate dev key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("auth: encode dev key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("auth: create data dir: %w", err)
	}
	// O_EXCL: when two processes race to create the key, one wins and the
	// other reads the winner's key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateDevSigner(filepath.Dir(path))
	}
	if err != nil {
		return nil, fmt.Errorf("auth: write dev key: %w", err)
	}
	defer f.Close()
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		return nil, fmt.Errorf("auth: write dev key: %w", err)
	}
	return newDevSigner(key), nil
}

func newDevSigner(key *ecdsa.PrivateKey) *DevSigner {
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha256.Sum256(pub)
	return &DevSigner{key: key, kid: "dev-" + hex.EncodeToString(sum[:8])}
}

// Sign issues a token for p, valid for ttl.
func (s *DevSigner) Sign(p Principal, ttl time.Duration) (string, error) {
	now := time.Now()
	return s.SignClaims(Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    DevIssuer,
			Subject:   p.Subject,
			Audience:  jwt.ClaimStrings{DevAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Tenant: p.Tenant,
		Roles:  p.Roles,
	})
}

// SignClaims signs claims as they are; tests use it to forge bad tokens
// with the trusted key.
func (s *DevSigner) SignClaims(claims Claims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = s.kid
	signed, err := tok.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	return signed, nil
}

// JWKS returns the public key as a JSON Web Key Set, as served at
// /.well-known/jwks.json in dev mode.
func (s *DevSigner) JWKS() []byte {
	// Uncompressed point: 0x04 || X || Y, 32 bytes each for P-256.
	point, _ := s.key.PublicKey.Bytes()
	enc := base64.RawURLEncoding.EncodeToString
	set := map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": s.kid,
		"x": enc(point[1:33]), "y": enc(point[33:65]),
	}}}
	raw, _ := json.Marshal(set)
	return raw
}

// Verifier returns a Verifier that accepts exactly this signer's tokens.
func (s *DevSigner) Verifier() (*Verifier, error) {
	return NewJWKSetVerifier(s.JWKS(), Config{Issuer: DevIssuer, Audience: DevAudience})
}
