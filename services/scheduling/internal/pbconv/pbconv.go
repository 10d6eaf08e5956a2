// Package pbconv converts between the scheduling domain and its protobuf
// messages, for the gRPC API and for event payloads.
package pbconv

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

// Availability converts a domain availability to its message. DayOfWeek
// numbers the days as ISO 8601 does, like the domain.
func Availability(a scheduling.Availability) *schedulingv1.Availability {
	pb := &schedulingv1.Availability{PersonId: a.PersonID, TimeZone: a.TimeZone, UpdateTime: ts(a.UpdateTime)}
	for _, w := range a.Windows {
		pb.Windows = append(pb.Windows, &schedulingv1.WeeklyWindow{
			Day: schedulingv1.DayOfWeek(w.Day), Start: w.Start, End: w.End,
		})
	}
	return pb
}

// AvailabilityFromPB converts a message to a domain availability.
func AvailabilityFromPB(pb *schedulingv1.Availability) scheduling.Availability {
	a := scheduling.Availability{PersonID: pb.GetPersonId(), TimeZone: pb.GetTimeZone(), UpdateTime: fromTS(pb.GetUpdateTime())}
	for _, w := range pb.GetWindows() {
		a.Windows = append(a.Windows, scheduling.Window{
			Day: scheduling.Weekday(w.GetDay()), Start: w.GetStart(), End: w.GetEnd(),
		})
	}
	return a
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func fromTS(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}
