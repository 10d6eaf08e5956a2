// Package csvimport reads an HRIS export in CSV into import records: it
// detects the delimiter, maps the header to Tandem field names and checks
// every value of every row, so that a row is either a Record ready to apply
// or a RejectedRow that says precisely which field is wrong and why.
//
// Quoting follows RFC 4180 through encoding/csv. Row numbers are those a
// spreadsheet shows: the header is row 1, a quoted field with line breaks
// stays one row, and a blank line counts as a row (it is never data).
//
// The package knows nothing of the directory or of programs: whether a
// manager, a skill or a person exists is decided when rows are applied.
package csvimport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Person fields.
const (
	FieldHRISID           = "hris_id"
	FieldDisplayName      = "display_name"
	FieldEmail            = "email"
	FieldDepartment       = "department"
	FieldTitle            = "title"
	FieldSeniorityLevel   = "seniority_level"
	FieldManagerHRISID    = "manager_hris_id"
	FieldHireDate         = "hire_date"
	FieldPromotionDate    = "promotion_date"
	FieldLocation         = "location"
	FieldTimeZone         = "time_zone"
	FieldLanguages        = "languages"
	FieldEmploymentStatus = "employment_status"
	FieldSubject          = "subject"
)

// Enrolment fields, read only for an import into a program.
const (
	FieldRole               = "role"
	FieldCompetencies       = "competencies"
	FieldDevelopmentAreas   = "development_areas"
	FieldWorkStyle          = "work_style"
	FieldCommunicationStyle = "communication_style"
	FieldMotivation         = "motivation"
	FieldPreferredFormat    = "preferred_format"
	FieldCapacity           = "capacity"
)

// PersonFields and EnrolmentFields list the field names a column can map to.
var (
	PersonFields = []string{FieldHRISID, FieldDisplayName, FieldEmail, FieldDepartment, FieldTitle, FieldSeniorityLevel,
		FieldManagerHRISID, FieldHireDate, FieldPromotionDate, FieldLocation, FieldTimeZone, FieldLanguages,
		FieldEmploymentStatus, FieldSubject}
	EnrolmentFields = []string{FieldRole, FieldCompetencies, FieldDevelopmentAreas, FieldWorkStyle,
		FieldCommunicationStyle, FieldMotivation, FieldPreferredFormat, FieldCapacity}
)

// Options say how to read a file.
type Options struct {
	// Delimiter is ',' or ';'; 0 detects it from the header line.
	Delimiter rune
	// Mapping maps header names of the file (compared trimmed and
	// case-insensitively) to field names; an empty field name ignores the
	// column. A header equal to a field name needs no entry. Check it with
	// CheckMapping first: Parse treats a bad mapping as an unusable file.
	Mapping map[string]string
	// Enrolment reads the enrolment fields too (an import into a program).
	// Without it, columns named like enrolment fields are ignored.
	Enrolment bool
}

// Problem is one reason a row is refused: the field at fault (empty for the
// whole row) and why.
type Problem struct {
	Field  string
	Reason string
}

// RejectedRow is a data row that cannot be imported.
type RejectedRow struct {
	Row      int
	Problems []Problem
}

// Competency is a skill a mentor offers, "skill:level".
type Competency struct {
	SkillID string
	Level   int
}

// DevelopmentArea is a skill a mentee wants to grow, "skill:current:target"
// or "skill:target" (current 0: not assessed).
type DevelopmentArea struct {
	SkillID      string
	CurrentLevel int
	TargetLevel  int
}

// Record is a data row whose values are all well-formed. Only the fields
// in File.Columns were read; the others are zero.
type Record struct {
	Row                int
	HRISID             string
	DisplayName        string
	Email              string
	Department         string
	Title              string
	SeniorityLevel     int
	ManagerHRISID      string
	HireDate           string
	PromotionDate      string
	Location           string
	TimeZone           string
	Languages          []string
	EmploymentStatus   string // "active", "leave", "terminated" or "" (not given)
	Subject            string
	Role               string // "mentor", "mentee" or "" (not given)
	Competencies       []Competency
	DevelopmentAreas   []DevelopmentArea
	WorkStyle          string
	CommunicationStyle string
	Motivation         string
	PreferredFormat    string // "in_person", "remote", "hybrid" or ""
	Capacity           int
}

// File is a parsed file. Every data row is in exactly one of Records and
// Rejected, each in row order, so len(Records)+len(Rejected) == DataRows.
type File struct {
	// Delimiter is the one used, given or detected.
	Delimiter rune
	// Columns holds the fields the file has a column for.
	Columns map[string]bool
	// DataRows counts the rows after the header, blank ones excluded.
	DataRows int
	Records  []Record
	Rejected []RejectedRow
	// FirstRow maps each HRIS id of the file to the first row that has it,
	// valid or not, so a reference to a refused row can say which one.
	FirstRow map[string]int
}

// Has reports whether the file has a column for field.
func (f *File) Has(field string) bool { return f.Columns[field] }

// FileError says why a whole file cannot be imported: no usable header.
type FileError struct{ Reason string }

func (e *FileError) Error() string { return e.Reason }

// ErrUnusableFile matches every *FileError with errors.Is.
var ErrUnusableFile = errors.New("csvimport: unusable file")

// Is makes errors.Is(err, ErrUnusableFile) true.
func (e *FileError) Is(target error) bool { return target == ErrUnusableFile }

func fileErrorf(format string, args ...any) error {
	return &FileError{Reason: fmt.Sprintf(format, args...)}
}

// CheckMapping validates a column mapping without the file and returns one
// message per problem: a target that is not a field, an enrolment field in
// an import without a program, an empty header name.
func CheckMapping(mapping map[string]string, enrolment bool) []string {
	var problems []string
	for _, header := range slices.Sorted(maps.Keys(mapping)) {
		field := normalize(mapping[header])
		switch {
		case normalize(header) == "":
			problems = append(problems, "a header name is empty")
		case field == "":
			// Ignores the column.
		case slices.Contains(EnrolmentFields, field) && !enrolment:
			problems = append(problems, fmt.Sprintf("%q maps to %q, an enrolment field: set program_id to enrol people", header, field))
		case !slices.Contains(PersonFields, field) && !slices.Contains(EnrolmentFields, field):
			problems = append(problems, fmt.Sprintf("%q maps to unknown field %q; fields are %s", header, mapping[header],
				strings.Join(append(slices.Clone(PersonFields), EnrolmentFields...), ", ")))
		}
	}
	return problems
}

func normalize(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Parse reads data with opts. It fails only when the file as a whole cannot
// be imported (an error matching ErrUnusableFile: empty, no hris_id column,
// a bad or ambiguous mapping); a bad row is a RejectedRow.
func Parse(data []byte, opts Options) (*File, error) {
	if problems := CheckMapping(opts.Mapping, opts.Enrolment); len(problems) > 0 {
		return nil, fileErrorf("column_mapping: %s", strings.Join(problems, "; "))
	}
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return nil, fileErrorf("the file is UTF-16; export it as CSV UTF-8")
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fileErrorf("the file is empty; it needs a header line and data rows")
	}
	delim := opts.Delimiter
	if delim == 0 {
		delim = detectDelimiter(data)
	}
	if delim != ',' && delim != ';' {
		return nil, fileErrorf("delimiter %q: use \",\" or \";\"", delim)
	}

	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = delim
	r.LazyQuotes = false
	r.FieldsPerRecord = -1 // field counts are checked per row, to reject only that row
	r.TrimLeadingSpace = true

	header, err := r.Read()
	if err != nil {
		return nil, fileErrorf("the header line cannot be read: %v", err)
	}
	cols, err := mapHeader(header, opts)
	if err != nil {
		return nil, err
	}
	f := &File{Delimiter: delim, Columns: map[string]bool{}, FirstRow: map[string]int{}}
	for _, c := range cols {
		if c.field != "" {
			f.Columns[c.field] = true
		}
	}
	p := rowParser{cols: cols, delim: delim, zones: map[string]bool{}}
	// extra counts the line breaks inside quoted fields so far: a
	// spreadsheet shows such a record as one row.
	extra := headerLineBreaks(header)
	for {
		offset := r.InputOffset()
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			row := pe.StartLine - extra
			extra += pe.Line - pe.StartLine
			f.DataRows++
			unclosed := pe.Line > pe.StartLine && r.InputOffset() == int64(len(data))
			f.Rejected = append(f.Rejected, RejectedRow{Row: row, Problems: []Problem{{Reason: quoteProblem(pe, unclosed)}}})
			if r.InputOffset() == offset {
				break // no progress: never loop on the same input
			}
			continue
		}
		if err != nil {
			return nil, fileErrorf("the file cannot be read: %v", err)
		}
		line, _ := r.FieldPos(0)
		row := line - extra
		for _, v := range rec {
			extra += strings.Count(v, "\n")
		}
		if blank(rec) {
			continue
		}
		f.DataRows++
		p.parse(f, row, rec)
	}
	return f, nil
}

// column is one column of the file and the field it feeds ("" ignored).
type column struct {
	header string
	field  string
}

// mapHeader assigns a field to each column. An explicit mapping wins over a
// header that is itself a field name; two columns feeding one field make
// the file ambiguous.
func mapHeader(header []string, opts Options) ([]column, error) {
	mapping := make(map[string]string, len(opts.Mapping))
	for h, field := range opts.Mapping {
		mapping[normalize(h)] = normalize(field)
	}
	known := func(field string) bool {
		return slices.Contains(PersonFields, field) || (opts.Enrolment && slices.Contains(EnrolmentFields, field))
	}
	cols := make([]column, len(header))
	mapped := map[string]bool{} // fields fed by an explicit mapping
	seenHeader := map[string]bool{}
	for i, h := range header {
		name := normalize(h)
		cols[i].header = strings.TrimSpace(h)
		seenHeader[name] = true
		if field, ok := mapping[name]; ok {
			cols[i].field = field
			if field != "" {
				mapped[field] = true
			}
		}
	}
	for i, h := range header {
		name := normalize(h)
		if _, ok := mapping[name]; !ok && known(name) && !mapped[name] {
			cols[i].field = name
		}
	}
	for _, h := range slices.Sorted(maps.Keys(opts.Mapping)) {
		if !seenHeader[normalize(h)] {
			return nil, fileErrorf("column_mapping names the header %q, which the file does not have (headers: %s)", h, headerList(header))
		}
	}
	first := map[string]int{}
	for i, c := range cols {
		if c.field == "" {
			continue
		}
		if j, ok := first[c.field]; ok {
			return nil, fileErrorf("columns %d (%q) and %d (%q) both map to %s; keep one or map the other elsewhere",
				j+1, cols[j].header, i+1, c.header, c.field)
		}
		first[c.field] = i
	}
	if _, ok := first[FieldHRISID]; !ok {
		return nil, fileErrorf("the file has no hris_id column (headers: %s); name the column hris_id or map it with column_mapping", headerList(header))
	}
	return cols, nil
}

func headerList(header []string) string {
	const maxShown = 20
	quoted := make([]string, 0, min(len(header), maxShown))
	for _, h := range header[:min(len(header), maxShown)] {
		quoted = append(quoted, fmt.Sprintf("%q", strings.ToValidUTF8(h, "\uFFFD")))
	}
	if len(header) > maxShown {
		quoted = append(quoted, fmt.Sprintf("and %d more", len(header)-maxShown))
	}
	return strings.Join(quoted, ", ")
}

// detectDelimiter picks the more frequent of ',' and ';' outside quotes on
// the header line; a one-column file reads the same with either.
func detectDelimiter(data []byte) rune {
	commas, semicolons := 0, 0
	quoted := false
	for _, c := range data {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\n':
			if semicolons > commas {
				return ';'
			}
			return ','
		case c == ',':
			commas++
		case c == ';':
			semicolons++
		}
	}
	if semicolons > commas {
		return ';'
	}
	return ','
}

func headerLineBreaks(header []string) int {
	n := 0
	for _, h := range header {
		n += strings.Count(h, "\n")
	}
	return n
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// quoteProblem explains a quoting error in words a spreadsheet user knows.
// unclosed says the reader ran to the end of the file inside the value.
func quoteProblem(pe *csv.ParseError, unclosed bool) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf("a quote (\") inside an unquoted value at character %d of the line; quote the whole value and double the quotes inside it", pe.Column)
	case unclosed:
		return "a quoted value that starts in this row is never closed, so the rest of the file was read into it; every value that opens with \" must close with \""
	case pe.Line > pe.StartLine:
		return fmt.Sprintf("a quoted value must be followed by the delimiter or the end of the line (character %d of line %d of the file); double the quotes inside it",
			pe.Column, pe.Line)
	default:
		return fmt.Sprintf("a quoted value must be followed by the delimiter or the end of the line (character %d of the line); double the quotes inside it", pe.Column)
	}
}
