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
	pb := &schedulingv1.Availability{
		PersonId: a.PersonID, TimeZone: a.TimeZone, UpdateTime: ts(a.UpdateTime),
		Windows: windows(a.Windows), WorkingHours: windows(a.WorkingHours),
	}
	for _, e := range a.Exceptions {
		pb.Exceptions = append(pb.Exceptions, &schedulingv1.AvailabilityException{
			StartTime: ts(e.Start), EndTime: ts(e.End), Reason: e.Reason,
		})
	}
	return pb
}

func windows(ws []scheduling.Window) []*schedulingv1.WeeklyWindow {
	var out []*schedulingv1.WeeklyWindow
	for _, w := range ws {
		out = append(out, &schedulingv1.WeeklyWindow{
			Day: schedulingv1.DayOfWeek(w.Day), Start: w.Start, End: w.End, Preferred: w.Preferred,
		})
	}
	return out
}

// AvailabilityFromPB converts a message to a domain availability.
func AvailabilityFromPB(pb *schedulingv1.Availability) scheduling.Availability {
	a := scheduling.Availability{
		PersonID: pb.GetPersonId(), TimeZone: pb.GetTimeZone(), UpdateTime: fromTS(pb.GetUpdateTime()),
		Windows: windowsFromPB(pb.GetWindows()), WorkingHours: windowsFromPB(pb.GetWorkingHours()),
	}
	for _, e := range pb.GetExceptions() {
		a.Exceptions = append(a.Exceptions, scheduling.Exception{
			Start: fromTS(e.GetStartTime()), End: fromTS(e.GetEndTime()), Reason: e.GetReason(),
		})
	}
	return a
}

func windowsFromPB(pbs []*schedulingv1.WeeklyWindow) []scheduling.Window {
	var out []scheduling.Window
	for _, w := range pbs {
		out = append(out, scheduling.Window{
			Day: scheduling.Weekday(w.GetDay()), Start: w.GetStart(), End: w.GetEnd(), Preferred: w.GetPreferred(),
		})
	}
	return out
}

// Session converts a session to its message.
func Session(s scheduling.Session) *schedulingv1.Session {
	return &schedulingv1.Session{
		Id: s.ID, MatchId: s.MatchID, SeriesId: s.SeriesID,
		StartTime: ts(s.Start), EndTime: ts(s.End),
		State: schedulingv1.SessionState(s.State), RoomId: s.RoomID,
		MentorPersonId: s.MentorPersonID, MenteePersonId: s.MenteePersonID,
		ProposedByPersonId: s.ProposedBy, RescheduleReason: s.RescheduleReason,
		CancelReason: s.CancelReason, CancelledByPersonId: s.CancelledBy,
		AbsentPersonId: s.AbsentPersonID, Sequence: int32(s.Sequence),
		CreateTime: ts(s.CreateTime), UpdateTime: ts(s.UpdateTime),
	}
}

// Sessions converts sessions to messages.
func Sessions(ss []scheduling.Session) []*schedulingv1.Session {
	out := make([]*schedulingv1.Session, len(ss))
	for i, s := range ss {
		out[i] = Session(s)
	}
	return out
}

// Series converts a series to its message.
func Series(s scheduling.Series) *schedulingv1.Series {
	return &schedulingv1.Series{
		Id: s.ID, MatchId: s.MatchID, Cadence: schedulingv1.Cadence(s.Cadence),
		Sessions: Sessions(s.Sessions), CreateTime: ts(s.CreateTime),
	}
}

// Room converts a room to its message.
func Room(r scheduling.Room) *schedulingv1.Room {
	return &schedulingv1.Room{
		Id: r.ID, DisplayName: r.DisplayName, Location: r.Location,
		Capacity: int32(r.Capacity), CreateTime: ts(r.CreateTime),
	}
}

// RoomFromPB converts a message to a room.
func RoomFromPB(pb *schedulingv1.Room) scheduling.Room {
	return scheduling.Room{DisplayName: pb.GetDisplayName(), Location: pb.GetLocation(), Capacity: int(pb.GetCapacity())}
}

// CalendarToken converts a token to its message; the secret and the feed
// path appear only when t.Token is set (on creation).
func CalendarToken(t scheduling.CalendarToken) *schedulingv1.CalendarToken {
	pb := &schedulingv1.CalendarToken{
		Id: t.ID, PersonId: t.PersonID, Token: t.Token,
		CreateTime: ts(t.CreateTime), RevokeTime: ts(t.RevokeTime),
	}
	if t.Token != "" {
		pb.FeedPath = scheduling.FeedPath(t.Token)
	}
	return pb
}

// TS converts a time to a timestamp, nil for the zero time.
func TS(t time.Time) *timestamppb.Timestamp { return ts(t) }

// FromTS converts a timestamp to a time, zero for nil.
func FromTS(t *timestamppb.Timestamp) time.Time { return fromTS(t) }

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
