// Package pagetoken makes AIP-158 page tokens: opaque to clients, signed
// with HMAC-SHA256 so a client cannot forge or alter one, and bound to the
// filter of the listing that issued it.
package pagetoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// Codec signs and verifies page tokens with one secret key.
type Codec struct{ key []byte }

// New returns a Codec using key (at least 32 random bytes in production).
func New(key []byte) *Codec { return &Codec{key: key} }

type payload struct {
	After  string `json:"a"`
	Filter string `json:"f"`
}

// Encode returns a token resuming after the item with id after, valid only
// for the same filter.
func (c *Codec) Encode(after, filter string) string {
	body, _ := json.Marshal(payload{After: after, Filter: filter})
	return base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(c.sign(body))
}

// Decode verifies token and returns the id to resume after. An empty token
// is the first page. A forged, altered or foreign token, or one issued for
// another filter, is an InvalidArgument error on "page_token".
func (c *Codec) Decode(token, filter string) (string, error) {
	if token == "" {
		return "", nil
	}
	bad := apperr.Invalid("page_token", "not a page token issued for this listing")
	b64body, b64sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", bad
	}
	body, err1 := base64.RawURLEncoding.DecodeString(b64body)
	sig, err2 := base64.RawURLEncoding.DecodeString(b64sig)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, c.sign(body)) {
		return "", bad
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil || p.Filter != filter {
		return "", bad
	}
	return p.After, nil
}

func (c *Codec) sign(body []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(body)
	return m.Sum(nil)
}
