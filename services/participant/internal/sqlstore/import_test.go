package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	pkgsql "github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/participant/internal/participant"
	"github.com/tandem-oss/tandem/services/participant/internal/sqlstore"
)

// importFixture is one database with a tenant "acme", its skills
// catalogue and an importer applying two rows per transaction, so that
// every file spans several batches.
type importFixture struct {
	db       *pkgsql.DB
	svc      *participant.Service
	store    *sqlstore.Store
	importer *participant.Importer
}

func newImportFixture(t *testing.T, url string) *importFixture {
	t.Helper()
	ctx := context.Background()
	db, err := pkgsql.Open(ctx, url, eventbus.Migrations, sqlstore.Migrations)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	store := sqlstore.New(db, nil)
	svc := participant.NewService(store)
	_, _, err = svc.EnsureTenant(ctx, "acme", "Acme")
	require.NoError(t, err)
	for _, id := range []string{"genai", "python"} {
		_, err := db.ExecContext(ctx, `INSERT INTO skills (tenant_id, id, display_name, category, description, create_time, update_time)
			VALUES ($1, $2, $3, '', '', $4, $4)`, "acme", id, id, time.Now().UTC())
		require.NoError(t, err)
	}
	return &importFixture{db: db, svc: svc, store: store, importer: participant.NewImporter(svc, store, participant.WithBatchSize(2))}
}

// run imports a file to its end and returns the finished import with its
// rejections and the types of the events it wrote.
func (f *importFixture) run(t *testing.T, req participant.ImportRequest) (participant.Import, []participant.Rejection, map[string]int) {
	t.Helper()
	ctx := context.Background()
	before := len(servicetest.Outbox(t, f.db))
	im, err := f.importer.Create(ctx, "acme", req)
	require.NoError(t, err)
	require.Equal(t, participant.ImportRunning, im.State)
	for {
		worked, err := f.importer.ProcessNext(ctx)
		require.NoError(t, err)
		if !worked {
			break
		}
	}
	im, err = f.importer.Get(ctx, "acme", im.ID)
	require.NoError(t, err)
	require.NotEqual(t, participant.ImportRunning, im.State)
	rejections, err := f.importer.ListRejections(ctx, "acme", im.ID, participant.RejectionCursor{}, 1000)
	require.NoError(t, err)
	events := map[string]int{}
	for _, e := range servicetest.Outbox(t, f.db)[before:] {
		events[e.Type]++
	}
	return im, rejections, events
}

func (f *importFixture) people(t *testing.T) map[string]participant.Person {
	t.Helper()
	list, err := f.svc.ListPeople(context.Background(), "acme", participant.PersonFilter{}, participant.Page{Size: 1000})
	require.NoError(t, err)
	out := map[string]participant.Person{}
	for _, p := range list {
		out[p.HRISID] = p
	}
	return out
}

// counts are an import's row counters.
type counts struct{ Total, Processed, Created, Updated, Unchanged, Rejected int }

func countsOf(im participant.Import) counts {
	return counts{im.TotalRows, im.ProcessedRows, im.CreatedRows, im.UpdatedRows, im.UnchangedRows, im.RejectedRows}
}

// TestImportConformance checks the import on every engine.
func TestImportConformance(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := context.Background()
		f := newImportFixture(t, url)
		directory := []byte("hris_id,display_name,email,time_zone,manager_hris_id,languages,seniority_level\n" +
			"E3,Cy Report,cy@acme.example,Asia/Kolkata,E2,en,2\n" + // row 2: its manager comes later
			"E2,Bo Lead,bo@acme.example,Europe/Berlin,E1,en|de,6\n" + // 3
			"E1,Ada Boss,ada@acme.example,Europe/London,,en,10\n" + // 4
			"E4,Di Bad,di@acme.example,Europe/Atlantis,E1,,3\n" + // 5
			"E5,Ed Orphan,ed@acme.example,UTC,E99,,3\n" + // 6
			"E2,Bo Twice,bo2@acme.example,UTC,,,1\n" + // 7
			"E6,Fa Sub,fa@acme.example,UTC,E4,,1\n") // 8
		wantRejections := []participant.Rejection{
			{Row: 5, Field: "time_zone", Reason: `unknown IANA time zone "Europe/Atlantis"; use a name such as Europe/London`},
			{Row: 6, Field: "manager_hris_id", Reason: `unknown manager "E99": neither in this file nor in the directory`},
			{Row: 7, Field: "hris_id", Reason: "duplicate hris_id, first seen in row 3"},
			{Row: 8, Field: "manager_hris_id", Reason: `the manager "E4" is in row 5, which was rejected`},
		}

		t.Run("creates people, resolves managers in any row order, rejects bad rows precisely", func(t *testing.T) {
			im, rejections, events := f.run(t, participant.ImportRequest{CSV: directory})
			require.Equal(t, participant.ImportSucceeded, im.State)
			require.Equal(t, counts{Total: 7, Processed: 7, Created: 3, Rejected: 4}, countsOf(im))
			require.Equal(t, 100, im.ProgressPercent())
			if diff := cmp.Diff(wantRejections, rejections); diff != "" {
				t.Errorf("rejections (-want +got):\n%s", diff)
			}
			require.Equal(t, map[string]int{"tandem.person.created": 3, "tandem.import.completed": 1}, events)
			people := f.people(t)
			require.Len(t, people, 3, "rejected rows are not applied")
			require.Equal(t, people["E2"].ID, people["E3"].ManagerID)
			require.Equal(t, people["E1"].ID, people["E2"].ManagerID)
			require.Empty(t, people["E1"].ManagerID)
			require.Equal(t, []string{"en", "de"}, people["E2"].Languages)
			require.Equal(t, 6, people["E2"].SeniorityLevel)
			require.Equal(t, "bo@acme.example", people["E2"].Subject, "the subject defaults to the email")
			require.Equal(t, participant.EmploymentActive, people["E2"].EmploymentStatus)
		})

		t.Run("importing the same file again changes nothing", func(t *testing.T) {
			before := f.people(t)
			im, rejections, events := f.run(t, participant.ImportRequest{CSV: directory})
			require.Equal(t, counts{Total: 7, Processed: 7, Unchanged: 3, Rejected: 4}, countsOf(im))
			require.Equal(t, map[string]int{"tandem.import.completed": 1}, events, "no person or participant event")
			if diff := cmp.Diff(wantRejections, rejections); diff != "" {
				t.Errorf("rejections (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, f.people(t)); diff != "" {
				t.Errorf("people changed (-before +after):\n%s", diff)
			}
		})

		t.Run("updates what differs and keeps the columns the file lacks", func(t *testing.T) {
			before := f.people(t)
			im, rejections, events := f.run(t, participant.ImportRequest{CSV: []byte("Employee;Job title;Status\nE1;CEO;\nE2;;leave\nE3;;\n"),
				ColumnMapping: map[string]string{"Employee": "hris_id", "Job title": "title", "status": "employment_status"}})
			require.Empty(t, rejections)
			require.Equal(t, counts{Total: 3, Processed: 3, Updated: 2, Unchanged: 1}, countsOf(im))
			require.Equal(t, map[string]int{"tandem.person.updated": 2, "tandem.import.completed": 1}, events)
			after := f.people(t)
			require.Equal(t, "CEO", after["E1"].Title)
			require.Equal(t, participant.EmploymentLeave, after["E2"].EmploymentStatus)
			require.Equal(t, participant.EmploymentActive, after["E1"].EmploymentStatus, "an empty status keeps the stored one")
			want := before["E1"]
			want.Title, want.UpdateTime = "CEO", after["E1"].UpdateTime
			if diff := cmp.Diff(want, after["E1"]); diff != "" {
				t.Errorf("E1 (-want +got):\n%s", diff)
			}
			require.True(t, after["E1"].UpdateTime.After(before["E1"].UpdateTime))
			require.Equal(t, before["E3"], after["E3"])
		})

		t.Run("new people need a name, an email and a time zone", func(t *testing.T) {
			im, rejections, _ := f.run(t, participant.ImportRequest{CSV: []byte("hris_id,display_name,email\nN1,Ny New,\n")})
			require.Equal(t, counts{Total: 1, Processed: 1, Rejected: 1}, countsOf(im))
			require.Equal(t, []participant.Rejection{
				{Row: 2, Seq: 0, Field: "email", Reason: "required for a new person"},
				{Row: 2, Seq: 1, Field: "time_zone", Reason: "required for a new person, and the file has no time_zone column"},
			}, rejections)
		})

		t.Run("an erased person is not brought back, nor used as a manager", func(t *testing.T) {
			_, err := f.db.ExecContext(ctx, `UPDATE people SET erased = $1, display_name = '', email = '', subject = '' WHERE tenant_id = 'acme' AND hris_id = 'E3'`, true)
			require.NoError(t, err)
			im, rejections, events := f.run(t, participant.ImportRequest{CSV: []byte("hris_id,display_name,email,time_zone,manager_hris_id\n" +
				"E3,Cy Again,cy@acme.example,UTC,\nE7,Gi Sub,gi@acme.example,UTC,E3\n")})
			require.Equal(t, counts{Total: 2, Processed: 2, Rejected: 2}, countsOf(im))
			require.Equal(t, []participant.Rejection{
				{Row: 2, Field: "hris_id", Reason: "person was erased; an erased person's HRIS id is never imported again"},
				{Row: 3, Field: "manager_hris_id", Reason: `the manager "E3" was erased`},
			}, rejections)
			require.Equal(t, map[string]int{"tandem.import.completed": 1}, events)
			require.True(t, f.people(t)["E3"].Erased)
		})

		program, err := f.svc.CreateProgram(ctx, "acme", participant.Program{DisplayName: "AI for leaders", Type: participant.ProgramReverse})
		require.NoError(t, err)
		enrolment := []byte("hris_id,display_name,email,time_zone,role,competencies,development_areas,capacity\n" +
			"E1,Ada Boss,ada@acme.example,Europe/London,mentee,,genai:1:4,\n" + // 2: existing person, new enrolment
			"E2,Bo Lead,bo@acme.example,Europe/Berlin,mentor,genai:4|python:3,,2\n" + // 3
			"M1,Mo New,mo@acme.example,UTC,,genai:3,,\n" + // 4: new person, default role
			"M2,Ny Bad,ny@acme.example,UTC,mentor,rust:4|genai:2,,\n" + // 5: unknown skill
			"M3,Ox Bad,ox@acme.example,UTC,mentee,,genai:2,3\n") // 6: a mentee has no capacity
		enrol := participant.ImportRequest{CSV: enrolment, ProgramID: program.ID, DefaultRole: participant.RoleMentor}
		participants := func(t *testing.T) map[string]participant.Participant {
			t.Helper()
			list, err := f.svc.ListParticipants(ctx, "acme", participant.ParticipantFilter{ProgramID: program.ID}, participant.Page{Size: 1000})
			require.NoError(t, err)
			people := f.people(t)
			out := map[string]participant.Participant{}
			for _, p := range list {
				for hris, person := range people {
					if person.ID == p.PersonID {
						out[hris] = p
					}
				}
			}
			return out
		}

		t.Run("enrols into a program with skills from the catalogue", func(t *testing.T) {
			im, rejections, events := f.run(t, enrol)
			require.Equal(t, counts{Total: 5, Processed: 5, Created: 3, Rejected: 2}, countsOf(im))
			require.Equal(t, []participant.Rejection{
				{Row: 5, Field: "competencies", Reason: `unknown skill "rust": add it to the skills catalogue first`},
				{Row: 6, Field: "capacity", Reason: "only mentors have a capacity"},
			}, rejections)
			require.Equal(t, map[string]int{"tandem.person.created": 1, "tandem.participant.enrolled": 3, "tandem.import.completed": 1}, events)
			parts := participants(t)
			require.Len(t, parts, 3)
			require.Equal(t, participant.RoleMentee, parts["E1"].Role)
			require.Equal(t, []participant.DevelopmentArea{{SkillID: "genai", CurrentLevel: 1, TargetLevel: 4}}, parts["E1"].Profile.DevelopmentAreas)
			require.Equal(t, participant.Profile{Competencies: []participant.Competency{{SkillID: "genai", Level: 4}, {SkillID: "python", Level: 3}}, Capacity: 2},
				parts["E2"].Profile)
			require.Equal(t, participant.RoleMentor, parts["M1"].Role, "the default role")
		})

		t.Run("re-enrolling the same file changes nothing", func(t *testing.T) {
			im, _, events := f.run(t, enrol)
			require.Equal(t, counts{Total: 5, Processed: 5, Unchanged: 3, Rejected: 2}, countsOf(im))
			require.Equal(t, map[string]int{"tandem.import.completed": 1}, events)
		})

		t.Run("updates a profile; keeps roles; a withdrawn participant stays withdrawn", func(t *testing.T) {
			_, err := f.svc.Withdraw(ctx, "acme", participants(t)["M1"].ID, "changed their mind")
			require.NoError(t, err)
			im, rejections, events := f.run(t, participant.ImportRequest{ProgramID: program.ID, DefaultRole: participant.RoleMentee,
				CSV: []byte("hris_id,role,capacity,competencies\nE2,,3,genai:5\nE1,mentor,,\nM1,mentor,1,\n")})
			require.Equal(t, counts{Total: 3, Processed: 3, Updated: 1, Rejected: 2}, countsOf(im))
			require.Equal(t, []participant.Rejection{
				{Row: 3, Field: "role", Reason: "already enrolled as mentee; withdraw and enrol again to change the role"},
				{Row: 4, Reason: "the person was withdrawn from the program; an import does not enrol them again"},
			}, rejections)
			require.Equal(t, map[string]int{"tandem.participant.updated": 1, "tandem.import.completed": 1}, events)
			parts := participants(t)
			require.Equal(t, participant.Profile{Competencies: []participant.Competency{{SkillID: "genai", Level: 5}}, Capacity: 3}, parts["E2"].Profile)
			require.Equal(t, participant.ParticipantWithdrawn, parts["M1"].State)
		})

		t.Run("the program's capacity rule applies", func(t *testing.T) {
			capped, err := f.svc.CreateProgram(ctx, "acme", participant.Program{DisplayName: "Capped", Type: participant.ProgramReverse, MaxMentorCapacity: 2})
			require.NoError(t, err)
			im, rejections, _ := f.run(t, participant.ImportRequest{ProgramID: capped.ID, CSV: []byte("hris_id,role,capacity\nE1,mentor,3\nE2,mentor,2\n")})
			require.Equal(t, counts{Total: 2, Processed: 2, Created: 1, Rejected: 1}, countsOf(im))
			require.Equal(t, []participant.Rejection{
				{Row: 2, Field: "capacity", Reason: "program " + capped.ID + " allows at most 2 mentees per mentor"},
			}, rejections)
		})

		t.Run("a program that stopped taking enrolments fails the import before any row", func(t *testing.T) {
			closing, err := f.svc.CreateProgram(ctx, "acme", participant.Program{DisplayName: "Closing", Type: participant.ProgramClassic})
			require.NoError(t, err)
			im, err := f.importer.Create(ctx, "acme", participant.ImportRequest{CSV: enrolment, ProgramID: closing.ID, DefaultRole: participant.RoleMentor})
			require.NoError(t, err)
			for _, to := range []participant.ProgramState{participant.ProgramEnrolling, participant.ProgramMatching, participant.ProgramActive} {
				_, err := f.svc.TransitionProgram(ctx, "acme", closing.ID, to, "")
				require.NoError(t, err)
			}
			before := len(servicetest.Outbox(t, f.db))
			worked, err := f.importer.ProcessNext(ctx)
			require.NoError(t, err)
			require.True(t, worked)
			im, err = f.importer.Get(ctx, "acme", im.ID)
			require.NoError(t, err)
			require.Equal(t, participant.ImportFailed, im.State)
			require.Equal(t, "program "+closing.ID+" is active and takes no enrolments", im.Error)
			require.Equal(t, counts{}, countsOf(im))
			require.False(t, im.FinishTime.IsZero())
			events := servicetest.Outbox(t, f.db)[before:]
			require.Len(t, events, 1)
			require.Equal(t, "tandem.import.completed", events[0].Type)

			_, err = f.importer.Create(ctx, "acme", participant.ImportRequest{CSV: enrolment, ProgramID: closing.ID})
			require.ErrorIs(t, err, apperr.ErrFailedPrecondition, "refused at once when the program is already closed")
		})

		t.Run("an unusable header fails the whole file", func(t *testing.T) {
			im, rejections, events := f.run(t, participant.ImportRequest{CSV: []byte("name,email\nAda,ada@acme.example\n")})
			require.Equal(t, participant.ImportFailed, im.State)
			require.Contains(t, im.Error, `the file has no hris_id column (headers: "name", "email")`)
			require.Empty(t, rejections)
			require.Equal(t, map[string]int{"tandem.import.completed": 1}, events)
			var files int
			require.NoError(t, f.db.QueryRowContext(ctx, `SELECT count(*) FROM import_files`).Scan(&files))
			require.Zero(t, files, "no copy of a file outlives its import")
		})

		t.Run("imports are per tenant", func(t *testing.T) {
			_, _, err := f.svc.EnsureTenant(ctx, "globex", "")
			require.NoError(t, err)
			im, err := f.importer.Create(ctx, "acme", participant.ImportRequest{CSV: directory})
			require.NoError(t, err)
			_, err = f.importer.Get(ctx, "globex", im.ID)
			require.ErrorIs(t, err, apperr.ErrNotFound)
			_, err = f.importer.ListRejections(ctx, "globex", im.ID, participant.RejectionCursor{}, 10)
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})
	})
}

// TestImportLease checks that one replica at a time processes a job and
// that a job of a dead replica is resumed once its lease expires.
func TestImportLease(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := context.Background()
		f := newImportFixture(t, url)
		im, err := f.importer.Create(ctx, "acme", participant.ImportRequest{CSV: []byte("hris_id,display_name,email,time_zone\nE1,Ada,ada@acme.example,UTC\n")})
		require.NoError(t, err)

		job, ok, err := f.store.ClaimImport(ctx, "replica-a", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, im.ID, job.Import.ID)
		require.Contains(t, string(job.CSV), "E1,Ada")

		_, ok, err = f.store.ClaimImport(ctx, "replica-b", time.Minute)
		require.NoError(t, err)
		require.False(t, ok, "a leased job is not claimed twice")

		// Replica A dies; its lease runs out.
		_, err = f.db.ExecContext(ctx, `UPDATE imports SET lease_expires_at = $1`, time.Now().UTC().Add(-time.Second))
		require.NoError(t, err)
		job, ok, err = f.store.ClaimImport(ctx, "replica-b", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)

		plan := func(participant.ImportSnapshot) (participant.ImportChanges, error) {
			return participant.ImportChanges{Processed: 1, Unchanged: 1}, nil
		}
		err = f.store.ApplyImportBatch(ctx, "acme", participant.ImportBatch{ImportID: im.ID, Owner: "replica-a", LeaseTTL: time.Minute, Plan: plan})
		require.ErrorIs(t, err, participant.ErrImportLeaseLost, "the old owner can no longer commit")
		_, err = f.store.FinishImport(ctx, "acme", im.ID, "replica-a", participant.ImportOutcome{State: participant.ImportSucceeded, FinishTime: time.Now()})
		require.ErrorIs(t, err, participant.ErrImportLeaseLost)
		require.NoError(t, f.store.ApplyImportBatch(ctx, "acme", participant.ImportBatch{ImportID: im.ID, Owner: "replica-b", LeaseTTL: time.Minute, TotalRows: 1, Plan: plan}))

		got, err := f.importer.Get(ctx, "acme", im.ID)
		require.NoError(t, err)
		require.Equal(t, counts{Total: 1, Processed: 1, Unchanged: 1}, countsOf(got))
		require.NoError(t, f.store.ReleaseImport(ctx, "acme", im.ID, "replica-b"))
		_, ok, err = f.store.ClaimImport(ctx, "replica-c", time.Minute)
		require.NoError(t, err)
		require.True(t, ok, "a released job is claimable at once")
	})
}
