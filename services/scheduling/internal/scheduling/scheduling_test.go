package scheduling_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

func TestAvailabilityValidate(t *testing.T) {
	t.Parallel()
	w := func(day scheduling.Weekday, start, end string) scheduling.Window {
		return scheduling.Window{Day: day, Start: start, End: end}
	}
	tests := []struct {
		name    string
		zone    string
		windows []scheduling.Window
		fields  []string // nil: valid
	}{
		{name: "no windows", zone: "Europe/Berlin"},
		{name: "touching windows and a window until midnight", zone: "America/New_York", windows: []scheduling.Window{
			w(scheduling.Monday, "09:00", "12:00"), w(scheduling.Monday, "12:00", "13:30"), w(scheduling.Sunday, "22:00", "24:00"),
		}},
		{name: "same hours on different days", zone: "UTC", windows: []scheduling.Window{
			w(scheduling.Monday, "09:00", "17:00"), w(scheduling.Tuesday, "09:00", "17:00"),
		}},
		{name: "empty time zone", zone: "", fields: []string{"availability.time_zone"}},
		{name: "server's local zone", zone: "Local", fields: []string{"availability.time_zone"}},
		{name: "unknown time zone", zone: "Mars/Olympus_Mons", fields: []string{"availability.time_zone"}},
		{name: "path as time zone", zone: "../../etc/passwd", fields: []string{"availability.time_zone"}},
		{name: "end before start", zone: "UTC", windows: []scheduling.Window{
			w(scheduling.Monday, "09:00", "10:00"), w(scheduling.Monday, "11:00", "12:00"), w(scheduling.Friday, "14:00", "13:00"),
		}, fields: []string{"availability.windows[2].end"}},
		{name: "empty window", zone: "UTC", windows: []scheduling.Window{w(scheduling.Monday, "10:00", "10:00")},
			fields: []string{"availability.windows[0].end"}},
		{name: "start at 24:00", zone: "UTC", windows: []scheduling.Window{w(scheduling.Monday, "24:00", "24:00")},
			fields: []string{"availability.windows[0].start"}},
		{name: "malformed times", zone: "UTC", windows: []scheduling.Window{w(scheduling.Monday, "9:00", "10:60")},
			fields: []string{"availability.windows[0].start", "availability.windows[0].end"}},
		{name: "end past midnight", zone: "UTC", windows: []scheduling.Window{w(scheduling.Monday, "23:00", "24:01")},
			fields: []string{"availability.windows[0].end"}},
		{name: "no day", zone: "UTC", windows: []scheduling.Window{w(0, "09:00", "10:00")},
			fields: []string{"availability.windows[0].day"}},
		{name: "day after Sunday", zone: "UTC", windows: []scheduling.Window{w(8, "09:00", "10:00")},
			fields: []string{"availability.windows[0].day"}},
		{name: "overlap on the same day", zone: "UTC", windows: []scheduling.Window{
			w(scheduling.Monday, "09:00", "12:00"), w(scheduling.Tuesday, "11:00", "13:00"), w(scheduling.Monday, "11:59", "13:00"),
		}, fields: []string{"availability.windows[2].start"}},
		{name: "window inside another", zone: "UTC", windows: []scheduling.Window{
			w(scheduling.Wednesday, "08:00", "18:00"), w(scheduling.Wednesday, "10:00", "11:00"),
		}, fields: []string{"availability.windows[1].start"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := scheduling.Availability{PersonID: "person-1", TimeZone: tt.zone, Windows: tt.windows}.Validate()
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			require.ElementsMatch(t, tt.fields, violatedFields(t, err))
		})
	}
}

func TestAvailabilityValidateLimits(t *testing.T) {
	t.Parallel()
	err := scheduling.Availability{TimeZone: "UTC"}.Validate()
	require.ElementsMatch(t, []string{"availability.person_id"}, violatedFields(t, err))

	many := make([]scheduling.Window, scheduling.MaxWindows+1)
	for i := range many {
		// Disjoint ten-minute windows spread over the week.
		day := scheduling.Weekday(i%7 + 1)
		slot := i / 7
		many[i] = scheduling.Window{Day: day, Start: clock(slot * 20), End: clock(slot*20 + 10)}
	}
	require.NoError(t, scheduling.Availability{PersonID: "p", TimeZone: "UTC", Windows: many[:scheduling.MaxWindows]}.Validate())
	err = scheduling.Availability{PersonID: "p", TimeZone: "UTC", Windows: many}.Validate()
	require.ElementsMatch(t, []string{"availability.windows"}, violatedFields(t, err))
}

func clock(minutes int) string {
	return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60)
}

func violatedFields(t *testing.T, err error) []string {
	t.Helper()
	require.ErrorIs(t, err, apperr.ErrInvalid)
	var invalid *apperr.InvalidError
	require.True(t, errors.As(err, &invalid))
	var fields []string
	for _, v := range invalid.Violations {
		fields = append(fields, v.Field)
	}
	return fields
}
