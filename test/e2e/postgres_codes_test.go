//go:build reliability

package e2e

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// TestPostgresDownIsUnavailable is the second half of issue #10's
// PostgreSQL check: while the database is down, clients get Unavailable
// (retry later), never Internal. It still fails in about half the runs: a
// call whose commit loses its connection ("db: commit: conn closed") is
// answered Internal (docs/reliability.md), so it runs only in `make
// reliability` (build tag reliability) until that is fixed.
func TestPostgresDownIsUnavailable(t *testing.T) {
	codesByPhase := stopPostgresUnderWrites(t)
	for phase, byCode := range codesByPhase {
		for code, n := range byCode {
			require.True(t, code == codes.OK || code == codes.Unavailable, "phase %d: %d calls failed with %s, want Unavailable", phase, n, code)
		}
	}
	require.Positive(t, codesByPhase[1][codes.Unavailable], "clients see Unavailable while the database is down")
}
