package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
)

func init() { apiCommands = append(apiCommands, newImportCmd) }

// newImportCmd imports an HRIS export: it starts the import, draws its
// progress until it is final, then prints the counts and rejected rows.
func newImportCmd(c *client) *cobra.Command {
	var programID, role, delimiter string
	var mappings []string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import people (and enrol them with --program) from an HRIS export in CSV",
		Long: `Uploads FILE (a CSV with a header line; "-" reads standard input), shows
the import's progress on standard error until it is finished, then prints
how many rows created, updated, left unchanged or rejected what, and the
row number, field and reason of every rejected row. Rejected rows do not
make the command fail; a file that cannot be read at all does (exit 1).

Headers equal to a field name need no --map. Fields: hris_id (required),
display_name, email, department, title, seniority_level, manager_hris_id,
hire_date, promotion_date, location, time_zone, languages,
employment_status, subject; with --program also role, competencies,
development_areas, work_style, communication_style, motivation,
preferred_format, capacity.`,
		Example: `  tandem import hris.csv --map "Employee ID=hris_id" --map "Full Name=display_name"
  tandem import mentees.csv --program prg_123 --role mentee --delimiter ";"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &participantv1.CreateImportRequest{ProgramId: programID, ColumnMapping: map[string]string{}}
			var err error
			if req.DefaultRole, err = parseProtoWordFlag("role", role, participantv1.ParticipantRole_PARTICIPANT_ROLE_UNSPECIFIED); err != nil {
				return err
			}
			if delimiter != "" && delimiter != "," && delimiter != ";" {
				return usageErr(`--delimiter %q: must be "," or ";" (default: detected from the header line)`, delimiter)
			}
			req.Delimiter = delimiter
			for _, m := range mappings {
				i := strings.LastIndex(m, "=")
				if i <= 0 {
					return usageErr(`--map %q: must be "Header=field", e.g. "Employee ID=hris_id"`, m)
				}
				req.ColumnMapping[m[:i]] = m[i+1:]
			}
			if timeout <= 0 {
				return usageErr("--timeout %s: must be positive", timeout)
			}
			if req.Csv, err = readImportFile(cmd, args[0]); err != nil {
				return err
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			api := participantv1.NewParticipantServiceClient(conn)
			imp, err := api.CreateImport(cmd.Context(), req)
			if err != nil {
				return err
			}
			if imp, err = awaitImport(cmd, api, imp, filepath.Base(args[0]), timeout); err != nil {
				return err
			}
			var rejections []*participantv1.ImportRejection
			lreq := &participantv1.ListImportRejectionsRequest{ImportId: imp.GetId(), PageSize: 1000}
			for imp.GetRejectedRows() > 0 {
				page, err := api.ListImportRejections(cmd.Context(), lreq)
				if err != nil {
					return err
				}
				rejections = append(rejections, page.GetRejections()...)
				if page.GetNextPageToken() == "" {
					break
				}
				lreq.PageToken = page.GetNextPageToken()
			}
			if err := renderImport(c, cmd.OutOrStdout(), imp, rejections); err != nil {
				return err
			}
			if imp.GetState() == participantv1.ImportState_IMPORT_STATE_FAILED {
				return &cliError{code: exitError, msg: fmt.Sprintf("import %s failed: %s", imp.GetId(), imp.GetError())}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&programID, "program", "", "program to enrol every valid row into")
	f.StringVar(&role, "role", "", "role of rows without a role value (with --program): "+protoWordList(participantv1.ParticipantRole_PARTICIPANT_ROLE_UNSPECIFIED))
	f.StringArrayVar(&mappings, "map", nil, `map a header of the file to a field: "Header=field" (repeatable; "Header=" ignores the column)`)
	f.StringVar(&delimiter, "delimiter", "", `field separator, "," or ";" (default: detected from the header line)`)
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "give up waiting for the import after this long (it goes on in the service)")
	completeProtoWords(cmd, "role", participantv1.ParticipantRole_PARTICIPANT_ROLE_UNSPECIFIED)
	_ = cmd.RegisterFlagCompletionFunc("delimiter", cobra.FixedCompletions([]string{",", ";"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// readImportFile reads the file to import; "-" is standard input.
func readImportFile(cmd *cobra.Command, path string) ([]byte, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(cmd.InOrStdin())
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, usageErr("FILE %s: %v", path, err)
	}
	if len(b) == 0 {
		return nil, usageErr("FILE %s is empty: it needs a header line and data rows", path)
	}
	return b, nil
}

// awaitImport polls the import every 200 ms, drawing its progress on
// standard error, until it is no longer running or timeout has passed.
func awaitImport(cmd *cobra.Command, api participantv1.ParticipantServiceClient, imp *participantv1.Import, what string, timeout time.Duration) (*participantv1.Import, error) {
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	bar := newPercentBar(cmd.ErrOrStderr())
	defer bar.finish()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		bar.percent(int(imp.GetProgressPercent()), "importing "+what)
		if imp.GetState() != participantv1.ImportState_IMPORT_STATE_RUNNING {
			return imp, nil
		}
		select {
		case <-ctx.Done():
			return nil, importTimeout(cmd.Context(), imp.GetId(), timeout)
		case <-tick.C:
		}
		next, err := api.GetImport(ctx, &participantv1.GetImportRequest{Id: imp.GetId()})
		if ctx.Err() != nil {
			return nil, importTimeout(cmd.Context(), imp.GetId(), timeout)
		}
		if err != nil {
			return nil, err
		}
		imp = next
	}
}

// importTimeout says the wait ended, unless the command itself was
// cancelled (Ctrl-C).
func importTimeout(ctx context.Context, id string, timeout time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("import %s: %w", id, err)
	}
	return &cliError{code: exitError, msg: fmt.Sprintf("import %s still running after --timeout %s; it goes on in the service", id, timeout)}
}

// renderImport prints an import's counts and rejected rows as tables, or
// as one JSON object {"import": {...}, "rejections": [...]}.
func renderImport(c *client, w io.Writer, imp *participantv1.Import, rejections []*participantv1.ImportRejection) error {
	if c.output == "json" {
		out := struct {
			Import     json.RawMessage   `json:"import"`
			Rejections []json.RawMessage `json:"rejections"`
		}{Rejections: []json.RawMessage{}}
		var err error
		if out.Import, err = protojson.Marshal(imp); err != nil {
			return err
		}
		for _, r := range rejections {
			b, err := protojson.Marshal(r)
			if err != nil {
				return err
			}
			out.Rejections = append(out.Rejections, b)
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row(tw, "ID", "STATE", "TOTAL", "CREATED", "UPDATED", "UNCHANGED", "REJECTED")
	row(tw, imp.GetId(), protoWord(imp.GetState()), imp.GetTotalRows(), imp.GetCreatedRows(), imp.GetUpdatedRows(), imp.GetUnchangedRows(), imp.GetRejectedRows())
	if len(rejections) > 0 {
		row(tw)
		row(tw, "ROW", "FIELD", "REASON")
		for _, r := range rejections {
			row(tw, r.GetRow(), orDash(r.GetField()), r.GetReason())
		}
	}
	return tw.Flush()
}
