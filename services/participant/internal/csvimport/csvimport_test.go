package csvimport_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/services/participant/internal/csvimport"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		data string
		opts csvimport.Options
		want *csvimport.File
	}{
		{
			name: "BOM and comma",
			data: "\xEF\xBB\xBFhris_id,display_name,seniority_level\r\nE1,Ada Lovelace,9\r\nE2,Bob,\r\n",
			want: &csvimport.File{Delimiter: ',', Columns: cols("hris_id", "display_name", "seniority_level"), DataRows: 2,
				Records:  []csvimport.Record{{Row: 2, HRISID: "E1", DisplayName: "Ada Lovelace", SeniorityLevel: 9}, {Row: 3, HRISID: "E2", DisplayName: "Bob"}},
				FirstRow: map[string]int{"E1": 2, "E2": 3}},
		},
		{
			name: "semicolon detected, comma inside a value",
			data: "hris_id;display_name;languages;time_zone\nE1;Lovelace, Ada;en|de| ;Europe/London\n",
			want: &csvimport.File{Delimiter: ';', Columns: cols("hris_id", "display_name", "languages", "time_zone"), DataRows: 1,
				Records:  []csvimport.Record{{Row: 2, HRISID: "E1", DisplayName: "Lovelace, Ada", Languages: []string{"en", "de"}, TimeZone: "Europe/London"}},
				FirstRow: map[string]int{"E1": 2}},
		},
		{
			name: "given delimiter wins over detection",
			data: "hris_id;display_name,x\nE1;Ada,y\n",
			opts: csvimport.Options{Delimiter: ';'},
			want: &csvimport.File{Delimiter: ';', Columns: cols("hris_id"), DataRows: 1,
				Records: []csvimport.Record{{Row: 2, HRISID: "E1"}}, FirstRow: map[string]int{"E1": 2}},
		},
		{
			name: "quoted line breaks, quotes and delimiters keep spreadsheet row numbers",
			data: "hris_id,motivation,display_name\n" +
				"E1,\"Head of\nAI, Data\",Ada\n" + // row 2 spans two lines
				"E2,\"The \"\"boss\"\"\",Bob\n" + // row 3
				"\n" + // row 4: blank, not data
				"E3,,Cy,extra\n" + // row 5: too many fields
				"E4,Dev,Di\n", // row 6
			opts: csvimport.Options{Enrolment: true},
			want: &csvimport.File{Delimiter: ',', Columns: cols("hris_id", "motivation", "display_name"), DataRows: 4,
				Records: []csvimport.Record{
					{Row: 2, HRISID: "E1", Motivation: "Head of\nAI, Data", DisplayName: "Ada"},
					{Row: 3, HRISID: "E2", Motivation: `The "boss"`, DisplayName: "Bob"},
					{Row: 6, HRISID: "E4", Motivation: "Dev", DisplayName: "Di"},
				},
				Rejected: []csvimport.RejectedRow{{Row: 5, Problems: []csvimport.Problem{{Reason: "the row has 4 fields but the header has 3; check the delimiter (',') and the quoting"}}}},
				FirstRow: map[string]int{"E1": 2, "E2": 3, "E4": 6}},
		},
		{
			name: "mapping: trimmed, case-insensitive, wins over a field-named header, empty target ignores",
			data: "Employee ID, MAIL ,email,Dept,Notes\nE1,ada@acme.example,old@acme.example,R&D,whatever\n",
			opts: csvimport.Options{Mapping: map[string]string{"employee id": "hris_id", "Mail": "Email", "dept": ""}},
			want: &csvimport.File{Delimiter: ',', Columns: cols("hris_id", "email"), DataRows: 1,
				Records: []csvimport.Record{{Row: 2, HRISID: "E1", Email: "ada@acme.example"}}, FirstRow: map[string]int{"E1": 2}},
		},
		{
			name: "enrolment columns are ignored without a program",
			data: "hris_id,role,competencies\nE1,boss,genai:9\n",
			want: &csvimport.File{Delimiter: ',', Columns: cols("hris_id"), DataRows: 1,
				Records: []csvimport.Record{{Row: 2, HRISID: "E1"}}, FirstRow: map[string]int{"E1": 2}},
		},
		{
			name: "enrolment fields",
			data: "hris_id,role,competencies,development_areas,preferred_format,capacity,motivation\n" +
				"E1,Mentor,GenAI:4|python:3,,In-Person,2,\"Give back\n\tto juniors\"\n" +
				"E2,,,genai:1:4|sql:3,remote,,\n",
			opts: csvimport.Options{Enrolment: true},
			want: &csvimport.File{Delimiter: ',', DataRows: 2,
				Columns: cols("hris_id", "role", "competencies", "development_areas", "preferred_format", "capacity", "motivation"),
				Records: []csvimport.Record{
					{Row: 2, HRISID: "E1", Role: "mentor", Competencies: []csvimport.Competency{{SkillID: "genai", Level: 4}, {SkillID: "python", Level: 3}},
						PreferredFormat: "in_person", Capacity: 2, Motivation: "Give back\n\tto juniors"},
					{Row: 3, HRISID: "E2", DevelopmentAreas: []csvimport.DevelopmentArea{{SkillID: "genai", CurrentLevel: 1, TargetLevel: 4}, {SkillID: "sql", TargetLevel: 3}},
						PreferredFormat: "remote"},
				},
				FirstRow: map[string]int{"E1": 2, "E2": 3}},
		},
		{
			name: "bad rows name the row, the field and the reason",
			data: "hris_id,email,time_zone,hire_date,seniority_level,manager_hris_id,languages,employment_status\n" +
				"E1,ada@acme.example,Europe/London,2020-01-31,9,,en|de,active\n" + // 2 valid
				"E2,not-an-email,Europe/Atlantis,31.01.2020,13,,en,fired\n" + // 3
				",x@acme.example,UTC,,,,,\n" + // 4
				"E1,dup@acme.example,UTC,,,,,\n" + // 5
				"E5,e5@acme.example,UTC,,,E5,e|en|en,\n" + // 6
				"E6,e6@acme.example,Local,2021-02-30,,,,\n" + // 7
				"E7,\"a\x00b@acme.example\",UTC,,,,,\n" + // 8
				"E8,caf\xe9@acme.example,UTC,,,,,\n" + // 9 (Latin-1)
				"E9,\"bad\"quote,UTC,,,,,\n" + // 10
				"E10,ba\"d,UTC,,,,,\n" + // 11
				"E11,\"Ada\nLovelace\"@acme.example,UTC,,,,,\n" + // 12
				"E12,e12@acme.example,UTC,,,,,\n", // 13
			want: &csvimport.File{Delimiter: ',', DataRows: 12,
				Columns: cols("hris_id", "email", "time_zone", "hire_date", "seniority_level", "manager_hris_id", "languages", "employment_status"),
				Records: []csvimport.Record{{Row: 2, HRISID: "E1", Email: "ada@acme.example", TimeZone: "Europe/London", HireDate: "2020-01-31",
					SeniorityLevel: 9, Languages: []string{"en", "de"}, EmploymentStatus: "active"},
					{Row: 13, HRISID: "E12", Email: "e12@acme.example", TimeZone: "UTC"}},
				Rejected: []csvimport.RejectedRow{
					{Row: 3, Problems: []csvimport.Problem{
						{Field: "email", Reason: `"not-an-email" is not an email address`},
						{Field: "time_zone", Reason: `unknown IANA time zone "Europe/Atlantis"; use a name such as Europe/London`},
						{Field: "hire_date", Reason: `"31.01.2020" is not a date YYYY-MM-DD, e.g. 2021-04-01`},
						{Field: "seniority_level", Reason: `"13" is not a whole number from 0 to 12`},
						{Field: "employment_status", Reason: `"fired" is not one of active, leave, terminated`},
					}},
					{Row: 4, Problems: []csvimport.Problem{{Field: "hris_id", Reason: "required: every row needs the person's HRIS id"}}},
					{Row: 5, Problems: []csvimport.Problem{{Field: "hris_id", Reason: "duplicate hris_id, first seen in row 2"}}},
					{Row: 6, Problems: []csvimport.Problem{
						{Field: "languages", Reason: `"e" is not a language tag such as en or pt-BR (separate languages with |)`},
						{Field: "manager_hris_id", Reason: "a person cannot be their own manager"},
					}},
					{Row: 7, Problems: []csvimport.Problem{
						{Field: "time_zone", Reason: `unknown IANA time zone "Local"; use a name such as Europe/London`},
						{Field: "hire_date", Reason: `"2021-02-30" is not a date YYYY-MM-DD, e.g. 2021-04-01`},
					}},
					{Row: 8, Problems: []csvimport.Problem{{Field: "email", Reason: "contains the control character U+0000; remove it"}}},
					{Row: 9, Problems: []csvimport.Problem{{Field: "email", Reason: "not valid UTF-8; export the file as CSV UTF-8"}}},
					{Row: 10, Problems: []csvimport.Problem{{Reason: `a quoted value must be followed by the delimiter or the end of the line (character 8 of the line); double the quotes inside it`}}},
					{Row: 11, Problems: []csvimport.Problem{{Reason: `a quote (") inside an unquoted value at character 7 of the line; quote the whole value and double the quotes inside it`}}},
					{Row: 12, Problems: []csvimport.Problem{{Reason: `a quoted value must be followed by the delimiter or the end of the line (character 9 of line 13 of the file); double the quotes inside it`}}},
				},
				FirstRow: map[string]int{"E1": 2, "E2": 3, "E5": 6, "E6": 7, "E7": 8, "E8": 9, "E12": 13}},
		},
		{
			name: "bad enrolment values",
			data: "hris_id,role,competencies,development_areas,capacity,preferred_format\n" +
				"E1,boss,genai:6,genai:4:2,51,zoom\n" +
				"E2,,genai:4|genai:3,Gen AI:3,,\n",
			opts: csvimport.Options{Enrolment: true},
			want: &csvimport.File{Delimiter: ',', DataRows: 2,
				Columns: cols("hris_id", "role", "competencies", "development_areas", "capacity", "preferred_format"),
				Rejected: []csvimport.RejectedRow{
					{Row: 2, Problems: []csvimport.Problem{
						{Field: "role", Reason: `"boss" is not one of mentor, mentee`},
						{Field: "competencies", Reason: `"genai:6": the level must be a whole number from 1 to 5`},
						{Field: "development_areas", Reason: `"genai:4:2": the target level is below the current level`},
						{Field: "capacity", Reason: `"51" is not a whole number from 0 to 50`},
						{Field: "preferred_format", Reason: `"zoom" is not one of in_person, remote, hybrid`},
					}},
					{Row: 3, Problems: []csvimport.Problem{
						{Field: "competencies", Reason: `skill "genai" is listed twice`},
						{Field: "development_areas", Reason: `"Gen AI" is not a skill id (lowercase letters, digits, '.', '_' or '-')`},
					}},
				},
				FirstRow: map[string]int{"E1": 2, "E2": 3}},
		},
		{
			name: "an unclosed quote swallows the rest and is one rejected row",
			data: "hris_id,display_name\nE1,Ada\nE2,\"Bob\nE3,Cy\nE4,Di\n",
			want: &csvimport.File{Delimiter: ',', Columns: cols("hris_id", "display_name"), DataRows: 2,
				Records: []csvimport.Record{{Row: 2, HRISID: "E1", DisplayName: "Ada"}},
				Rejected: []csvimport.RejectedRow{{Row: 3, Problems: []csvimport.Problem{{Reason: "a quoted value that starts in this row is never closed, " +
					"so the rest of the file was read into it; every value that opens with \" must close with \""}}}},
				FirstRow: map[string]int{"E1": 2}},
		},
		{
			name: "header only",
			data: "hris_id,display_name\n",
			want: &csvimport.File{Delimiter: ',', Columns: cols("hris_id", "display_name"), FirstRow: map[string]int{}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := csvimport.Parse([]byte(tc.data), tc.opts)
			require.NoError(t, err)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseUnusableFiles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		data string
		opts csvimport.Options
		want string
	}{
		{"empty", "", csvimport.Options{}, "the file is empty"},
		{"only a BOM and blank lines", "\xEF\xBB\xBF\n\n", csvimport.Options{}, "the file is empty"},
		{"UTF-16", "\xFF\xFEh\x00", csvimport.Options{}, "UTF-16"},
		{"no hris_id column", "id,name\n1,Ada\n", csvimport.Options{}, `the file has no hris_id column (headers: "id", "name")`},
		{"enrolment-only hris column", "employee,role\n1,mentor\n", csvimport.Options{Enrolment: true}, "no hris_id column"},
		{"mapping to an unknown field", "id\n1\n", csvimport.Options{Mapping: map[string]string{"id": "hris"}}, `"id" maps to unknown field "hris"`},
		{"mapping to an enrolment field without a program", "id,r\n1,x\n", csvimport.Options{Mapping: map[string]string{"id": "hris_id", "r": "role"}},
			`"r" maps to "role", an enrolment field`},
		{"mapping names a missing header", "hris_id\n1\n", csvimport.Options{Mapping: map[string]string{"Mail": "email"}},
			`column_mapping names the header "Mail", which the file does not have`},
		{"two columns for one field", "hris_id,Mail,email\n1,a@b.c,d@e.f\n", csvimport.Options{Mapping: map[string]string{"Mail": "email", "email": "email"}},
			`columns 2 ("Mail") and 3 ("email") both map to email`},
		{"duplicate header", "hris_id,HRIS_ID\n1,2\n", csvimport.Options{}, `columns 1 ("hris_id") and 2 ("HRIS_ID") both map to hris_id`},
		{"unreadable header", "hris_id,\"x\n", csvimport.Options{}, "the header line cannot be read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := csvimport.Parse([]byte(tc.data), tc.opts)
			require.Nil(t, f)
			require.ErrorIs(t, err, csvimport.ErrUnusableFile)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestCheckMapping(t *testing.T) {
	t.Parallel()
	require.Empty(t, csvimport.CheckMapping(map[string]string{"Employee ID": "hris_id", "Job": " Title ", "Notes": ""}, false))
	require.Empty(t, csvimport.CheckMapping(map[string]string{"Side": "role"}, true))
	got := csvimport.CheckMapping(map[string]string{"a": "nope", "b": "role", " ": "email"}, false)
	require.Len(t, got, 3)
	require.Equal(t, "a header name is empty", got[0])
	require.Contains(t, got[1], `"a" maps to unknown field "nope"`)
	require.Contains(t, got[2], `"b" maps to "role", an enrolment field: set program_id`)
}

// FuzzParse checks that no input makes Parse panic or lose a row: every
// data row is either a record or a rejected row, in row order, and every
// rejected row says why.
func FuzzParse(f *testing.F) {
	f.Add([]byte("hris_id,display_name,email,time_zone,manager_hris_id\nE1,Ada,ada@x.example,UTC,\nE2,Bob,b@x.example,Europe/Paris,E1\n"), false)
	f.Add([]byte("\xEF\xBB\xBFhris_id;role;competencies;development_areas\nE1;mentor;genai:4|python:3;genai:1:4\n"), true)
	f.Add([]byte("hris_id,title\nE1,\"multi\nline\"\n\nE2,\"bad\"quote\nE3,\"open\n"), false)
	f.Add([]byte("hris_id\n\x00\n\xff\n,,\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, enrolment bool) {
		file, err := csvimport.Parse(data, csvimport.Options{Enrolment: enrolment})
		if err != nil {
			if !errors.Is(err, csvimport.ErrUnusableFile) {
				t.Fatalf("error %v does not match ErrUnusableFile", err)
			}
			return
		}
		if got := len(file.Records) + len(file.Rejected); got != file.DataRows {
			t.Fatalf("%d records + %d rejected rows != %d data rows", len(file.Records), len(file.Rejected), file.DataRows)
		}
		last := 1
		rows := map[int]bool{}
		for _, r := range file.Records {
			if r.HRISID == "" || strings.TrimSpace(r.HRISID) != r.HRISID {
				t.Fatalf("row %d accepted with hris_id %q", r.Row, r.HRISID)
			}
			if r.Row <= last {
				t.Fatalf("record rows out of order: %d after %d", r.Row, last)
			}
			last = r.Row
			rows[r.Row] = true
		}
		last = 1
		for _, r := range file.Rejected {
			if r.Row <= last || rows[r.Row] {
				t.Fatalf("rejected row %d out of order or also accepted", r.Row)
			}
			last = r.Row
			if len(r.Problems) == 0 {
				t.Fatalf("row %d rejected without a reason", r.Row)
			}
			for _, p := range r.Problems {
				if p.Reason == "" {
					t.Fatalf("row %d: empty reason for %q", r.Row, p.Field)
				}
			}
		}
	})
}

func cols(fields ...string) map[string]bool {
	m := map[string]bool{}
	for _, f := range fields {
		m[f] = true
	}
	return m
}
