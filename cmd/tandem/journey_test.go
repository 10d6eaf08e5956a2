package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// hrisExport writes an HRIS export the way enterprise tools do: a BOM,
// semicolons, their own header names, quoted fields. Even rows are junior
// mentors, odd rows senior mentees; everyone reports up a tree of managers
// that appear after their reports. Three bad rows follow the good ones.
func hrisExport(rows int) string {
	zones := []string{"Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Europe/Berlin"}
	departments := []string{"Sales", "Finance", "Engineering", "HR", "Marketing", "Legal", "Operations", "Research"}
	var b strings.Builder
	b.WriteString("\ufeffEmployee ID;Full Name;Work Email;Department;Job Title;Level;Manager ID;Time Zone;Languages;Role;Competencies;Development Areas\n")
	for i := 1; i <= rows; i++ {
		manager := ""
		if i < rows {
			manager = fmt.Sprintf("E%06d", rows-(rows-i)/10) // managers sit later in the file
		}
		role, level, comp, dev := "mentee", 8+i%5, "", "genai:1:4|data:2:4"
		if i%2 == 0 {
			role, level, comp, dev = "mentor", 1+i%4, "genai:4|data:3", ""
		}
		fmt.Fprintf(&b, "E%06d;\"Person %d, Jr.\";e%d@acme.example;%s;Analyst;%d;%s;%s;en|de;%s;%s;%s\n",
			i, i, i, departments[i%len(departments)], level, manager, zones[i%len(zones)], role, comp, dev)
	}
	b.WriteString("B000001;Bad Zone;bz@acme.example;Sales;Analyst;3;;Mars/Olympus_Mons;en;mentor;genai:4;\n")
	b.WriteString("B000002;Bad Skill;bs@acme.example;Sales;Analyst;3;;Europe/London;en;mentor;quantum:4;\n")
	b.WriteString("B000003;Bad Level;bl@acme.example;Sales;Analyst;99;;Europe/London;en;mentor;genai:4;\n")
	return b.String()
}

// TestParticipantJourney is the participant issue's acceptance test, through
// the gateway over HTTP and gRPC: a program is created and opened, filled by
// a 50,000-row import and by self-enrolment, listed page by page, and a
// person exported and erased; bad rows, unknown skills, invalid time zones
// and illegal transitions each get a precise error and change nothing.
func TestParticipantJourney(t *testing.T) {
	const rows = 50_000
	dataDir := t.TempDir()
	addrs, _ := startDev(t, dataDir)
	base := "http://" + addrs.HTTP
	admin := runCLI(t, "token", "--data-dir", dataDir, "--tenant", "acme", "--role", "tenant_admin", "--subject", "admin@acme.example")
	conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := participantv1.NewParticipantServiceClient(conn)
	adminCtx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+admin)

	for _, skill := range []string{"genai", "data"} {
		code, body := httpDo(t, http.MethodPost, base+"/v1/skills", admin, `{"id":"`+skill+`","displayName":"`+skill+`","category":"Digital"}`)
		require.Equal(t, http.StatusOK, code, "body: %v", body)
	}

	// Create and open the program over HTTP; an illegal jump is refused.
	now := time.Now().UTC()
	code, program := httpDo(t, http.MethodPost, base+"/v1/programs", admin, fmt.Sprintf(
		`{"displayName":"AI for leaders","type":"PROGRAM_TYPE_REVERSE","maxMentorCapacity":3,`+
			`"enrollmentOpenTime":%q,"enrollmentCloseTime":%q}`,
		now.Add(-time.Hour).Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339)))
	require.Equal(t, http.StatusOK, code, "body: %v", program)
	programID := program["id"].(string)
	code, body := httpDo(t, http.MethodPost, base+"/v1/programs/"+programID+":transition", admin, `{"state":"PROGRAM_STATE_ACTIVE"}`)
	require.Equal(t, http.StatusBadRequest, code, "illegal transition: %v", body)
	require.Contains(t, body["message"], "cannot go from draft to active")
	_, err = client.TransitionProgram(adminCtx, &participantv1.TransitionProgramRequest{Id: programID, State: participantv1.ProgramState_PROGRAM_STATE_COMPLETED})
	require.Equal(t, codes.FailedPrecondition, status.Code(err))
	got, err := client.GetProgram(adminCtx, &participantv1.GetProgramRequest{Id: programID})
	require.NoError(t, err)
	require.Equal(t, participantv1.ProgramState_PROGRAM_STATE_DRAFT, got.GetState(), "a refused transition changes nothing")
	code, _ = httpDo(t, http.MethodPost, base+"/v1/programs/"+programID+":transition", admin, `{"state":"PROGRAM_STATE_ENROLLING"}`)
	require.Equal(t, http.StatusOK, code)

	// An invalid time zone gets a precise error over both protocols.
	code, body = httpDo(t, http.MethodPost, base+"/v1/people", admin, `{"displayName":"X","email":"x@acme.example","timeZone":"Mars/Base"}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body["message"], "person.time_zone")

	// Import 50,000 rows and 3 bad ones over HTTP.
	request, err := json.Marshal(map[string]any{
		"csv":       base64.StdEncoding.EncodeToString([]byte(hrisExport(rows))),
		"programId": programID,
		"columnMapping": map[string]string{
			"Employee ID": "hris_id", "Full Name": "display_name", "Work Email": "email", "Job Title": "title",
			"Level": "seniority_level", "Manager ID": "manager_hris_id", "Time Zone": "time_zone",
			"Development Areas": "development_areas",
		},
	})
	require.NoError(t, err)
	start := time.Now()
	code, job := httpDo(t, http.MethodPost, base+"/v1/imports", admin, string(request))
	require.Equal(t, http.StatusOK, code, "body: %v", job)
	importID := job["id"].(string)
	testkit.Eventually(t, 3*time.Minute, func() bool {
		code, job = httpDo(t, http.MethodGet, base+"/v1/imports/"+importID, admin, "")
		return code == http.StatusOK && job["state"] != "IMPORT_STATE_RUNNING"
	}, "import finished: %v", job)
	t.Logf("imported %d rows in %s", rows, time.Since(start).Round(time.Millisecond))
	require.Equal(t, "IMPORT_STATE_SUCCEEDED", job["state"], "job: %v", job)
	require.EqualValues(t, rows, job["createdRows"])
	require.EqualValues(t, 3, job["rejectedRows"])
	require.EqualValues(t, 100, job["progressPercent"])

	rejections, err := client.ListImportRejections(adminCtx, &participantv1.ListImportRejectionsRequest{ImportId: importID})
	require.NoError(t, err)
	var where []string
	for _, r := range rejections.GetRejections() {
		where = append(where, fmt.Sprintf("row %d %s", r.GetRow(), r.GetField()))
	}
	require.Equal(t, []string{
		fmt.Sprintf("row %d time_zone", rows+2),
		fmt.Sprintf("row %d competencies", rows+3),
		fmt.Sprintf("row %d seniority_level", rows+4),
	}, where)
	require.Contains(t, rejections.GetRejections()[1].GetReason(), "quantum")
	for _, hris := range []string{"B000001", "B000002", "B000003"} {
		list, err := client.ListPeople(adminCtx, &participantv1.ListPeopleRequest{PageSize: 1000, Department: "Sales"})
		require.NoError(t, err)
		for _, p := range list.GetPeople() {
			require.NotEqual(t, hris, p.GetHrisId(), "a rejected row stores nothing")
		}
	}

	// Self-enrolment of a person created outside the import.
	code, grace := httpDo(t, http.MethodPost, base+"/v1/people:upsert", admin,
		`{"hrisId":"G1","displayName":"Grace","email":"grace@acme.example","timeZone":"America/New_York","seniorityLevel":12}`)
	require.Equal(t, http.StatusOK, code, "body: %v", grace)
	graceToken := runCLI(t, "token", "--data-dir", dataDir, "--tenant", "acme", "--role", "participant", "--subject", "grace@acme.example")
	graceCtx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+graceToken)
	_, err = client.EnrollParticipant(graceCtx, &participantv1.EnrollParticipantRequest{Participant: &participantv1.Participant{
		ProgramId: programID, Role: participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE,
		DevelopmentAreas: []*participantv1.DevelopmentArea{{SkillId: "quantum", TargetLevel: 3}},
	}})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "unknown skill: %v", err)
	self, err := client.EnrollParticipant(graceCtx, &participantv1.EnrollParticipantRequest{Participant: &participantv1.Participant{
		ProgramId: programID, Role: participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE,
		DevelopmentAreas: []*participantv1.DevelopmentArea{{SkillId: "genai", CurrentLevel: 1, TargetLevel: 4}},
	}})
	require.NoError(t, err)

	// List every participant page by page over HTTP.
	seen := map[string]bool{}
	token := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100)
		code, page := httpDo(t, http.MethodGet, base+"/v1/programs/"+programID+"/participants?pageSize=1000&pageToken="+token, admin, "")
		require.Equal(t, http.StatusOK, code, "page %d: %v", pages, page)
		list, _ := page["participants"].([]any)
		for _, p := range list {
			id := p.(map[string]any)["id"].(string)
			require.False(t, seen[id], "listed twice: %s", id)
			seen[id] = true
		}
		token, _ = page["nextPageToken"].(string)
		if token == "" {
			break
		}
	}
	require.Len(t, seen, rows+1)
	require.True(t, seen[self.GetId()])

	// Export and erase a person over gRPC.
	export, err := client.ExportPerson(adminCtx, &participantv1.ExportPersonRequest{Id: self.GetPersonId(), Reason: "DSAR 2026-11"})
	require.NoError(t, err)
	require.Equal(t, "grace@acme.example", export.GetPerson().GetEmail())
	require.Len(t, export.GetParticipations(), 1)
	erased, err := client.ErasePerson(adminCtx, &participantv1.ErasePersonRequest{Id: self.GetPersonId(), Reason: "erasure request 2026-12"})
	require.NoError(t, err)
	require.EqualValues(t, 1, erased.GetParticipationsAnonymised())
	person, err := client.GetPerson(adminCtx, &participantv1.GetPersonRequest{Id: self.GetPersonId()})
	require.NoError(t, err)
	require.True(t, person.GetErased())
	require.Empty(t, person.GetDisplayName())

	// Importing the same file again changes nothing.
	code, job = httpDo(t, http.MethodPost, base+"/v1/imports", admin, string(request))
	require.Equal(t, http.StatusOK, code)
	importID = job["id"].(string)
	testkit.Eventually(t, 3*time.Minute, func() bool {
		code, job = httpDo(t, http.MethodGet, base+"/v1/imports/"+importID, admin, "")
		return code == http.StatusOK && job["state"] != "IMPORT_STATE_RUNNING"
	}, "re-import finished: %v", job)
	require.EqualValues(t, rows, job["unchangedRows"], "job: %v", job)
	require.Nil(t, job["createdRows"])
	require.Nil(t, job["updatedRows"])
}
