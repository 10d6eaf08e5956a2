package csvimport

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the API's own validation, so an import never stores what
// CreatePerson or EnrollParticipant would refuse.
const (
	maxHRISID         = 128
	maxName           = 200
	maxEmail          = 320
	maxTimeZone       = 64
	maxSubject        = 255
	maxStyle          = 64
	maxMotivation     = 2000
	maxLanguages      = 20
	maxSkills         = 50
	maxSeniority      = 12
	maxCapacity       = 50
	maxLevel          = 5
	maxSkillID        = 64
	maxLanguageTagLen = 35
)

// rowParser turns the fields of one data row into a Record or a
// RejectedRow.
type rowParser struct {
	cols  []column
	delim rune
	// zones caches time zone look-ups: time.LoadLocation reads the zone
	// database on every call, and a file repeats a handful of zones.
	zones map[string]bool
}

func (p *rowParser) parse(f *File, row int, fields []string) {
	if len(fields) != len(p.cols) {
		f.Rejected = append(f.Rejected, RejectedRow{Row: row, Problems: []Problem{{Reason: fmt.Sprintf(
			"the row has %d fields but the header has %d; check the delimiter (%q) and the quoting", len(fields), len(p.cols), p.delim)}}})
		return
	}
	rec := Record{Row: row}
	var problems []Problem
	hrisBad := false
	for i, c := range p.cols {
		if c.field == "" {
			continue
		}
		reason := ""
		if !utf8.ValidString(fields[i]) {
			reason = "not valid UTF-8; export the file as CSV UTF-8"
		} else {
			reason = p.set(&rec, c.field, fields[i])
		}
		if reason != "" {
			problems = append(problems, Problem{Field: c.field, Reason: reason})
			hrisBad = hrisBad || c.field == FieldHRISID
		}
	}
	switch {
	case hrisBad:
	case rec.HRISID == "":
		problems = append([]Problem{{Field: FieldHRISID, Reason: "required: every row needs the person's HRIS id"}}, problems...)
	default:
		if first, ok := f.FirstRow[rec.HRISID]; ok {
			problems = append([]Problem{{Field: FieldHRISID, Reason: fmt.Sprintf("duplicate hris_id, first seen in row %d", first)}}, problems...)
		} else {
			f.FirstRow[rec.HRISID] = row
		}
		if rec.ManagerHRISID == rec.HRISID {
			problems = append(problems, Problem{Field: FieldManagerHRISID, Reason: "a person cannot be their own manager"})
		}
	}
	if len(problems) > 0 {
		f.Rejected = append(f.Rejected, RejectedRow{Row: row, Problems: problems})
		return
	}
	f.Records = append(f.Records, rec)
}

// set stores the value of one field in rec, or returns why it is wrong.
func (p *rowParser) set(rec *Record, field, raw string) string {
	v := strings.TrimSpace(raw)
	if reason := controlCharacter(v, field == FieldMotivation); reason != "" {
		return reason
	}
	var reason string
	switch field {
	case FieldHRISID:
		rec.HRISID, reason = text(v, maxHRISID)
	case FieldDisplayName:
		rec.DisplayName, reason = text(v, maxName)
	case FieldEmail:
		rec.Email, reason = email(v)
	case FieldDepartment:
		rec.Department, reason = text(v, maxName)
	case FieldTitle:
		rec.Title, reason = text(v, maxName)
	case FieldSeniorityLevel:
		rec.SeniorityLevel, reason = integer(v, 0, maxSeniority)
	case FieldManagerHRISID:
		rec.ManagerHRISID, reason = text(v, maxHRISID)
	case FieldHireDate:
		rec.HireDate, reason = date(v)
	case FieldPromotionDate:
		rec.PromotionDate, reason = date(v)
	case FieldLocation:
		rec.Location, reason = text(v, maxName)
	case FieldTimeZone:
		rec.TimeZone, reason = p.timeZone(v)
	case FieldLanguages:
		rec.Languages, reason = languages(v)
	case FieldEmploymentStatus:
		rec.EmploymentStatus, reason = oneOf(strings.ToLower(v), "active", "leave", "terminated")
	case FieldSubject:
		rec.Subject, reason = text(v, maxSubject)
	case FieldRole:
		rec.Role, reason = oneOf(strings.ToLower(v), "mentor", "mentee")
	case FieldCompetencies:
		rec.Competencies, reason = competencies(v)
	case FieldDevelopmentAreas:
		rec.DevelopmentAreas, reason = developmentAreas(v)
	case FieldWorkStyle:
		rec.WorkStyle, reason = text(v, maxStyle)
	case FieldCommunicationStyle:
		rec.CommunicationStyle, reason = text(v, maxStyle)
	case FieldMotivation:
		rec.Motivation, reason = text(v, maxMotivation)
	case FieldPreferredFormat:
		format := strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(v))
		rec.PreferredFormat, reason = oneOf(format, "in_person", "remote", "hybrid")
	case FieldCapacity:
		rec.Capacity, reason = integer(v, 0, maxCapacity)
	}
	return reason
}

// controlCharacter refuses control characters (PostgreSQL cannot even store
// NUL); only the free-text motivation may contain line breaks and tabs.
func controlCharacter(v string, multiline bool) string {
	for _, r := range v {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if r == '\n' || r == '\r' {
			return "contains a line break; only motivation may span lines"
		}
		if r < 0x20 || r == 0x7F {
			return fmt.Sprintf("contains the control character U+%04X; remove it", r)
		}
	}
	return ""
}

func text(v string, maxLen int) (string, string) {
	if n := utf8.RuneCountInString(v); n > maxLen {
		return "", fmt.Sprintf("%d characters, at most %d allowed", n, maxLen)
	}
	return v, ""
}

func email(v string) (string, string) {
	if v == "" {
		return "", ""
	}
	if _, reason := text(v, maxEmail); reason != "" {
		return "", reason
	}
	if addr, err := mail.ParseAddress(v); err != nil || addr.Address != v || !strings.Contains(v, "@") {
		return "", fmt.Sprintf("%q is not an email address", v)
	}
	return v, ""
}

func integer(v string, lo, hi int) (int, string) {
	if v == "" {
		return 0, ""
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Sprintf("%q is not a whole number from %d to %d", v, lo, hi)
	}
	return n, ""
}

func date(v string) (string, string) {
	if v == "" {
		return "", ""
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return "", fmt.Sprintf("%q is not a date YYYY-MM-DD, e.g. 2021-04-01", v)
	}
	return v, ""
}

func (p *rowParser) timeZone(v string) (string, string) {
	if v == "" {
		return "", ""
	}
	valid, seen := p.zones[v]
	if !seen {
		_, err := time.LoadLocation(v)
		valid = err == nil && v != "Local" && utf8.RuneCountInString(v) <= maxTimeZone
		p.zones[v] = valid
	}
	if !valid {
		return "", fmt.Sprintf("unknown IANA time zone %q; use a name such as Europe/London", v)
	}
	return v, ""
}

func oneOf(v string, allowed ...string) (string, string) {
	if v == "" {
		return "", ""
	}
	for _, a := range allowed {
		if v == a {
			return v, ""
		}
	}
	return "", fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", "))
}

// items splits a '|'-separated list, dropping empty items.
func items(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, "|") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func languages(v string) ([]string, string) {
	tags := items(v)
	if len(tags) > maxLanguages {
		return nil, fmt.Sprintf("%d languages, at most %d allowed", len(tags), maxLanguages)
	}
	seen := map[string]bool{}
	for _, tag := range tags {
		if !languageTag(tag) {
			return nil, fmt.Sprintf("%q is not a language tag such as en or pt-BR (separate languages with |)", tag)
		}
		if seen[strings.ToLower(tag)] {
			return nil, fmt.Sprintf("%q is listed twice", tag)
		}
		seen[strings.ToLower(tag)] = true
	}
	return tags, ""
}

// languageTag accepts the shape of a BCP 47 tag: letters, digits and '-',
// starting with a letter, 2 to 35 characters.
func languageTag(tag string) bool {
	if len(tag) < 2 || len(tag) > maxLanguageTagLen || !isLetter(tag[0]) {
		return false
	}
	for i := range len(tag) {
		c := tag[i]
		if !isLetter(c) && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// skillID checks the shape of a catalogue id (lowercase letters, digits,
// '.', '_', '-', starting with a letter); ids are compared lowercased.
func skillID(raw string) (string, string) {
	id := strings.ToLower(strings.TrimSpace(raw))
	ok := id != "" && len(id) <= maxSkillID && id[0] >= 'a' && id[0] <= 'z'
	for i := range len(id) {
		c := id[i]
		ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
	}
	if !ok {
		return "", fmt.Sprintf("%q is not a skill id (lowercase letters, digits, '.', '_' or '-')", raw)
	}
	return id, ""
}

func level(v string, lo int) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	return n, err == nil && n >= lo && n <= maxLevel
}

func competencies(v string) ([]Competency, string) {
	list := items(v)
	if len(list) > maxSkills {
		return nil, fmt.Sprintf("%d skills, at most %d allowed", len(list), maxSkills)
	}
	var out []Competency
	seen := map[string]bool{}
	for _, item := range list {
		parts := strings.Split(item, ":")
		if len(parts) != 2 {
			return nil, fmt.Sprintf("%q: write skill:level, e.g. genai:4 (separate skills with |)", item)
		}
		id, reason := skillID(parts[0])
		if reason != "" {
			return nil, reason
		}
		lvl, ok := level(parts[1], 1)
		if !ok {
			return nil, fmt.Sprintf("%q: the level must be a whole number from 1 to 5", item)
		}
		if seen[id] {
			return nil, fmt.Sprintf("skill %q is listed twice", id)
		}
		seen[id] = true
		out = append(out, Competency{SkillID: id, Level: lvl})
	}
	return out, ""
}

func developmentAreas(v string) ([]DevelopmentArea, string) {
	list := items(v)
	if len(list) > maxSkills {
		return nil, fmt.Sprintf("%d skills, at most %d allowed", len(list), maxSkills)
	}
	var out []DevelopmentArea
	seen := map[string]bool{}
	for _, item := range list {
		parts := strings.Split(item, ":")
		if len(parts) != 2 && len(parts) != 3 {
			return nil, fmt.Sprintf("%q: write skill:current:target or skill:target, e.g. genai:1:4 (separate skills with |)", item)
		}
		id, reason := skillID(parts[0])
		if reason != "" {
			return nil, reason
		}
		area := DevelopmentArea{SkillID: id}
		ok := true
		if len(parts) == 3 {
			area.CurrentLevel, ok = level(parts[1], 0)
		}
		target, targetOK := level(parts[len(parts)-1], 1)
		area.TargetLevel = target
		switch {
		case !ok:
			return nil, fmt.Sprintf("%q: the current level must be a whole number from 0 to 5", item)
		case !targetOK:
			return nil, fmt.Sprintf("%q: the target level must be a whole number from 1 to 5", item)
		case area.CurrentLevel > area.TargetLevel:
			return nil, fmt.Sprintf("%q: the target level is below the current level", item)
		case seen[id]:
			return nil, fmt.Sprintf("skill %q is listed twice", id)
		}
		seen[id] = true
		out = append(out, area)
	}
	return out, ""
}
