package matchingsvc_test

import (
	"fmt"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/cache"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// BenchmarkCandidatesFromRedis measures a candidate look-up served from
// Redis, as a client sees it: a real gRPC call (token check, the object
// rule's participant read, the program's versions from the database, the
// Redis read, the first k = 10 of the 100 cached explained candidates
// decoded). A program of 1,000 mentees and 500 mentors; the lists of 200
// mentees are cached first, then each iteration asks for one of them. It
// reports the latency quantiles over the iterations (target: p99 ≤ 2 ms),
// with Go's default GC and as the chart deploys the service (GOMEMLIMIT
// at its 2 GiB limit, so platform.TuneGC's target applies).
func BenchmarkCandidatesFromRedis(b *testing.B) {
	for _, store := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", testkit.SQLiteURL}, {"postgres", testkit.PostgresURL}} {
		b.Run(store.name, func(b *testing.B) {
			client, prefix := testkit.Redis(b)
			s := startCandidates(b, store.url(b), cache.NewRedis(client, prefix))
			tenant, programID := testkit.RandomName("t"), testkit.RandomName("p")
			s.seed(b, tenant, programID, participantv1.ProgramType_PROGRAM_TYPE_CLASSIC, benchPool(1000, 500))
			ctx := s.As(b, tenant, auth.RoleProgramManager)
			requests := make([]*matchingv1.ListCandidatesRequest, 200)
			for i := range requests {
				requests[i] = &matchingv1.ListCandidatesRequest{ProgramId: programID, ParticipantId: fmt.Sprintf("e%d", i)}
				resp, err := s.client.ListCandidates(ctx, requests[i])
				require.NoError(b, err)
				require.Len(b, resp.GetCandidates(), 10)
			}
			for _, gc := range []struct {
				name     string
				deployed bool
			}{{"default-gc", false}, {"as-deployed", true}} {
				b.Run(gc.name, func(b *testing.B) {
					if gc.deployed {
						limit, percent := debug.SetMemoryLimit(2<<30), debug.SetGCPercent(100)
						platform.TuneGC()
						defer func() { debug.SetMemoryLimit(limit); debug.SetGCPercent(percent) }()
					}
					took := make([]time.Duration, 0, b.N)
					b.ResetTimer()
					for i := range b.N {
						start := time.Now()
						resp, err := s.client.ListCandidates(ctx, requests[i%len(requests)])
						took = append(took, time.Since(start))
						if err != nil || len(resp.GetCandidates()) != 10 {
							b.Fatalf("look-up %d: %d candidates, %v", i, len(resp.GetCandidates()), err)
						}
					}
					b.StopTimer()
					slices.Sort(took)
					for _, q := range []float64{0.5, 0.99} {
						b.ReportMetric(float64(took[int(q*float64(len(took)-1))].Microseconds())/1000, fmt.Sprintf("p%.0f-ms", q*100))
					}
				})
			}
		})
	}
}

// benchPool is a classic program of mentees and mentors over a few
// departments and skills.
func benchPool(mentees, mentors int) []member {
	skills := []string{"genai", "cloud", "data", "security", "product"}
	departments := []string{"IT", "Sales", "Finance", "HR", "Ops"}
	pool := make([]member, 0, mentees+mentors)
	for i := range mentors {
		pool = append(pool, member{id: fmt.Sprintf("m%d", i), mentor: true, seniority: int32(6 + i%4), department: departments[i%5],
			skills: map[string]int32{skills[i%5]: int32(2 + i%3), skills[(i+2)%5]: 3}, capacity: 2})
	}
	for i := range mentees {
		pool = append(pool, member{id: fmt.Sprintf("e%d", i), seniority: int32(1 + i%4), department: departments[(i+1)%5],
			wants: map[string]int32{skills[i%5]: 4, skills[(i+3)%5]: 3}})
	}
	return pool
}
