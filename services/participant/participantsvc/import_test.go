package participantsvc_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/participant/internal/participant"
	participantsql "github.com/tandem-oss/tandem/services/participant/internal/sqlstore"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

func startParticipant(t *testing.T, url string) *servicetest.Harness {
	t.Helper()
	return servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
		return participantsvc.Run(ctx, lis, participantsvc.Config{DatabaseURL: url, PageTokenKey: []byte("0123456789abcdef0123456789abcdef")}, env)
	})
}

// people returns an export of n people with a reporting tree whose
// managers (the last tenth) come after their reports, and a bad time zone
// in every 100th person of the first 80% (rows 101, 201, … as a
// spreadsheet numbers them).
func people(n int) []byte {
	var b strings.Builder
	b.WriteString("Personalnummer;Name;E-Mail;Zeitzone;Vorgesetzter;role;competencies\n")
	for i := 1; i <= n; i++ {
		zone, manager := "Europe/Berlin", ""
		if i%100 == 0 && i <= n*8/10 {
			zone = "Europe/Atlantis"
		}
		if i < n {
			manager = fmt.Sprintf("P%05d", n-(n-i)/10)
		}
		fmt.Fprintf(&b, "P%05d;\"Müller, Person %d\";p%d@acme.example;%s;%s;mentor;genai:%d\n", i, i, i, zone, manager, 1+i%5)
	}
	return []byte(b.String())
}

var germanMapping = map[string]string{
	"Personalnummer": "hris_id", "Name": "display_name", "E-Mail": "email", "Zeitzone": "time_zone", "Vorgesetzter": "manager_hris_id",
}

// waitForImport polls GetImport until the import ends and checks that
// its progress never goes back.
func waitForImport(t *testing.T, client participantv1.ParticipantServiceClient, ctx context.Context, id string) *participantv1.Import {
	t.Helper()
	var im *participantv1.Import
	lastProcessed := int32(0)
	testkit.Eventually(t, servicetest.WaitFor, func() bool {
		var err error
		im, err = client.GetImport(ctx, &participantv1.GetImportRequest{Id: id})
		require.NoError(t, err)
		require.GreaterOrEqual(t, im.GetProcessedRows(), lastProcessed, "progress goes forward")
		lastProcessed = im.GetProcessedRows()
		if im.GetState() == participantv1.ImportState_IMPORT_STATE_RUNNING && im.GetTotalRows() > 0 {
			require.Equal(t, im.GetProcessedRows()*100/im.GetTotalRows(), im.GetProgressPercent())
		}
		return im.GetState() != participantv1.ImportState_IMPORT_STATE_RUNNING
	}, "import %s to finish", id)
	return im
}

func TestImportAPI(t *testing.T) {
	url := testkit.SQLiteURL(t)
	for _, tenant := range []string{"acme", "globex"} {
		_, err := participantsvc.EnsureTenant(t.Context(), url, tenant, "")
		require.NoError(t, err)
	}
	h := startParticipant(t, url)
	client := participantv1.NewParticipantServiceClient(h.Conn)
	manager := h.As(t, "acme", auth.RoleProgramManager)
	_, err := client.CreateSkill(manager, &participantv1.CreateSkillRequest{Skill: &participantv1.Skill{Id: "genai", DisplayName: "Generative AI"}})
	require.NoError(t, err)
	program, err := client.CreateProgram(manager, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "AI for leaders", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE,
	}})
	require.NoError(t, err)

	const rows, bad = 2500, 20
	var imported *participantv1.Import
	t.Run("an import runs in the background and reports its progress", func(t *testing.T) {
		created, err := client.CreateImport(manager, &participantv1.CreateImportRequest{
			Csv: people(rows), ColumnMapping: germanMapping, ProgramId: program.GetId(),
		})
		require.NoError(t, err)
		require.Equal(t, participantv1.ImportState_IMPORT_STATE_RUNNING, created.GetState())
		require.NotEmpty(t, created.GetId())
		require.NotNil(t, created.GetCreateTime())
		require.Equal(t, program.GetId(), created.GetProgramId())

		imported = waitForImport(t, client, manager, created.GetId())
		require.Equal(t, participantv1.ImportState_IMPORT_STATE_SUCCEEDED, imported.GetState(), "error: %s", imported.GetError())
		require.Equal(t, []int32{rows, rows, 100, rows - bad, 0, 0, bad},
			[]int32{imported.GetTotalRows(), imported.GetProcessedRows(), imported.GetProgressPercent(), imported.GetCreatedRows(),
				imported.GetUpdatedRows(), imported.GetUnchangedRows(), imported.GetRejectedRows()})
		require.NotNil(t, imported.GetFinishTime())

		list, err := client.ListParticipants(manager, &participantv1.ListParticipantsRequest{ProgramId: program.GetId(), PageSize: 1000})
		require.NoError(t, err)
		require.Len(t, list.GetParticipants(), 1000, "enrolled as mentors")
		require.Equal(t, participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR, list.GetParticipants()[0].GetRole())

		msg := h.LastEvent(t, "acme.import.completed", 1)
		var ev eventsv1.ImportCompleted
		require.NoError(t, proto.Unmarshal(msg.Data, &ev))
		require.Equal(t, imported.GetId(), ev.GetImport().GetId())
		require.EqualValues(t, rows-bad, ev.GetImport().GetCreatedRows())
	})

	t.Run("rejections page in row order", func(t *testing.T) {
		var got []string
		token := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 5)
			resp, err := client.ListImportRejections(manager, &participantv1.ListImportRejectionsRequest{ImportId: imported.GetId(), PageSize: 10, PageToken: token})
			require.NoError(t, err)
			for _, r := range resp.GetRejections() {
				require.Equal(t, "time_zone", r.GetField())
				require.Equal(t, `unknown IANA time zone "Europe/Atlantis"; use a name such as Europe/London`, r.GetReason())
				got = append(got, fmt.Sprint(r.GetRow()))
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
			_, err = client.ListImportRejections(manager, &participantv1.ListImportRejectionsRequest{ImportId: imported.GetId(), PageToken: token[:len(token)-2] + "AA"})
			require.Equal(t, []string{"page_token"}, servicetest.FieldViolations(t, err), "a tampered token")
			// The object rule reads the import first: an unknown one is NotFound
			// whatever the token.
			_, err = client.ListImportRejections(manager, &participantv1.ListImportRejectionsRequest{ImportId: program.GetId(), PageToken: token})
			require.Equal(t, codes.NotFound, status.Code(err), "an unknown import")
		}
		var want []string
		for i := 100; i <= rows*8/10; i += 100 {
			want = append(want, fmt.Sprint(i+1)) // the header is row 1
		}
		require.Equal(t, want, got)
	})

	t.Run("the same file again changes nothing", func(t *testing.T) {
		created, err := client.CreateImport(manager, &participantv1.CreateImportRequest{
			Csv: people(rows), ColumnMapping: germanMapping, ProgramId: program.GetId(),
		})
		require.NoError(t, err)
		again := waitForImport(t, client, manager, created.GetId())
		require.Equal(t, []int32{0, 0, rows - bad, bad}, []int32{again.GetCreatedRows(), again.GetUpdatedRows(), again.GetUnchangedRows(), again.GetRejectedRows()})
	})

	t.Run("invalid requests name the field", func(t *testing.T) {
		for name, tc := range map[string]struct {
			req   *participantv1.CreateImportRequest
			field string
		}{
			"mapping to an unknown field":       {&participantv1.CreateImportRequest{Csv: []byte("hris_id\n1\n"), ColumnMapping: map[string]string{"Name": "full_name"}}, "column_mapping"},
			"enrolment field without a program": {&participantv1.CreateImportRequest{Csv: []byte("hris_id\n1\n"), ColumnMapping: map[string]string{"Seite": "role"}}, "column_mapping"},
			"default role without a program":    {&participantv1.CreateImportRequest{Csv: []byte("hris_id\n1\n"), DefaultRole: participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR}, "default_role"},
			"empty file":                        {&participantv1.CreateImportRequest{}, "csv"},
			"tab delimiter":                     {&participantv1.CreateImportRequest{Csv: []byte("hris_id\n1\n"), Delimiter: "\t"}, "delimiter"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := client.CreateImport(manager, tc.req)
				require.Equal(t, []string{tc.field}, servicetest.FieldViolations(t, err))
			})
		}
	})

	t.Run("a file without an hris_id column fails as a whole", func(t *testing.T) {
		created, err := client.CreateImport(manager, &participantv1.CreateImportRequest{Csv: []byte("Name;E-Mail\nAda;ada@acme.example\n")})
		require.NoError(t, err)
		failed := waitForImport(t, client, manager, created.GetId())
		require.Equal(t, participantv1.ImportState_IMPORT_STATE_FAILED, failed.GetState())
		require.Contains(t, failed.GetError(), "no hris_id column")
		require.Zero(t, failed.GetProcessedRows())
	})

	t.Run("a program that takes no enrolments is FailedPrecondition", func(t *testing.T) {
		closed, err := client.CreateProgram(manager, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
			DisplayName: "Done", Type: participantv1.ProgramType_PROGRAM_TYPE_CLASSIC,
		}})
		require.NoError(t, err)
		_, err = client.TransitionProgram(manager, &participantv1.TransitionProgramRequest{Id: closed.GetId(), State: participantv1.ProgramState_PROGRAM_STATE_CANCELLED, Reason: "budget"})
		require.NoError(t, err)
		_, err = client.CreateImport(manager, &participantv1.CreateImportRequest{Csv: people(3), ColumnMapping: germanMapping, ProgramId: closed.GetId()})
		require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
		require.Contains(t, status.Convert(err).Message(), "cancelled and takes no enrolments")
		_, err = client.CreateImport(manager, &participantv1.CreateImportRequest{Csv: people(3), ColumnMapping: germanMapping, ProgramId: "no-such-program"})
		require.Equal(t, codes.NotFound, status.Code(err))
	})

	t.Run("roles and tenants", func(t *testing.T) {
		_, err := client.CreateImport(h.As(t, "acme", auth.RoleParticipant), &participantv1.CreateImportRequest{Csv: people(3), ColumnMapping: germanMapping})
		require.Equal(t, codes.PermissionDenied, status.Code(err))
		_, err = client.GetImport(h.As(t, "acme", auth.RoleAnalyst), &participantv1.GetImportRequest{Id: imported.GetId()})
		require.Equal(t, codes.PermissionDenied, status.Code(err))
		other := h.As(t, "globex", auth.RoleTenantAdmin)
		_, err = client.GetImport(other, &participantv1.GetImportRequest{Id: imported.GetId()})
		require.Equal(t, codes.NotFound, status.Code(err))
		_, err = client.ListImportRejections(other, &participantv1.ListImportRejectionsRequest{ImportId: imported.GetId()})
		require.Equal(t, codes.NotFound, status.Code(err))
	})
}

// TestImportResumesAfterRestart leaves an import RUNNING under the lease
// of a replica that died, as a crash would, and checks that the service
// resumes it when it starts, while a job another live replica holds stays
// untouched.
func TestImportResumesAfterRestart(t *testing.T) {
	ctx := context.Background()
	url := testkit.SQLiteURL(t)
	_, err := participantsvc.EnsureTenant(ctx, url, "acme", "")
	require.NoError(t, err)
	db, err := participantsvc.Open(ctx, url)
	require.NoError(t, err)
	store := participantsql.New(db, nil)
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, id := range []string{"crashed-job", "live-job"} {
		require.NoError(t, store.CreateImport(ctx, "acme", participant.Import{ID: id, State: participant.ImportRunning, CreateTime: now,
			ColumnMapping: germanMapping}, people(250)))
	}
	_, err = db.ExecContext(ctx, `UPDATE imports SET lease_owner = 'dead-replica', lease_expires_at = $1 WHERE id = 'crashed-job'`, now.Add(-time.Second))
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `UPDATE imports SET lease_owner = 'live-replica', lease_expires_at = $1 WHERE id = 'live-job'`, now.Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, db.Close())

	h := startParticipant(t, url)
	client := participantv1.NewParticipantServiceClient(h.Conn)
	manager := h.As(t, "acme", auth.RoleProgramManager)
	resumed := waitForImport(t, client, manager, "crashed-job")
	require.Equal(t, participantv1.ImportState_IMPORT_STATE_SUCCEEDED, resumed.GetState())
	require.Equal(t, []int32{250, 248, 2}, []int32{resumed.GetProcessedRows(), resumed.GetCreatedRows(), resumed.GetRejectedRows()})

	live, err := client.GetImport(manager, &participantv1.GetImportRequest{Id: "live-job"})
	require.NoError(t, err)
	require.Equal(t, participantv1.ImportState_IMPORT_STATE_RUNNING, live.GetState(), "another replica's lease is respected")
	require.Zero(t, live.GetProcessedRows())
}
