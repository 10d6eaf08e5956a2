package demo_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/cmd/tandem/internal/demo"
)

var today = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)

func generate(t *testing.T, people int, seed uint64) *demo.Org {
	t.Helper()
	org, err := demo.Generate(demo.Config{People: people, Seed: seed, Today: today})
	require.NoError(t, err)
	return org
}

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := generate(t, 1000, 42), generate(t, 1000, 42)
	require.Equal(t, a, b)
	require.Equal(t, a.DirectoryCSV(), b.DirectoryCSV())
	require.Equal(t, a.EnrolmentCSV(), b.EnrolmentCSV())

	other := generate(t, 1000, 43)
	require.NotEqual(t, a.DirectoryCSV(), other.DirectoryCSV())
	require.NotEqual(t, a.EnrolmentCSV(), other.EnrolmentCSV())
}

func TestGenerateRefusesBadSizes(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, demo.MinPeople - 1, demo.MaxPeople + 1} {
		_, err := demo.Generate(demo.Config{People: n, Seed: 1, Today: today})
		require.ErrorContains(t, err, "must be 50 to 100000", "people %d", n)
	}
}

// TestOrganisation checks the shape of organisations of several sizes and
// seeds: a tree under one CEO whose managers are more senior than their
// reports, departments of different sizes, valid time zones, and a cohort
// of about 30 % fit for reverse mentoring.
func TestOrganisation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		people             int
		seed               uint64
		minDepth, maxDepth int
	}{
		{demo.MinPeople, 1, 3, 5},
		{300, 1, 4, 6},
		{1000, 1, 5, 7},
		{1000, 2, 5, 7},
		{1000, 3, 5, 7},
		{5000, 9, 5, 7},
		{demo.MaxPeople, 1, 6, 9},
	}
	for _, tc := range cases {
		org := generate(t, tc.people, tc.seed)
		require.Len(t, org.People, tc.people)

		index := map[string]int{}
		emails := map[string]bool{}
		for i, p := range org.People {
			_, dup := index[p.HRISID]
			require.False(t, dup, "hris id %s twice", p.HRISID)
			index[p.HRISID] = i
			require.False(t, emails[p.Email], "email %s twice", p.Email)
			emails[p.Email] = true
		}

		ceo := org.People[0]
		require.Empty(t, ceo.ManagerHRISID)
		require.Equal(t, 12, ceo.Level)
		require.Equal(t, "Chief Executive Officer", ceo.Title)
		deepest := 0
		sizes := map[string]int{}
		for i, p := range org.People {
			sizes[p.Department]++
			require.NotEmpty(t, p.DisplayName)
			require.NotEmpty(t, p.Title)
			require.NotEmpty(t, p.Languages)
			require.False(t, p.HireDate.After(today), "%s hired in the future", p.HRISID)
			require.True(t, p.Level >= 1 && p.Level <= 12, "%s level %d", p.HRISID, p.Level)
			if i == 0 {
				continue
			}
			m, ok := index[p.ManagerHRISID]
			require.True(t, ok, "%s: manager %q is in the organisation", p.HRISID, p.ManagerHRISID)
			require.Less(t, m, i, "%s: the manager comes first", p.HRISID)
			require.Greater(t, org.People[m].Level, p.Level, "%s: the manager is more senior", p.HRISID)
			// Managers come first, so following them ends at the CEO.
			depth := 1
			for cur := i; cur != 0; cur = index[org.People[cur].ManagerHRISID] {
				depth++
			}
			deepest = max(deepest, depth)
		}
		require.True(t, deepest >= tc.minDepth && deepest <= tc.maxDepth,
			"%d people, seed %d: the longest chain has %d people, want %d to %d", tc.people, tc.seed, deepest, tc.minDepth, tc.maxDepth)

		require.Equal(t, demo.ExecutiveOffice, org.Departments[0])
		require.True(t, len(org.Departments) >= 8 && len(org.Departments) <= 12, "departments: %v", org.Departments)
		require.Len(t, sizes, len(org.Departments), "every department has people")
		operating := org.Departments[1:]
		require.Greater(t, sizes[operating[0]], 2*sizes[operating[len(operating)-1]]-1, "sizes differ: %v", sizes)
		require.True(t, slices.IsSortedFunc(operating, func(a, b string) int { return sizes[b] - sizes[a] }), "largest first: %v", sizes)

		for _, zone := range org.TimeZones() {
			_, err := time.LoadLocation(zone)
			require.NoError(t, err, "time zone %q", zone)
		}
		if tc.people >= 1000 {
			require.GreaterOrEqual(t, len(org.TimeZones()), 10, "a global company")
		}

		mentors, mentees, capacity := 0, 0, 0
		for _, p := range org.People {
			switch p.Role {
			case demo.RoleMentor:
				mentors++
				capacity += p.Capacity
				require.LessOrEqual(t, p.Level, 4, "mentors are juniors")
				require.NotEmpty(t, p.Competencies, "%s: a mentor has competencies", p.HRISID)
				require.True(t, slices.ContainsFunc(p.Competencies, func(c demo.Competency) bool { return c.Level >= 4 }), "%s: strong", p.HRISID)
				require.False(t, p.OnLeave)
			case demo.RoleMentee:
				mentees++
				require.GreaterOrEqual(t, p.Level, 8, "mentees are seniors")
				require.NotEmpty(t, p.DevelopmentAreas, "%s: a mentee has development areas", p.HRISID)
				for _, d := range p.DevelopmentAreas {
					require.True(t, d.CurrentLevel >= 1 && d.CurrentLevel <= d.TargetLevel && d.TargetLevel <= 5, "%s: %+v", p.HRISID, d)
				}
				require.False(t, p.OnLeave)
			case "":
			default:
				t.Fatalf("%s: role %q", p.HRISID, p.Role)
			}
		}
		require.Equal(t, mentors, org.Count(demo.RoleMentor))
		require.Equal(t, mentees, org.Count(demo.RoleMentee))
		share := float64(mentors+mentees) / float64(tc.people)
		require.True(t, share >= 0.25 && share <= 0.35, "%d people, seed %d: %.2f enrolled", tc.people, tc.seed, share)
		require.Greater(t, capacity, mentees, "mentor capacity exceeds the mentees")
		require.Less(t, capacity, mentees*6/5+2, "but not by much")
		t.Logf("%d people, seed %d: chain %d, %d departments %v, %d zones, %d mentors (capacity %d), %d mentees",
			tc.people, tc.seed, deepest, len(org.Departments), sizes, len(org.TimeZones()), mentors, capacity, mentees)
	}
}

func TestCSV(t *testing.T) {
	t.Parallel()
	org := generate(t, 300, 5)

	directory, err := csv.NewReader(bytes.NewReader(org.DirectoryCSV())).ReadAll()
	require.NoError(t, err)
	require.Len(t, directory, 301)
	require.Equal(t, []string{"hris_id", "display_name", "email", "department", "title", "seniority_level", "manager_hris_id",
		"hire_date", "location", "time_zone", "languages", "employment_status"}, directory[0])
	ceo := org.People[0]
	require.Equal(t, []string{ceo.HRISID, ceo.DisplayName, ceo.Email, demo.ExecutiveOffice, "Chief Executive Officer", "12", "",
		ceo.HireDate.Format(time.DateOnly), ceo.Location, ceo.TimeZone, strings.Join(ceo.Languages, "|"), "active"}, directory[1])

	enrolment, err := csv.NewReader(bytes.NewReader(org.EnrolmentCSV())).ReadAll()
	require.NoError(t, err)
	require.Len(t, enrolment, 1+org.Count(demo.RoleMentor)+org.Count(demo.RoleMentee))
	require.Equal(t, []string{"hris_id", "role", "competencies", "development_areas", "work_style", "communication_style",
		"motivation", "preferred_format", "capacity"}, enrolment[0])
	byID := map[string]demo.Person{}
	for _, p := range org.People {
		byID[p.HRISID] = p
	}
	for _, row := range enrolment[1:] {
		p := byID[row[0]]
		require.Equal(t, p.Role, row[1])
		switch p.Role {
		case demo.RoleMentor:
			require.Regexp(t, `^[a-z-]+:[1-5](\|[a-z-]+:[1-5])*$`, row[2])
			require.Contains(t, []string{"1", "2"}, row[8])
		case demo.RoleMentee:
			require.Regexp(t, `^[a-z-]+:[1-5]:[1-5](\|[a-z-]+:[1-5]:[1-5])*$`, row[3])
			require.Empty(t, row[8])
		}
		require.Contains(t, []string{"remote", "hybrid", "in_person"}, row[7])
		require.NotEmpty(t, row[6])
	}
}
