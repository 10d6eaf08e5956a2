// Package engine scores mentor × mentee pairs and assigns them. It is pure:
// no I/O, no clocks, no randomness, so the same input always gives the same
// output. The matching service feeds it from its projection of the
// participant service's events; `tandem bench` drives it directly.
package engine

import "time"

// ProgramType decides the direction of the seniority rule.
type ProgramType uint8

// Program types, as the participant service defines them.
const (
	// Classic: the mentor is the more senior; a larger gap scores higher.
	Classic ProgramType = iota
	// Reverse: the mentor must be less senior than the mentee and at least
	// as proficient as the mentee's target in a wanted skill.
	Reverse
	// Peer: the closer in seniority the better.
	Peer
)

// Format is a meeting format.
type Format uint8

// Meeting formats. FormatAny means no preference.
const (
	FormatAny Format = iota
	FormatInPerson
	FormatRemote
	FormatHybrid
)

// Want is a development area: a skill the person wants to learn, from the
// current level to the target level (1 to 5).
type Want struct {
	Skill   string
	Current int
	Target  int
}

// Profile is what the engine knows of one participant: the person's
// directory data joined with the enrolment.
type Profile struct {
	// ID is the participant id; PersonID the person behind it.
	ID       string
	PersonID string
	// Seniority is the directory's level; larger is more senior.
	Seniority  int
	Department string
	// Managers are the person ids up the reporting chain, nearest first.
	Managers []string
	// TimeZone is an IANA name; empty means UTC.
	TimeZone  string
	Languages []string
	Location  string
	Format    Format
	WorkStyle string
	// CommunicationStyle complements WorkStyle in the style factor.
	CommunicationStyle string
	Motivation         string
	// Competencies are the skills the person can teach, with levels 1 to 5.
	Competencies map[string]int
	// Wants are the person's development areas, most important first.
	Wants []Want
	// Capacity is how many mentees a mentor takes (mentors only).
	Capacity int
	// Prefer and Avoid are person ids.
	Prefer []string
	Avoid  []string
}

// Weights are the relative importance of the scoring factors, each from 0
// to 100. A pair's score is the weighted mean of its factor values times
// 100, so only the ratios between the weights matter.
type Weights struct {
	CompetencyCoverage float64
	SeniorityGap       float64
	CrossDepartment    float64
	TimeZoneOverlap    float64
	SharedLanguage     float64
	FormatFit          float64
	StyleComplement    float64
	Motivation         float64
	Preference         float64
}

// Rules are a program's scoring configuration and hard rules.
type Rules struct {
	Type    ProgramType
	Weights Weights
	// ReportingChainDepth forbids pairs where one is within this many
	// levels above the other in the reporting chain (0: no limit applied).
	ReportingChainDepth   int
	RequireSharedLanguage bool
	// MinPairScore (0 to 100): pairs scoring below it are never proposed.
	MinPairScore float64
	// ProgramFormat is the program's format; FormatAny lets each pair's
	// preferences decide.
	ProgramFormat Format
	// PastPairs are person-id pairs {mentor, mentee} that were matched
	// before in this program and must not be matched again.
	PastPairs [][2]string
	// At is the date whose UTC offsets the time-zone factor uses, so the
	// score follows daylight saving time; zero means 2026-01-15.
	At time.Time
}
