// Package demo generates a synthetic organisation for demonstrations: a
// global company with departments, reporting chains, seniority levels,
// locations and skills, and a reverse-mentoring cohort in it (juniors
// strong in digital skills as mentors, seniors who want them as mentees).
//
// Generation is pure and deterministic: the same Config gives the same
// organisation, byte for byte, on every machine.
package demo

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits of Config.People.
const (
	MinPeople = 50
	MaxPeople = 100_000
)

// Roles in the reverse-mentoring program.
const (
	RoleMentor = "mentor"
	RoleMentee = "mentee"
)

// ExecutiveOffice is the department of the CEO and their staff.
const ExecutiveOffice = "Executive Office"

// Config says what to generate.
type Config struct {
	// People is the size of the organisation, MinPeople to MaxPeople.
	People int
	// Seed makes the organisation: the same seed, the same people.
	Seed uint64
	// Today anchors hire dates; only its date counts.
	Today time.Time
}

// Skill is an entry of the skills catalogue.
type Skill struct {
	ID, DisplayName, Category string
}

// Competency is a skill someone holds, at level 1 to 5.
type Competency struct {
	SkillID string
	Level   int
}

// DevelopmentArea is a skill someone wants to grow from CurrentLevel to
// TargetLevel (1 to 5).
type DevelopmentArea struct {
	SkillID      string
	CurrentLevel int
	TargetLevel  int
}

// Person is one employee; Role is empty for those not enrolled.
type Person struct {
	HRISID        string
	DisplayName   string
	Email         string
	Department    string
	Title         string
	Level         int    // seniority, 1 to 12
	ManagerHRISID string // empty for the CEO
	Location      string
	TimeZone      string
	Languages     []string
	HireDate      time.Time
	OnLeave       bool

	Competencies     []Competency
	DevelopmentAreas []DevelopmentArea

	Role               string
	WorkStyle          string
	CommunicationStyle string
	Motivation         string
	PreferredFormat    string // in_person, remote or hybrid
	Capacity           int    // mentees a mentor takes
}

// Org is a generated organisation; People[0] is the CEO and every manager
// comes before their reports.
type Org struct {
	People      []Person
	Departments []string // ExecutiveOffice first, then by size, largest first
	Skills      []Skill
}

// Skills is the catalogue: digital and AI skills juniors hold and seniors
// want, and leadership skills seniors hold.
var Skills = []Skill{
	{"genai", "Generative AI", categoryDigital},
	{"data-literacy", "Data literacy", categoryDigital},
	{"cloud", "Cloud platforms", categoryDigital},
	{"automation", "Automation and low-code", categoryDigital},
	{"social-media", "Social media", categoryDigital},
	{"cybersecurity", "Cybersecurity", categoryDigital},
	{"strategic-thinking", "Strategic thinking", categoryLeadership},
	{"stakeholder-management", "Stakeholder management", categoryLeadership},
	{"coaching", "Coaching", categoryLeadership},
	{"change-leadership", "Change leadership", categoryLeadership},
}

const (
	categoryDigital    = "Digital & AI"
	categoryLeadership = "Leadership"
)

// department is a function of the company: its share of the staff and the
// job of its individual contributors.
type department struct {
	name   string
	weight float64
	job    string
}

var departments = []department{
	{"Engineering", 22, "Software Engineer"},
	{"Sales", 15, "Account Executive"},
	{"Operations", 12, "Operations Analyst"},
	{"Customer Success", 9, "Customer Success Specialist"},
	{"Marketing", 8, "Marketing Specialist"},
	{"Product", 7, "Product Manager"},
	{"Finance", 7, "Financial Analyst"},
	{"Data & Analytics", 6, "Data Analyst"},
	{"IT", 5, "IT Specialist"},
	{"People", 5, "HR Business Partner"},
	{"Legal", 3, "Legal Counsel"},
	{"Procurement", 3, "Buyer"},
}

// location is an office with its time zone, its share of the staff, its
// languages (the first spoken by all, the others by half) and how many
// there speak English.
type location struct {
	name      string
	zone      string
	weight    float64
	languages []string
	english   float64
}

var locations = []location{
	{"London", "Europe/London", 14, []string{"en"}, 1},
	{"New York", "America/New_York", 14, []string{"en", "es"}, 1},
	{"Bangalore", "Asia/Kolkata", 12, []string{"en", "hi", "kn"}, 1},
	{"San Francisco", "America/Los_Angeles", 9, []string{"en"}, 1},
	{"Berlin", "Europe/Berlin", 8, []string{"de"}, 0.9},
	{"Paris", "Europe/Paris", 6, []string{"fr"}, 0.85},
	{"Singapore", "Asia/Singapore", 6, []string{"en", "zh"}, 1},
	{"Sao Paulo", "America/Sao_Paulo", 6, []string{"pt-BR"}, 0.75},
	{"Sydney", "Australia/Sydney", 5, []string{"en"}, 1},
	{"Tokyo", "Asia/Tokyo", 5, []string{"ja"}, 0.7},
	{"Toronto", "America/Toronto", 4, []string{"en", "fr"}, 1},
	{"Mexico City", "America/Mexico_City", 3, []string{"es"}, 0.8},
	{"Dubai", "Asia/Dubai", 2, []string{"ar", "hi"}, 1},
}

var firstNames = []string{
	"Aisha", "Akira", "Alejandro", "Amara", "Ana", "Arjun", "Astrid", "Ben", "Camila", "Chen",
	"Chloe", "Daniel", "Diego", "Elena", "Emma", "Fatima", "Felix", "Grace", "Hana", "Hugo",
	"Ines", "Isaac", "Jana", "Javier", "Kai", "Kenji", "Lara", "Leon", "Li", "Lucas",
	"Maya", "Mei", "Mohammed", "Nadia", "Noah", "Olivia", "Omar", "Priya", "Rafael", "Ravi",
	"Sakura", "Samuel", "Sara", "Sofia", "Tariq", "Thomas", "Yara", "Zoe",
}

var lastNames = []string{
	"Adeyemi", "Almeida", "Becker", "Brown", "Chandra", "Chen", "Costa", "Dubois", "Fischer", "Garcia",
	"Gupta", "Haddad", "Hernandez", "Ito", "Iyer", "Jensen", "Kim", "Kowalski", "Lopez", "Martin",
	"Mueller", "Nakamura", "Nguyen", "Okafor", "Olsen", "Patel", "Perez", "Rao", "Rossi", "Santos",
	"Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Tan", "Taylor", "Wang", "Weber", "Williams",
	"Wong", "Yamamoto",
}

var (
	workStyles          = []string{"structured", "exploratory", "collaborative"}
	communicationStyles = []string{"direct", "reflective"}
	formats             = []weighted[string]{{"remote", 50}, {"hybrid", 35}, {"in_person", 15}}
	// icLevels is how the teams' individual contributors spread over levels
	// 1 to 7; the experts are above.
	icLevels = []weighted[int]{{1, 10}, {2, 13}, {3, 14}, {4, 13}, {5, 11}, {6, 9}, {7, 8}}
)

// Shares of the organisation in the program.
const (
	minEnrolledShare = 0.27
	maxEnrolledShare = 0.33
	menteeShare      = 0.55 // of the enrolled
	onLeaveShare     = 0.02
	expertShare      = 15 // percent of a department
)

// Generate returns the organisation of cfg, or an error when cfg.People
// is out of range.
func Generate(cfg Config) (*Org, error) {
	if cfg.People < MinPeople || cfg.People > MaxPeople {
		return nil, fmt.Errorf("demo: %d people: must be %d to %d", cfg.People, MinPeople, MaxPeople)
	}
	g := &generator{
		rng:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		today: time.Date(cfg.Today.Year(), cfg.Today.Month(), cfg.Today.Day(), 0, 0, 0, 0, time.UTC),
	}
	experts := g.buildTree(cfg.People)
	for i := range g.people {
		g.describe(i)
	}
	for _, d := range experts {
		g.addExperts(d.department, d.experts)
	}
	g.enrol()
	org := &Org{People: make([]Person, len(g.people)), Departments: g.departments, Skills: slices.Clone(Skills)}
	for i, n := range g.people {
		org.People[i] = n.Person
	}
	return org, nil
}

// generator holds the state of one generation.
type generator struct {
	rng         *rand.Rand
	today       time.Time
	people      []node
	departments []string
}

// node is a person with their place in the tree.
type node struct {
	Person
	manager int // index of the manager; -1 for the CEO
	reports int
	job     string
	expert  bool // a senior individual contributor
}

// expertQuota is how many senior experts a department gets once its line
// has levels.
type expertQuota struct {
	department department
	experts    int
}

// buildTree makes the line of n people: the CEO with their staff, a head
// per department, and within each department managers and their teams.
// It returns the experts of each department, still to be added.
func (g *generator) buildTree(n int) []expertQuota {
	g.add(node{Person: Person{Department: ExecutiveOffice, Level: 12, Title: "Chief Executive Officer"}, manager: -1})
	g.add(node{Person: Person{Department: ExecutiveOffice, Level: 10, Title: "Chief of Staff"}})
	g.add(node{Person: Person{Department: ExecutiveOffice, Level: 6, Title: "Executive Assistant"}})
	g.departments = []string{ExecutiveOffice}

	chosen := slices.Clone(departments)
	g.rng.Shuffle(len(chosen), func(i, j int) { chosen[i], chosen[j] = chosen[j], chosen[i] })
	chosen = chosen[:7+g.rng.IntN(5)]
	weights := make([]float64, len(chosen))
	total := 0.0
	for i, d := range chosen {
		weights[i] = d.weight * (0.7 + 0.6*g.rng.Float64())
		total += weights[i]
	}
	staff := n - len(g.people)
	sizes := make([]int, len(chosen))
	given := 0
	for i := range chosen {
		sizes[i] = max(3, int(float64(staff)*weights[i]/total))
		given += sizes[i]
	}
	// Rounding leaves a few people over (or short): the largest takes them.
	largest := 0
	for i := range sizes {
		if sizes[i] > sizes[largest] {
			largest = i
		}
	}
	sizes[largest] += staff - given
	order := make([]int, len(chosen))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return sizes[b] - sizes[a] })
	var quotas []expertQuota
	for _, i := range order {
		g.departments = append(g.departments, chosen[i].name)
		experts := sizes[i] * expertShare / 100
		g.addLine(chosen[i], sizes[i]-experts)
		quotas = append(quotas, expertQuota{chosen[i], experts})
	}
	return quotas
}

// addLine adds the head of a department under the CEO and size-1 people
// below, filled breadth first. The smallest span grows with the size so
// that no chain is longer than six below the head.
func (g *generator) addLine(d department, size int) {
	head := g.add(node{Person: Person{Department: d.name, Level: 11, Title: "VP " + d.name}, job: d.job})
	minSpan := max(3, int(math.Ceil(math.Pow(float64(size), 0.2))))
	queue := []int{head}
	for placed := 1; placed < size; queue = queue[1:] {
		manager := queue[0]
		for range min(minSpan+g.rng.IntN(5), size-placed) {
			queue = append(queue, g.add(node{Person: Person{Department: d.name}, manager: manager, job: d.job}))
			placed++
		}
	}
}

// addExperts adds n senior individual contributors (levels 8 and 9) to a
// described department, each reporting to one of its managers of level 9
// or more.
func (g *generator) addExperts(d department, n int) {
	var bosses []int
	for i, p := range g.people {
		if p.Department == d.name && p.reports > 0 && p.Level >= 9 {
			bosses = append(bosses, i)
		}
	}
	for range n {
		i := g.add(node{Person: Person{Department: d.name}, manager: bosses[g.rng.IntN(len(bosses))], job: d.job, expert: true})
		g.describe(i)
	}
}

// add appends a node (managed by the CEO unless said otherwise) and
// returns its index.
func (g *generator) add(n node) int {
	i := len(g.people)
	n.HRISID = fmt.Sprintf("D%05d", i+1)
	if i > 0 {
		g.people[n.manager].reports++
		n.ManagerHRISID = g.people[n.manager].HRISID
	}
	g.people = append(g.people, n)
	return i
}

// describe gives person i, whose manager is described already, a level,
// title, name, place and skills.
func (g *generator) describe(i int) {
	n := &g.people[i]
	if n.Level == 0 {
		boss := g.people[n.manager].Level
		if n.reports > 0 {
			// Ranks compress at the top: a senior manager may skip a level.
			drop := 1
			if boss >= 8 {
				drop += g.rng.IntN(2)
			}
			n.Level = max(2, boss-drop)
		} else if n.expert {
			n.Level = min(8+g.rng.IntN(2), boss-1)
		} else {
			n.Level = min(pick(g.rng, icLevels), boss-1)
		}
		n.Title = title(n.Level, n.reports > 0, n.Department, n.job)
	}
	first, last := firstNames[g.rng.IntN(len(firstNames))], lastNames[g.rng.IntN(len(lastNames))]
	n.DisplayName = first + " " + last
	n.Email = fmt.Sprintf("%s.%s.%d@demo.example", strings.ToLower(first), strings.ToLower(last), i+1)

	loc := g.location(i)
	n.Location, n.TimeZone = loc.name, loc.zone
	n.Languages = []string{loc.languages[0]}
	for _, l := range loc.languages[1:] {
		if g.rng.IntN(2) == 0 {
			n.Languages = append(n.Languages, l)
		}
	}
	if !slices.Contains(n.Languages, "en") && g.rng.Float64() < loc.english {
		n.Languages = append(n.Languages, "en")
	}

	tenureDays := 30 + g.rng.IntN(365*(1+n.Level))
	n.HireDate = g.today.AddDate(0, 0, -tenureDays)
	n.OnLeave = i > 0 && g.rng.Float64() < onLeaveShare

	digital, leadership := skillsOf(categoryDigital), skillsOf(categoryLeadership)
	switch {
	case n.Level <= 4:
		for _, s := range g.sample(digital, 1+g.rng.IntN(3)) {
			n.Competencies = append(n.Competencies, Competency{s, 2 + g.rng.IntN(4)})
		}
		for _, s := range g.sample(leadership, 1) {
			n.DevelopmentAreas = append(n.DevelopmentAreas, DevelopmentArea{s, 1, 3})
		}
	case n.Level <= 7:
		for _, s := range g.sample(digital, 1+g.rng.IntN(2)) {
			n.Competencies = append(n.Competencies, Competency{s, 2 + g.rng.IntN(3)})
		}
		for _, s := range g.sample(leadership, 1) {
			n.Competencies = append(n.Competencies, Competency{s, 2 + g.rng.IntN(2)})
		}
	default:
		for _, s := range g.sample(leadership, 1+g.rng.IntN(2)) {
			n.Competencies = append(n.Competencies, Competency{s, 3 + g.rng.IntN(3)})
		}
		for _, s := range g.sample(digital, 1+g.rng.IntN(3)) {
			current := 1 + g.rng.IntN(2)
			n.DevelopmentAreas = append(n.DevelopmentAreas, DevelopmentArea{s, current, min(5, current+2+g.rng.IntN(2))})
		}
	}
}

// location places the CEO in London or New York, and others with their
// manager's team four times in ten, else anywhere by office size.
func (g *generator) location(i int) location {
	if i == 0 {
		return locations[g.rng.IntN(2)]
	}
	if g.rng.Float64() < 0.4 {
		zone := g.people[g.people[i].manager].TimeZone
		for _, l := range locations {
			if l.zone == zone {
				return l
			}
		}
	}
	ws := make([]weighted[location], len(locations))
	for k, l := range locations {
		ws[k] = weighted[location]{l, l.weight}
	}
	return pick(g.rng, ws)
}

// enrol picks the cohort: mentees among the active seniors (levels 8–12),
// mentors among the active juniors (levels 1–4) with a digital skill at
// level 4 or 5, slightly more mentor capacity than mentees.
func (g *generator) enrol() {
	var seniors, juniors []int
	for i, n := range g.people {
		switch {
		case n.OnLeave:
		case n.Level >= 8:
			seniors = append(seniors, i)
		case n.Level <= 4 && strongDigital(n.Competencies):
			juniors = append(juniors, i)
		}
	}
	share := minEnrolledShare + (maxEnrolledShare-minEnrolledShare)*g.rng.Float64()
	enrolled := float64(len(g.people)) * share
	mentees := min(int(math.Round(enrolled*menteeShare)), len(seniors))
	mentors := min(int(math.Round(float64(mentees)*(1-menteeShare)/menteeShare)), len(juniors))
	// Some mentors take two mentees, so that capacity exceeds the mentees
	// by about five percent.
	doubles := min(mentors, max(0, mentees+mentees/20+1-mentors))

	g.rng.Shuffle(len(seniors), func(i, j int) { seniors[i], seniors[j] = seniors[j], seniors[i] })
	g.rng.Shuffle(len(juniors), func(i, j int) { juniors[i], juniors[j] = juniors[j], juniors[i] })
	for _, i := range seniors[:mentees] {
		n := &g.people[i]
		n.Role = RoleMentee
		n.Motivation = fmt.Sprintf("Understand how %s changes the work of my teams", displayName(n.DevelopmentAreas[0].SkillID))
		g.profile(n)
	}
	for k, i := range juniors[:mentors] {
		n := &g.people[i]
		n.Role = RoleMentor
		n.Capacity = 1
		if k < doubles {
			n.Capacity = 2
		}
		n.Motivation = fmt.Sprintf("Show leaders what %s makes possible, and learn how they lead", displayName(strongest(n.Competencies)))
		g.profile(n)
	}
}

func (g *generator) profile(n *node) {
	n.WorkStyle = workStyles[g.rng.IntN(len(workStyles))]
	n.CommunicationStyle = communicationStyles[g.rng.IntN(len(communicationStyles))]
	n.PreferredFormat = pick(g.rng, formats)
}

// sample returns k distinct ids of ids, in random order.
func (g *generator) sample(ids []string, k int) []string {
	out := slices.Clone(ids)
	g.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:min(k, len(out))]
}

// title names a level's job: individual contributors by seniority,
// managers by rank.
func title(level int, manager bool, dept, job string) string {
	if manager {
		switch {
		case level >= 10:
			return "Senior Director, " + dept
		case level == 9:
			return "Director, " + dept
		case level == 8:
			return "Senior Manager, " + dept
		default:
			return "Manager, " + dept
		}
	}
	switch {
	case level <= 2:
		return "Junior " + job
	case level <= 4:
		return job
	case level <= 6:
		return "Senior " + job
	case level == 7:
		return "Lead " + job
	default:
		return "Principal " + job
	}
}

func skillsOf(category string) []string {
	var ids []string
	for _, s := range Skills {
		if s.Category == category {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func displayName(id string) string {
	for _, s := range Skills {
		if s.ID == id {
			return s.DisplayName
		}
	}
	return id
}

// strongDigital reports whether cs hold a digital skill at level 4 or 5.
func strongDigital(cs []Competency) bool {
	for _, c := range cs {
		if c.Level >= 4 && slices.Contains(skillsOf(categoryDigital), c.SkillID) {
			return true
		}
	}
	return false
}

func strongest(cs []Competency) string {
	best := cs[0]
	for _, c := range cs[1:] {
		if c.Level > best.Level {
			best = c
		}
	}
	return best.SkillID
}

// weighted is a choice with its relative weight.
type weighted[T any] struct {
	value  T
	weight float64
}

func pick[T any](rng *rand.Rand, ws []weighted[T]) T {
	total := 0.0
	for _, w := range ws {
		total += w.weight
	}
	x := rng.Float64() * total
	for _, w := range ws {
		if x < w.weight {
			return w.value
		}
		x -= w.weight
	}
	return ws[len(ws)-1].value
}

// Count returns how many people have role ("" counts everyone).
func (o *Org) Count(role string) int {
	if role == "" {
		return len(o.People)
	}
	n := 0
	for _, p := range o.People {
		if p.Role == role {
			n++
		}
	}
	return n
}

// TimeZones returns the distinct time zones of the people, sorted.
func (o *Org) TimeZones() []string {
	var zones []string
	for _, p := range o.People {
		zones = append(zones, p.TimeZone)
	}
	slices.Sort(zones)
	return slices.Compact(zones)
}

// DirectoryCSV is the HRIS export of everyone, for an import without a
// program: a manager's row comes before their reports'.
func (o *Org) DirectoryCSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"hris_id", "display_name", "email", "department", "title", "seniority_level", "manager_hris_id",
		"hire_date", "location", "time_zone", "languages", "employment_status"})
	for _, p := range o.People {
		status := "active"
		if p.OnLeave {
			status = "leave"
		}
		_ = w.Write([]string{p.HRISID, p.DisplayName, p.Email, p.Department, p.Title, strconv.Itoa(p.Level), p.ManagerHRISID,
			p.HireDate.Format(time.DateOnly), p.Location, p.TimeZone, strings.Join(p.Languages, "|"), status})
	}
	w.Flush()
	return b.Bytes()
}

// EnrolmentCSV is the enrolment of the cohort, for an import into the
// program once DirectoryCSV is imported: mentors with their competencies
// and capacity, mentees with their development areas.
func (o *Org) EnrolmentCSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"hris_id", "role", "competencies", "development_areas", "work_style", "communication_style",
		"motivation", "preferred_format", "capacity"})
	for _, p := range o.People {
		if p.Role == "" {
			continue
		}
		capacity := ""
		if p.Role == RoleMentor {
			capacity = strconv.Itoa(p.Capacity)
		}
		_ = w.Write([]string{p.HRISID, p.Role, competencies(p.Competencies), developmentAreas(p.DevelopmentAreas), p.WorkStyle,
			p.CommunicationStyle, p.Motivation, p.PreferredFormat, capacity})
	}
	w.Flush()
	return b.Bytes()
}

// competencies writes "skill:level|skill:level".
func competencies(cs []Competency) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s:%d", c.SkillID, c.Level)
	}
	return strings.Join(parts, "|")
}

// developmentAreas writes "skill:current:target|...".
func developmentAreas(ds []DevelopmentArea) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%s:%d:%d", d.SkillID, d.CurrentLevel, d.TargetLevel)
	}
	return strings.Join(parts, "|")
}
