package matchingsvc_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	matchingsql "github.com/tandem-oss/tandem/services/matching/internal/sqlstore"
	"github.com/tandem-oss/tandem/services/matching/matchingsvc"
)

// service is a running matching service with a client, a stand-in for
// the participant service's events and a second handle on its database.
type service struct {
	*servicetest.Harness
	client matchingv1.MatchingServiceClient
	store  *matchingsql.Store
}

// start runs the matching service on the database at url with cfg (its
// DatabaseURL is set here).
func start(t testing.TB, url string, cfg matchingsvc.Config) *service {
	t.Helper()
	cfg.DatabaseURL = url
	h := servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
		return matchingsvc.Run(ctx, lis, cfg, env)
	})
	db, err := sqlstore.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return &service{Harness: h, client: matchingv1.NewMatchingServiceClient(h.Conn), store: matchingsql.New(db, nil)}
}

// publish puts one participant-service event into the stream as its relay
// would, with ce-id eventID (a new one when empty), and returns the id.
func (s *service) publish(t testing.TB, tenant, aggregate, id, typ string, payload proto.Message, eventID string) string {
	t.Helper()
	if eventID == "" {
		eventID = testkit.RandomName("ev")
	}
	data, err := proto.Marshal(payload)
	require.NoError(t, err)
	msg := nats.NewMsg(s.Prefix + "." + tenant + "." + aggregate + "." + typ)
	msg.Data = data
	msg.Header.Set(nats.MsgIdHdr, testkit.RandomName("msg"))
	msg.Header.Set(eventbus.HeaderID, eventID)
	msg.Header.Set(eventbus.HeaderType, "tandem."+aggregate+"."+typ)
	msg.Header.Set(eventbus.HeaderTenant, tenant)
	msg.Header.Set(eventbus.HeaderSource, "tandem/participant")
	msg.Header.Set(eventbus.HeaderSubject, id)
	msg.Header.Set(eventbus.HeaderTime, time.Now().UTC().Format(time.RFC3339Nano))
	_, err = s.JS.PublishMsg(t.Context(), msg)
	require.NoError(t, err)
	return eventID
}

// waitEpoch waits until the program's epoch is at least want: the
// consumer has applied the events published before.
func (s *service) waitEpoch(t testing.TB, tenant, programID string, want int64) {
	t.Helper()
	testkit.Eventually(t, servicetest.WaitFor, func() bool {
		e, err := s.store.Epoch(t.Context(), tenant, programID)
		return err == nil && e >= want
	}, "epoch of %s/%s below %d", tenant, programID, want)
}

// input reads the program's input as the service sees it.
func (s *service) input(t *testing.T, tenant, programID string) matching.Input {
	t.Helper()
	in, err := s.store.ProgramInput(t.Context(), tenant, programID)
	require.NoError(t, err)
	return in
}
