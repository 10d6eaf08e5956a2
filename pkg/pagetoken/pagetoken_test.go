package pagetoken_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/pagetoken"
)

func TestRoundTripAndTampering(t *testing.T) {
	c := pagetoken.New([]byte("k1"))
	tok := c.Encode("01abc", "acme/programs/state=1")
	after, err := c.Decode(tok, "acme/programs/state=1")
	require.NoError(t, err)
	require.Equal(t, "01abc", after)

	first, err := c.Decode("", "anything")
	require.NoError(t, err)
	require.Empty(t, first, "an empty token is the first page")

	for name, bad := range map[string]struct{ token, filter string }{
		"other filter":     {tok, "acme/programs/state=2"},
		"other key":        {pagetoken.New([]byte("k2")).Encode("01abc", "acme/programs/state=1"), "acme/programs/state=1"},
		"flipped bit":      {tok[:3] + string(tok[3]^1) + tok[4:], "acme/programs/state=1"},
		"no signature":     {tok[:len(tok)-44], "acme/programs/state=1"},
		"not base64":       {"%%%.%%%", "acme/programs/state=1"},
		"just a separator": {".", "acme/programs/state=1"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Decode(bad.token, bad.filter)
			var invalid *apperr.InvalidError
			require.True(t, errors.As(err, &invalid), "got %v", err)
			require.Equal(t, "page_token", invalid.Violations[0].Field)
		})
	}
}

// FuzzDecode: no input makes Decode panic, and only tokens the codec
// issued are accepted.
func FuzzDecode(f *testing.F) {
	c := pagetoken.New([]byte("fuzz-key"))
	f.Add(c.Encode("01abc", "f"), "f")
	f.Add("", "f")
	f.Add("a.b", "")
	f.Fuzz(func(t *testing.T, token, filter string) {
		after, err := c.Decode(token, filter)
		if err == nil && token != "" && c.Encode(after, filter) != token {
			t.Fatalf("accepted a token the codec would not issue: %q", token)
		}
	})
}
