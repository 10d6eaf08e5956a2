package schedulingsvc_test

import (
	"context"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/scheduling/schedulingsvc"
)

func TestPolicyCoversEveryRPC(t *testing.T) {
	t.Parallel()
	for _, m := range schedulingv1.SchedulingService_ServiceDesc.Methods {
		method := "/" + schedulingv1.SchedulingService_ServiceDesc.ServiceName + "/" + m.MethodName
		require.NotEmpty(t, schedulingsvc.Policy[method], "no roles for %s", method)
	}
	require.Len(t, schedulingsvc.Policy, len(schedulingv1.SchedulingService_ServiceDesc.Methods))
}

func window(day schedulingv1.DayOfWeek, start, end string) *schedulingv1.WeeklyWindow {
	return &schedulingv1.WeeklyWindow{Day: day, Start: start, End: end}
}

func TestAvailabilityAPI(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		h := servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
			return schedulingsvc.Run(ctx, lis, schedulingsvc.Config{DatabaseURL: url}, env)
		})
		client := schedulingv1.NewSchedulingServiceClient(h.Conn)
		acme := testkit.RandomName("acme")
		// The participant's token names person-1 once the person event has
		// reached the service's projection.
		participant := h.As(t, acme, auth.RoleParticipant)
		publish(t, h, acme, "person", "person-1", "created", &eventsv1.PersonCreated{Person: &participantv1.Person{Id: "person-1", Subject: "user-of-" + acme}})
		publish(t, h, acme, "person", "person-2", "created", &eventsv1.PersonCreated{Person: &participantv1.Person{Id: "person-2", Subject: "someone-else"}})
		testkit.Eventually(t, servicetest.WaitFor, func() bool {
			_, err := client.GetAvailability(participant, &schedulingv1.GetAvailabilityRequest{PersonId: "person-1"})
			return err == nil
		}, "the participant is not person-1 yet")
		ignoreUpdateTime := protocmp.IgnoreFields(&schedulingv1.Availability{}, "update_time")

		t.Run("unset availability is empty", func(t *testing.T) {
			got, err := client.GetAvailability(participant, &schedulingv1.GetAvailabilityRequest{PersonId: "person-1"})
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(&schedulingv1.Availability{PersonId: "person-1"}, got, protocmp.Transform()))
		})

		var set *schedulingv1.Availability
		t.Run("set replaces, orders the windows and publishes", func(t *testing.T) {
			_, err := client.SetAvailability(participant, &schedulingv1.SetAvailabilityRequest{Availability: &schedulingv1.Availability{
				PersonId: "person-1", TimeZone: "Europe/London",
				Windows: []*schedulingv1.WeeklyWindow{window(schedulingv1.DayOfWeek_DAY_OF_WEEK_FRIDAY, "08:00", "09:00")},
			}})
			require.NoError(t, err)
			set, err = client.SetAvailability(participant, &schedulingv1.SetAvailabilityRequest{Availability: &schedulingv1.Availability{
				PersonId: "person-1", TimeZone: "America/Sao_Paulo",
				Windows: []*schedulingv1.WeeklyWindow{
					window(schedulingv1.DayOfWeek_DAY_OF_WEEK_SUNDAY, "18:00", "24:00"),
					window(schedulingv1.DayOfWeek_DAY_OF_WEEK_MONDAY, "14:00", "15:00"),
					window(schedulingv1.DayOfWeek_DAY_OF_WEEK_MONDAY, "09:00", "14:00"),
				},
			}})
			require.NoError(t, err)
			want := &schedulingv1.Availability{
				PersonId: "person-1", TimeZone: "America/Sao_Paulo",
				Windows: []*schedulingv1.WeeklyWindow{
					window(schedulingv1.DayOfWeek_DAY_OF_WEEK_MONDAY, "09:00", "14:00"),
					window(schedulingv1.DayOfWeek_DAY_OF_WEEK_MONDAY, "14:00", "15:00"),
					window(schedulingv1.DayOfWeek_DAY_OF_WEEK_SUNDAY, "18:00", "24:00"),
				},
			}
			require.Empty(t, cmp.Diff(want, set, protocmp.Transform(), ignoreUpdateTime))
			require.NotNil(t, set.GetUpdateTime())

			got, err := client.GetAvailability(h.As(t, acme, auth.RoleTenantAdmin), &schedulingv1.GetAvailabilityRequest{PersonId: "person-1"})
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(set, got, protocmp.Transform()))

			msg := h.LastEvent(t, acme+".availability.changed", 2)
			require.Equal(t, "tandem.availability.changed", msg.Header.Get(eventbus.HeaderType))
			require.Equal(t, acme, msg.Header.Get(eventbus.HeaderTenant))
			require.Equal(t, "person-1", msg.Header.Get(eventbus.HeaderSubject))
			var payload eventsv1.AvailabilityChanged
			require.NoError(t, proto.Unmarshal(msg.Data, &payload))
			require.Empty(t, cmp.Diff(&eventsv1.AvailabilityChanged{Availability: set}, &payload, protocmp.Transform()))
		})

		t.Run("invalid input names the field", func(t *testing.T) {
			monday := schedulingv1.DayOfWeek_DAY_OF_WEEK_MONDAY
			tests := []struct {
				name   string
				change func(*schedulingv1.Availability)
				field  string
			}{
				{"unknown time zone", func(a *schedulingv1.Availability) { a.TimeZone = "Europe/Atlantis" }, "availability.time_zone"},
				{"no time zone", func(a *schedulingv1.Availability) { a.TimeZone = "" }, "availability.time_zone"},
				{"server's local zone", func(a *schedulingv1.Availability) { a.TimeZone = "Local" }, "availability.time_zone"},
				{"end before start", func(a *schedulingv1.Availability) {
					a.Windows = append(a.Windows, window(schedulingv1.DayOfWeek_DAY_OF_WEEK_TUESDAY, "10:00", "09:00"))
				}, "availability.windows[3].end"},
				{"overlap", func(a *schedulingv1.Availability) {
					a.Windows = append(a.Windows, window(monday, "13:00", "13:30"))
				}, "availability.windows[3].start"},
				{"malformed end", func(a *schedulingv1.Availability) { a.Windows[1].End = "25:00" }, "availability.windows[1].end"},
				{"no day", func(a *schedulingv1.Availability) { a.Windows[0].Day = 0 }, "availability.windows[0].day"},
				{"no person", func(a *schedulingv1.Availability) { a.PersonId = "" }, "availability.person_id"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					a := proto.CloneOf(set)
					tt.change(a)
					_, err := client.SetAvailability(participant, &schedulingv1.SetAvailabilityRequest{Availability: a})
					servicetest.RequireFieldViolation(t, err, tt.field)
				})
			}
			got, err := client.GetAvailability(participant, &schedulingv1.GetAvailabilityRequest{PersonId: "person-1"})
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(set, got, protocmp.Transform()))
		})

		t.Run("roles", func(t *testing.T) {
			analyst := h.As(t, acme, auth.RoleAnalyst)
			_, err := client.GetAvailability(analyst, &schedulingv1.GetAvailabilityRequest{PersonId: "person-1"})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "get as analyst: %v", err)
			_, err = client.SetAvailability(analyst, &schedulingv1.SetAvailabilityRequest{Availability: set})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "set as analyst: %v", err)
			_, err = client.GetAvailability(h.As(t, acme), &schedulingv1.GetAvailabilityRequest{PersonId: "person-1"})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "no roles: %v", err)
			_, err = client.GetAvailability(participant, &schedulingv1.GetAvailabilityRequest{PersonId: "person-2"})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "another person's: %v", err)
			_, err = client.GetAvailability(h.As(t, acme, auth.RoleProgramManager), &schedulingv1.GetAvailabilityRequest{PersonId: "person-1"})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "a person's own data as program manager: %v", err)
			_, err = client.GetAvailability(t.Context(), &schedulingv1.GetAvailabilityRequest{PersonId: "person-1"})
			require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
			for _, role := range []string{auth.RoleTenantAdmin, auth.RoleService} {
				_, err := client.GetAvailability(h.As(t, acme, role), &schedulingv1.GetAvailabilityRequest{PersonId: "person-1"})
				require.NoError(t, err, role)
			}
		})

		t.Run("another tenant sees nothing of the first", func(t *testing.T) {
			globex := h.As(t, testkit.RandomName("globex"), auth.RoleTenantAdmin)
			_, err := client.GetAvailability(globex, &schedulingv1.GetAvailabilityRequest{PersonId: "person-1"})
			require.Equal(t, codes.NotFound, status.Code(err), "another tenant's person: %v", err)
			_, err = client.SetAvailability(globex, &schedulingv1.SetAvailabilityRequest{Availability: &schedulingv1.Availability{
				PersonId: "person-1", TimeZone: "UTC",
			}})
			require.Equal(t, codes.NotFound, status.Code(err), "another tenant's person: %v", err)
			mine, err := client.GetAvailability(participant, &schedulingv1.GetAvailabilityRequest{PersonId: "person-1"})
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(set, mine, protocmp.Transform()))
		})
	})
}
