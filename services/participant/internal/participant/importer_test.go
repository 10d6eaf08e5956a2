package participant_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	pkgsql "github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/participant/internal/participant"
	"github.com/tandem-oss/tandem/services/participant/internal/sqlstore"
)

// setup opens a database with tenant and its skills catalogue.
func setup(t testing.TB, url, tenant string) (*pkgsql.DB, *participant.Service, *sqlstore.Store) {
	t.Helper()
	db, err := pkgsql.Open(context.Background(), url, eventbus.Migrations, sqlstore.Migrations)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	store := sqlstore.New(db, nil)
	svc := participant.NewService(store)
	addTenant(t, db, svc, tenant)
	return db, svc, store
}

var skills = []string{"genai", "python", "data", "cloud", "security", "social", "agile", "ux"}

func addTenant(t testing.TB, db *pkgsql.DB, svc *participant.Service, tenant string) {
	t.Helper()
	ctx := context.Background()
	_, _, err := svc.EnsureTenant(ctx, tenant, "")
	require.NoError(t, err)
	for _, id := range skills {
		_, err := db.ExecContext(ctx, `INSERT INTO skills (tenant_id, id, display_name, category, description, create_time, update_time)
			VALUES ($1, $2, $3, '', '', $4, $4)`, tenant, id, id, time.Now().UTC())
		require.NoError(t, err)
	}
}

// stopAfter is the real store that stops its process after a number of
// committed batches: it cancels the importer's context, and when crash is
// set it also never gives the lease back, as a killed process would not.
type stopAfter struct {
	participant.ImportStore
	batches int
	crash   bool
	stop    context.CancelFunc
}

func (s *stopAfter) ApplyImportBatch(ctx context.Context, tenant string, b participant.ImportBatch) error {
	err := s.ImportStore.ApplyImportBatch(ctx, tenant, b)
	if s.batches--; s.batches == 0 {
		s.stop()
	}
	return err
}

func (s *stopAfter) ReleaseImport(ctx context.Context, tenant, id, owner string) error {
	if s.crash {
		return nil
	}
	return s.ImportStore.ReleaseImport(ctx, tenant, id, owner)
}

// chain is a file of n people where each reports to the person in the
// next row, so every manager comes after their reports.
func chain(n int) []byte {
	var b strings.Builder
	b.WriteString("hris_id,display_name,email,time_zone,manager_hris_id\n")
	for i := range n {
		manager := ""
		if i < n-1 {
			manager = fmt.Sprintf("E%d", i+1)
		}
		fmt.Fprintf(&b, "E%d,Person %d,p%d@acme.example,UTC,%s\n", i, i, i, manager)
	}
	return []byte(b.String())
}

func TestImportResumesAfterAStop(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(map[bool]string{false: "graceful stop", true: "crash"}[crash], func(t *testing.T) {
			testkit.Stores(t, func(t *testing.T, url string) {
				db, svc, store := setup(t, url, "acme")
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				first := participant.NewImporter(svc, &stopAfter{ImportStore: store, batches: 2, crash: crash, stop: cancel}, participant.WithBatchSize(3))
				im, err := first.Create(ctx, "acme", participant.ImportRequest{CSV: chain(10)})
				require.NoError(t, err)
				worked, err := first.ProcessNext(ctx)
				require.True(t, worked)
				require.ErrorIs(t, err, context.Canceled)

				im, err = first.Get(context.Background(), "acme", im.ID)
				require.NoError(t, err)
				require.Equal(t, participant.ImportRunning, im.State)
				require.Equal(t, []int{10, 6, 6}, []int{im.TotalRows, im.ProcessedRows, im.CreatedRows}, "two batches of three committed")
				require.Equal(t, 60, im.ProgressPercent())

				// Another replica, with another batch size, resumes the job.
				second := participant.NewImporter(svc, store, participant.WithBatchSize(4))
				if crash {
					worked, err := second.ProcessNext(context.Background())
					require.NoError(t, err)
					require.False(t, worked, "the dead replica's lease is still current")
					_, err = db.ExecContext(context.Background(), `UPDATE imports SET lease_expires_at = $1`, time.Now().UTC().Add(-time.Second))
					require.NoError(t, err)
				}
				worked, err = second.ProcessNext(context.Background())
				require.NoError(t, err)
				require.True(t, worked)
				im, err = second.Get(context.Background(), "acme", im.ID)
				require.NoError(t, err)
				require.Equal(t, participant.ImportSucceeded, im.State)
				require.Equal(t, []int{10, 10, 10, 0, 0, 0}, []int{im.TotalRows, im.ProcessedRows, im.CreatedRows, im.UpdatedRows, im.UnchangedRows, im.RejectedRows})

				perAggregate := map[string]int{}
				for _, e := range servicetest.Outbox(t, db) {
					if e.Type == "tandem.person.created" {
						perAggregate[e.AggregateID]++
					}
				}
				require.Len(t, perAggregate, 10)
				for id, n := range perAggregate {
					require.Equal(t, 1, n, "person %s created once", id)
				}
				people, err := svc.ListPeople(context.Background(), "acme", participant.PersonFilter{}, participant.Page{})
				require.NoError(t, err)
				byHRIS := map[string]participant.Person{}
				for _, p := range people {
					byHRIS[p.HRISID] = p
				}
				for i := range 9 {
					require.Equal(t, byHRIS[fmt.Sprintf("E%d", i+1)].ID, byHRIS[fmt.Sprintf("E%d", i)].ManagerID)
				}
			})
		})
	}
}

func TestImportRejectsManagerCycles(t *testing.T) {
	_, svc, store := setup(t, testkit.SQLiteURL(t), "acme")
	importer := participant.NewImporter(svc, store)
	ctx := context.Background()
	im, err := importer.Create(ctx, "acme", participant.ImportRequest{CSV: []byte("hris_id,display_name,email,time_zone,manager_hris_id\n" +
		"A,A,a@x.example,UTC,B\nB,B,b@x.example,UTC,C\nC,C,c@x.example,UTC,A\nD,D,d@x.example,UTC,A\nE,E,e@x.example,UTC,\n")})
	require.NoError(t, err)
	worked, err := importer.ProcessNext(ctx)
	require.NoError(t, err)
	require.True(t, worked)
	rejections, err := importer.ListRejections(ctx, "acme", im.ID, participant.RejectionCursor{}, 0)
	require.NoError(t, err)
	cycle := "the manager relation forms a cycle through rows 2, 3, 4"
	require.Equal(t, []participant.Rejection{
		{Row: 2, Field: "manager_hris_id", Reason: cycle},
		{Row: 3, Field: "manager_hris_id", Reason: cycle},
		{Row: 4, Field: "manager_hris_id", Reason: cycle},
		{Row: 5, Field: "manager_hris_id", Reason: `the manager "A" is in row 2, which was rejected`},
	}, rejections)
	im, err = importer.Get(ctx, "acme", im.ID)
	require.NoError(t, err)
	require.Equal(t, []int{1, 4}, []int{im.CreatedRows, im.RejectedRows})
}

// hrisExport returns a realistic export of n people for an enrolment
// import: a reporting tree of fan-out 8 in shuffled row order (so managers
// often come after their reports), languages, dates, and competencies or
// development areas from the catalogue.
func hrisExport(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	zones := []string{"Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Singapore", "America/Sao_Paulo", "Australia/Sydney", "UTC"}
	languages := []string{"en", "en|de", "en|fr", "en|hi", "pt|en", "en|es|fr"}
	departments := []string{"Engineering", "Sales", "Marketing", "Finance", "HR", "Legal", "Operations", "Support", "Research", "Data"}
	var b strings.Builder
	b.WriteString("\xEF\xBB\xBFEmployee ID;Name;Email;Department;Title;Level;Manager ID;Hire date;Location;Time zone;Languages;Status;" +
		"Role;Competencies;Development areas;Work style;Preferred format;Capacity\n")
	for _, i := range rng.Perm(n) {
		manager := ""
		if i > 0 {
			manager = fmt.Sprintf("E%06d", (i-1)/8)
		}
		level := 12 - min(11, depth(i))
		role, comps, areas, capacity := "mentee", "", fmt.Sprintf("%s:1:4|%s:2:3", skills[i%8], skills[(i+3)%8]), ""
		if level <= 6 {
			role, comps, areas, capacity = "mentor", fmt.Sprintf("%s:4|%s:3", skills[i%8], skills[(i+5)%8]), "", "2"
		}
		fmt.Fprintf(&b, "E%06d;\"Person %d, Example\";p%d@acme.example;%s;Specialist %d;%d;%s;20%02d-%02d-%02d;Site %d;%s;%s;active;%s;%s;%s;structured;remote;%s\n",
			i, i, i, departments[i%len(departments)], i%7, level, manager, 10+i%15, 1+i%12, 1+i%28, i%30,
			zones[i%len(zones)], languages[i%len(languages)], role, comps, areas, capacity)
	}
	return []byte(b.String())
}

func depth(i int) int {
	d := 0
	for ; i > 0; i = (i - 1) / 8 {
		d++
	}
	return d
}

var exportMapping = map[string]string{
	"Employee ID": "hris_id", "Name": "display_name", "Level": "seniority_level", "Manager ID": "manager_hris_id",
	"Hire date": "hire_date", "Time zone": "time_zone", "Status": "employment_status", "Development areas": "development_areas",
	"Work style": "work_style", "Preferred format": "preferred_format",
}

// BenchmarkImport50k imports a 50,000-row HRIS export into a program
// (50,000 people and 50,000 enrolments, 100,000 events) and then the same
// file again (every row unchanged), on each engine.
func BenchmarkImport50k(b *testing.B) {
	const rows = 50_000
	csv := hrisExport(rows)
	for _, engine := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", testkit.SQLiteURL}, {"postgres", testkit.PostgresURL}} {
		b.Run(engine.name, func(b *testing.B) {
			db, svc, store := setup(b, engine.url(b), "bench0")
			importer := participant.NewImporter(svc, store)
			ctx := context.Background()
			var first, again time.Duration
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				tenant := fmt.Sprintf("bench%d", i)
				if i > 0 {
					addTenant(b, db, svc, tenant)
				}
				program, err := svc.CreateProgram(ctx, tenant, participant.Program{DisplayName: "AI for leaders", Type: participant.ProgramReverse})
				require.NoError(b, err)
				req := participant.ImportRequest{CSV: csv, ColumnMapping: exportMapping, ProgramID: program.ID}
				b.StartTimer()

				start := time.Now()
				im := runToEnd(b, importer, tenant, req)
				first += time.Since(start)
				require.Equal(b, []int{rows, rows, 0}, []int{im.CreatedRows, im.ProcessedRows, im.RejectedRows}, "error: %s", im.Error)

				start = time.Now()
				im = runToEnd(b, importer, tenant, req)
				again += time.Since(start)
				require.Equal(b, rows, im.UnchangedRows)
			}
			b.ReportMetric(float64(rows*b.N)/first.Seconds(), "rows/s")
			b.ReportMetric(first.Seconds()/float64(b.N), "s/import")
			b.ReportMetric(again.Seconds()/float64(b.N), "s/reimport")
		})
	}
}

func runToEnd(b *testing.B, importer *participant.Importer, tenant string, req participant.ImportRequest) participant.Import {
	ctx := context.Background()
	im, err := importer.Create(ctx, tenant, req)
	require.NoError(b, err)
	for {
		worked, err := importer.ProcessNext(ctx)
		require.NoError(b, err)
		if !worked {
			break
		}
	}
	im, err = importer.Get(ctx, tenant, im.ID)
	require.NoError(b, err)
	return im
}

// failing is the real store whose batches always fail, as with a bug or a
// database that keeps refusing the rows.
type failing struct{ participant.ImportStore }

func (failing) ApplyImportBatch(context.Context, string, participant.ImportBatch) error {
	return errors.New("db: disk I/O error")
}

func TestImportFailsAfterRepeatedErrors(t *testing.T) {
	db, svc, store := setup(t, testkit.SQLiteURL(t), "acme")
	importer := participant.NewImporter(svc, failing{store})
	ctx := context.Background()
	im, err := importer.Create(ctx, "acme", participant.ImportRequest{CSV: chain(3)})
	require.NoError(t, err)
	for attempt := 1; attempt <= 10; attempt++ {
		worked, err := importer.ProcessNext(ctx)
		require.True(t, worked, "attempt %d claims the released job again", attempt)
		require.ErrorContains(t, err, "disk I/O error")
		im, err = importer.Get(ctx, "acme", im.ID)
		require.NoError(t, err)
		if attempt < 10 {
			require.Equal(t, participant.ImportRunning, im.State)
		}
	}
	require.Equal(t, participant.ImportFailed, im.State)
	require.Contains(t, im.Error, "stopped by an internal error after 10 attempts")
	require.NotContains(t, im.Error, "disk", "internal errors are not shown to the caller")
	worked, err := importer.ProcessNext(ctx)
	require.NoError(t, err)
	require.False(t, worked)
	events := servicetest.Outbox(t, db)
	require.Equal(t, "tandem.import.completed", events[len(events)-1].Type)
}
