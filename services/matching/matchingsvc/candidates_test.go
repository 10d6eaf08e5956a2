package matchingsvc_test

import (
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/cache"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	matchingsql "github.com/tandem-oss/tandem/services/matching/internal/sqlstore"
	"github.com/tandem-oss/tandem/services/matching/matchingsvc"
)

// startCandidates is start with the candidate cache c.
func startCandidates(t testing.TB, url string, c cache.Cache) *service {
	t.Helper()
	h := servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
		env.Cache = c
		return matchingsvc.Run(ctx, lis, matchingsvc.Config{DatabaseURL: url}, env)
	})
	db, err := sqlstore.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return &service{Harness: h, client: matchingv1.NewMatchingServiceClient(h.Conn), store: matchingsql.New(db, nil)}
}

// candidatePool is a classic program where the mentee "e1" wants genai to
// level 4 and the mentors teach it at 4, 3 and 2: their candidate order.
var candidatePool = []member{
	{id: "m-a", mentor: true, seniority: 8, department: "IT", skills: map[string]int32{"genai": 4}, capacity: 1},
	{id: "m-b", mentor: true, seniority: 8, department: "IT", skills: map[string]int32{"genai": 3}, capacity: 1},
	{id: "m-c", mentor: true, seniority: 8, department: "IT", skills: map[string]int32{"genai": 2}, capacity: 1},
	{id: "e1", seniority: 3, department: "Sales", wants: map[string]int32{"genai": 4}},
	{id: "e2", seniority: 3, department: "Sales", wants: map[string]int32{"genai": 4}},
}

func candidateIDs(resp *matchingv1.ListCandidatesResponse) []string {
	var ids []string
	for _, c := range resp.GetCandidates() {
		ids = append(ids, c.GetParticipantId())
	}
	return ids
}

// TestCandidatesServedFromRedis: the first call computes and caches the
// list under a key scoped by tenant, program, config version and epoch;
// the second is served from Redis (a doctored entry shows it); an event
// that changes the program moves to a new key, so the change is seen at
// once.
func TestCandidatesServedFromRedis(t *testing.T) {
	client, prefix := testkit.Redis(t)
	s := startCandidates(t, testkit.SQLiteURL(t), cache.NewRedis(client, prefix))
	tenant, programID := testkit.RandomName("t"), testkit.RandomName("p")
	epoch := s.seed(t, tenant, programID, participantv1.ProgramType_PROGRAM_TYPE_CLASSIC, candidatePool)
	ctx := s.As(t, tenant, auth.RoleProgramManager)

	first, err := s.client.ListCandidates(ctx, &matchingv1.ListCandidatesRequest{ProgramId: programID, ParticipantId: "e1"})
	require.NoError(t, err)
	require.Equal(t, []string{"m-a", "m-b", "m-c"}, candidateIDs(first))
	require.Equal(t, epoch, first.GetEpoch())
	require.Len(t, first.GetCandidates()[0].GetFactors(), 9)
	require.Greater(t, first.GetCandidates()[0].GetScore(), first.GetCandidates()[2].GetScore())

	key := prefix + "matching:candidates:" + tenant + ":" + programID + ":v0:e" + strconv.FormatInt(epoch, 10) + ":e1"
	raw, err := client.Get(t.Context(), key).Bytes()
	require.NoError(t, err, "the list is cached under its scoped key")
	var doctored map[string]any
	require.NoError(t, json.Unmarshal(raw, &doctored))
	doctored["candidates"].([]any)[0].(map[string]any)["score"] = 12.34
	data, err := json.Marshal(doctored)
	require.NoError(t, err)
	require.NoError(t, client.Set(t.Context(), key, data, time.Minute).Err())
	second, err := s.client.ListCandidates(ctx, &matchingv1.ListCandidatesRequest{ProgramId: programID, ParticipantId: "e1", K: 2})
	require.NoError(t, err)
	require.InDelta(t, 12.34, second.GetCandidates()[0].GetScore(), 1e-9, "served from Redis")
	require.Len(t, second.GetCandidates(), 2, "k cuts the cached list")

	// An entry whose first candidate is longer than the start a look-up
	// reads is read whole, still from Redis.
	long := strings.Repeat("a long explanation ", 2000)
	doctored["candidates"].([]any)[0].(map[string]any)["factors"].([]any)[0].(map[string]any)["explanation"] = long
	data, err = json.Marshal(doctored)
	require.NoError(t, err)
	require.NoError(t, client.Set(t.Context(), key, data, time.Minute).Err())
	third, err := s.client.ListCandidates(ctx, &matchingv1.ListCandidatesRequest{ProgramId: programID, ParticipantId: "e1"})
	require.NoError(t, err)
	require.InDelta(t, 12.34, third.GetCandidates()[0].GetScore(), 1e-9, "served from Redis")
	require.Equal(t, long, third.GetCandidates()[0].GetFactors()[0].GetExplanation())
	require.Equal(t, []string{"m-a", "m-b", "m-c"}, candidateIDs(third))

	// m-a withdraws: a new epoch, a new key, a fresh list without m-a.
	withdrawn := enrolment(programID, candidatePool[0])
	withdrawn.State = participantv1.ParticipantState_PARTICIPANT_STATE_WITHDRAWN
	s.publish(t, tenant, "participant", "m-a", "withdrawn", &eventsv1.ParticipantWithdrawn{Participant: withdrawn}, "")
	s.waitEpoch(t, tenant, programID, epoch+1)
	after, err := s.client.ListCandidates(ctx, &matchingv1.ListCandidatesRequest{ProgramId: programID, ParticipantId: "e1"})
	require.NoError(t, err)
	require.Equal(t, []string{"m-b", "m-c"}, candidateIDs(after))
	require.Equal(t, epoch+1, after.GetEpoch())

	// The other direction: a mentor's candidates are mentees.
	mentor, err := s.client.ListCandidates(ctx, &matchingv1.ListCandidatesRequest{ProgramId: programID, ParticipantId: "m-b"})
	require.NoError(t, err)
	require.Equal(t, []string{"e1", "e2"}, candidateIDs(mentor))
}

// TestCandidatesWithoutRedis: with Redis unreachable the lists are
// computed directly and are the same.
func TestCandidatesWithoutRedis(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	s := startCandidates(t, testkit.SQLiteURL(t), cache.NewRedis(down, "tandem:"))
	tenant, programID := testkit.RandomName("t"), testkit.RandomName("p")
	s.seed(t, tenant, programID, participantv1.ProgramType_PROGRAM_TYPE_CLASSIC, candidatePool)
	ctx := s.As(t, tenant, auth.RoleProgramManager)
	for range 3 {
		resp, err := s.client.ListCandidates(ctx, &matchingv1.ListCandidatesRequest{ProgramId: programID, ParticipantId: "e1"})
		require.NoError(t, err)
		require.Equal(t, []string{"m-a", "m-b", "m-c"}, candidateIDs(resp))
	}
}

func TestCandidatesErrors(t *testing.T) {
	s := startCandidates(t, testkit.SQLiteURL(t), cache.NewMemory(100))
	tenant, programID := testkit.RandomName("t"), testkit.RandomName("p")
	s.seed(t, tenant, programID, participantv1.ProgramType_PROGRAM_TYPE_CLASSIC, candidatePool)
	ctx := s.As(t, tenant, auth.RoleProgramManager)
	tests := []struct {
		name string
		req  *matchingv1.ListCandidatesRequest
		code codes.Code
	}{
		{"k too large", &matchingv1.ListCandidatesRequest{ProgramId: programID, ParticipantId: "e1", K: 101}, codes.InvalidArgument},
		{"unknown participant", &matchingv1.ListCandidatesRequest{ProgramId: programID, ParticipantId: "nobody"}, codes.NotFound},
		// A manager manages no unknown program.
		{"unknown program", &matchingv1.ListCandidatesRequest{ProgramId: "nope", ParticipantId: "e1"}, codes.PermissionDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.client.ListCandidates(ctx, tc.req)
			require.Equal(t, tc.code, status.Code(err), "error: %v", err)
		})
	}
	other := s.As(t, testkit.RandomName("t"), auth.RoleProgramManager)
	_, err := s.client.ListCandidates(other, &matchingv1.ListCandidatesRequest{ProgramId: programID, ParticipantId: "e1"})
	require.Equal(t, codes.NotFound, status.Code(err), "another tenant sees nothing")
}
