package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// programsCLI runs tandem in-process against a `tandem dev` and returns
// stdout, stderr and the exit code.
type programsCLI struct {
	t    *testing.T
	conn []string // --addr, --data-dir and --tenant
}

func (p programsCLI) run(args ...string) (stdout, stderr string, code int) {
	p.t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(append(append([]string{}, args...), p.conn...))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		var msg string
		code, msg = exitCode(err)
		errOut.WriteString("tandem: " + msg + "\n")
	}
	return out.String(), errOut.String(), code
}

// ok runs a command that must succeed and returns its stdout.
func (p programsCLI) ok(args ...string) string {
	p.t.Helper()
	out, errOut, code := p.run(args...)
	require.Equal(p.t, 0, code, "tandem %v: %s", args, errOut)
	return out
}

// json runs a command with -o json that must succeed and decodes its output.
func (p programsCLI) json(v any, args ...string) {
	p.t.Helper()
	out := p.ok(append(args, "-o", "json")...)
	require.NoError(p.t, json.Unmarshal([]byte(out), v), "output: %s", out)
}

// tableRow returns the cells of the line of a table that contains key, the
// header excluded; it fails the test without one.
func programsRow(t *testing.T, table, key string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(table), "\n")
	for _, l := range lines[1:] {
		if strings.Contains(l, key) {
			return strings.Fields(l)
		}
	}
	t.Fatalf("no row with %q in:\n%s", key, table)
	return nil
}

// programsCSV is a small HRIS export in the style of hrisExport: a BOM,
// semicolons, the HRIS tool's header names; three good rows (a mentor and
// two mentees, one of them in Sales) and one with an unknown time zone.
const programsCSV = "\ufeffEmployee ID;Full Name;Work Email;Department;Level;Time Zone;Role\n" +
	"E1;\"Ada Lovelace\";ada@acme.example;Engineering;2;Europe/London;mentor\n" +
	"E2;\"Grace Hopper\";grace@acme.example;Sales;9;America/New_York;\n" +
	"E3;\"Alan Turing\";alan@acme.example;Finance;10;Europe/Berlin;\n" +
	"B1;\"Bad Zone\";bz@acme.example;Sales;3;Mars/Olympus_Mons;mentor\n"

func TestProgramsCLI(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dataDir := t.TempDir()
	addrs, _ := startDev(t, dataDir)
	cli := programsCLI{t: t, conn: []string{"--addr", addrs.GRPC, "--data-dir", dataDir, "--tenant", "acme"}}

	// program create: table, then JSON.
	out := cli.ok("program", "create", "--name", "AI-for-leaders", "--type", "reverse", "--duration-weeks", "12",
		"--cadence", "biweekly", "--format", "in-person", "--capacity", "2")
	require.True(t, strings.HasPrefix(out, "ID "), "header: %s", out)
	require.Contains(t, strings.SplitN(out, "\n", 2)[0], "NAME")
	cells := programsRow(t, out, "AI-for-leaders")
	require.Equal(t, []string{"AI-for-leaders", "reverse", "draft", "12", "biweekly", "in-person", "2"}, cells[1:])
	programID := cells[0]

	var classic map[string]any
	cli.json(&classic, "program", "create", "--name", "Classic", "--type", "classic", "--description", "seniors teach")
	require.Equal(t, "PROGRAM_TYPE_CLASSIC", classic["type"])
	require.Equal(t, "PROGRAM_STATE_DRAFT", classic["state"])
	require.Equal(t, "seniors teach", classic["description"])
	classicID := classic["id"].(string)

	t.Run("bad type is a usage error", func(t *testing.T) {
		_, errOut, code := cli.run("program", "create", "--name", "x", "--type", "sideways")
		require.Equal(t, exitUsage, code)
		require.Contains(t, errOut, `--type "sideways": must be one of reverse, classic, peer, group`)
		_, errOut, code = cli.run("program", "create", "--type", "reverse")
		require.Equal(t, exitUsage, code)
		require.Contains(t, errOut, "--name is required")
	})

	t.Run("show and list", func(t *testing.T) {
		out := cli.ok("program", "show", programID)
		require.Equal(t, "reverse", programsRow(t, out, programID)[2])
		var got map[string]any
		cli.json(&got, "program", "show", programID)
		require.Equal(t, "AI-for-leaders", got["displayName"])
		require.Equal(t, "MEETING_FORMAT_IN_PERSON", got["format"])
		require.EqualValues(t, 2, got["defaultMentorCapacity"])

		out = cli.ok("program", "list")
		programsRow(t, out, programID)
		programsRow(t, out, classicID)
		var list []map[string]any
		cli.json(&list, "program", "list")
		require.Len(t, list, 2)
		require.ElementsMatch(t, []any{programID, classicID}, []any{list[0]["id"], list[1]["id"]})
	})

	t.Run("show of an unknown program is not found", func(t *testing.T) {
		out, errOut, code := cli.run("program", "show", "no-such-program")
		require.Equal(t, exitNotFound, code)
		require.Empty(t, out)
		require.Contains(t, errOut, "tandem: NotFound: ")
	})

	t.Run("transition", func(t *testing.T) {
		out := cli.ok("program", "transition", programID, "enrolling")
		require.Equal(t, "enrolling", programsRow(t, out, programID)[3])
		var got map[string]any
		cli.json(&got, "program", "transition", classicID, "cancelled", "--reason", "no budget")
		require.Equal(t, "PROGRAM_STATE_CANCELLED", got["state"])

		_, errOut, code := cli.run("program", "transition", programID, "completed")
		require.Equal(t, exitConflict, code, errOut)
		require.Contains(t, errOut, "FailedPrecondition")
		_, errOut, code = cli.run("program", "transition", programID, "finished")
		require.Equal(t, exitUsage, code)
		require.Contains(t, errOut, `STATE "finished": must be one of draft, enrolling, matching, active, completed, cancelled`)

		var enrolling []map[string]any
		cli.json(&enrolling, "program", "list", "--state", "enrolling")
		require.Len(t, enrolling, 1)
		require.Equal(t, programID, enrolling[0]["id"])
	})

	csvPath := filepath.Join(t.TempDir(), "hris.csv")
	require.NoError(t, os.WriteFile(csvPath, []byte(programsCSV), 0o600))
	importArgs := []string{"import", csvPath, "--program", programID, "--role", "mentee", "--delimiter", ";",
		"--map", "Employee ID=hris_id", "--map", "Full Name=display_name", "--map", "Work Email=email",
		"--map", "Level=seniority_level", "--map", "Time Zone=time_zone"}

	t.Run("import", func(t *testing.T) {
		out, errOut, code := cli.run(importArgs...)
		require.Equal(t, 0, code, "rejected rows are reported, not an error: %s", errOut)
		require.Contains(t, errOut, "100% importing hris.csv")
		tables := strings.SplitN(out, "\n\n", 2)
		require.Len(t, tables, 2, "counts, then rejections:\n%s", out)
		require.Equal(t, []string{"ID", "STATE", "TOTAL", "CREATED", "UPDATED", "UNCHANGED", "REJECTED"}, strings.Fields(strings.SplitN(tables[0], "\n", 2)[0]))
		require.Equal(t, []string{"succeeded", "4", "3", "0", "0", "1"}, programsRow(t, tables[0], "succeeded")[1:])
		require.True(t, strings.HasPrefix(tables[1], "ROW "), tables[1])
		rej := programsRow(t, tables[1], "time_zone")
		require.Equal(t, "5", rej[0], "the bad row is the file's fifth line")
		require.Contains(t, tables[1], "Mars/Olympus_Mons")

		// Again, as JSON: nothing changes, and the rejection is reported again.
		var again struct {
			Import     map[string]any   `json:"import"`
			Rejections []map[string]any `json:"rejections"`
		}
		cli.json(&again, importArgs...)
		require.Equal(t, "IMPORT_STATE_SUCCEEDED", again.Import["state"])
		require.EqualValues(t, 4, again.Import["totalRows"])
		require.EqualValues(t, 3, again.Import["unchangedRows"])
		require.EqualValues(t, 1, again.Import["rejectedRows"])
		require.Nil(t, again.Import["createdRows"], "zero counts are left out")
		require.Len(t, again.Rejections, 1)
		require.EqualValues(t, 5, again.Rejections[0]["row"])
		require.Equal(t, "time_zone", again.Rejections[0]["field"])
		require.Contains(t, again.Rejections[0]["reason"], "Mars/Olympus_Mons")
	})

	t.Run("an unreadable file fails the import", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "nohris.csv")
		require.NoError(t, os.WriteFile(bad, []byte("name,email\nX,x@acme.example\n"), 0o600))
		out, errOut, code := cli.run("import", bad)
		require.Equal(t, exitError, code, errOut)
		require.Equal(t, "failed", programsRow(t, out, "failed")[1], "the counts are printed first")
		require.Contains(t, errOut, "failed: the file has no hris_id column")
	})

	t.Run("bad import flags", func(t *testing.T) {
		_, errOut, code := cli.run("import", csvPath, "--delimiter", "|")
		require.Equal(t, exitUsage, code)
		require.Contains(t, errOut, `--delimiter "|": must be "," or ";"`)
		_, errOut, code = cli.run("import", csvPath, "--map", "hris_id")
		require.Equal(t, exitUsage, code)
		require.Contains(t, errOut, `--map "hris_id": must be "Header=field"`)
	})

	var people []map[string]any
	t.Run("person list and show", func(t *testing.T) {
		out := cli.ok("person", "list", "--department", "Sales")
		require.True(t, strings.HasPrefix(out, "ID "), out)
		require.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 2, "one person of Sales; the rejected row stored nothing:\n%s", out)
		require.Equal(t, "E2", programsRow(t, out, "grace@acme.example")[1])

		cli.json(&people, "person", "list")
		require.Len(t, people, 3)
		var grace map[string]any
		for _, p := range people {
			if p["hrisId"] == "E2" {
				grace = p
			}
		}
		require.NotNil(t, grace, "people: %v", people)

		out = cli.ok("person", "show", grace["id"].(string))
		require.Contains(t, strings.SplitN(out, "\n", 2)[0], "TIME ZONE")
		require.Contains(t, programsRow(t, out, "E2"), "America/New_York")
		var got map[string]any
		cli.json(&got, "person", "show", grace["id"].(string))
		require.Equal(t, "Grace Hopper", got["displayName"])
		require.EqualValues(t, 9, got["seniorityLevel"])

		// One page at a time: the next page's token goes to stderr.
		out, errOut, code := cli.run("person", "list", "--page-size", "2")
		require.Equal(t, 0, code, errOut)
		require.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 3, out)
		require.Contains(t, errOut, "more people: --page-token ")
		token := strings.TrimSpace(strings.TrimPrefix(errOut, "more people: --page-token "))
		var rest []map[string]any
		cli.json(&rest, "person", "list", "--page-size", "2", "--page-token", token)
		require.Len(t, rest, 1)
	})

	t.Run("participants", func(t *testing.T) {
		out := cli.ok("participant", "list", "--program", programID)
		require.True(t, strings.HasPrefix(out, "ID "), out)
		require.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 4, "three enrolled by the import:\n%s", out)
		require.Len(t, strings.Fields(out), 7*4)

		var mentors []map[string]any
		cli.json(&mentors, "participant", "list", "--program", programID, "--role", "mentor")
		require.Len(t, mentors, 1, "the Role column wins over --role")
		require.Equal(t, "PARTICIPANT_ROLE_MENTOR", mentors[0]["role"])
		var mentees []map[string]any
		cli.json(&mentees, "participant", "list", "--program", programID, "--role", "mentee")
		require.Len(t, mentees, 2, "--role is the default of rows without one")

		id := mentors[0]["id"].(string)
		cells := programsRow(t, cli.ok("participant", "show", id), id)
		require.Equal(t, []string{programID, mentors[0]["personId"].(string), "mentor", "enrolled"}, cells[1:5])
		var got map[string]any
		cli.json(&got, "participant", "show", id)
		require.Equal(t, "PARTICIPANT_STATE_ENROLLED", got["state"])

		// Enrol a person of the import in a second program by hand.
		var second map[string]any
		cli.json(&second, "program", "create", "--name", "Second", "--type", "reverse")
		out = cli.ok("participant", "enrol", "--program", second["id"].(string), "--person", mentors[0]["personId"].(string),
			"--role", "mentor", "--capacity", "3", "--format", "remote")
		cells = programsRow(t, out, second["id"].(string))
		require.Equal(t, []string{mentors[0]["personId"].(string), "mentor", "enrolled", "3"}, cells[2:6])
		var list []map[string]any
		cli.json(&list, "participant", "list", "--program", second["id"].(string))
		require.Len(t, list, 1)
		require.Equal(t, "MEETING_FORMAT_REMOTE", list[0]["preferredFormat"])

		_, errOut, code := cli.run("participant", "enrol", "--program", second["id"].(string), "--person", "no-such-person", "--role", "mentee")
		require.Equal(t, exitUsage, code, errOut)
		require.Contains(t, errOut, "participant.person_id: no person with this id")
		_, errOut, code = cli.run("participant", "list", "--program", programID, "--role", "buddy")
		require.Equal(t, exitUsage, code)
		require.Contains(t, errOut, `--role "buddy": must be one of mentor, mentee`)
	})
}
