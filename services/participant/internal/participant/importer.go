package participant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/services/participant/internal/csvimport"
)

// MaxImportBytes bounds the file of one import.
const MaxImportBytes = 64 << 20

// ImportState is a step of an import's life.
type ImportState string

// Import states. An import is RUNNING until every row is applied or
// rejected (SUCCEEDED), or the file as a whole is unusable (FAILED, nothing
// imported).
const (
	ImportRunning   ImportState = "running"
	ImportSucceeded ImportState = "succeeded"
	ImportFailed    ImportState = "failed"
)

// Import is a bulk import job with its progress and outcome.
type Import struct {
	ID            string
	ProgramID     string
	DefaultRole   Role
	Delimiter     string            // "", "," or ";"
	ColumnMapping map[string]string // header → field
	State         ImportState
	TotalRows     int
	ProcessedRows int
	CreatedRows   int
	UpdatedRows   int
	UnchangedRows int
	RejectedRows  int
	Error         string
	CreateTime    time.Time
	FinishTime    time.Time
}

// ProgressPercent is the share of processed rows, 0 to 100; a finished
// import is at 100.
func (im Import) ProgressPercent() int {
	switch {
	case im.State != ImportRunning:
		return 100
	case im.TotalRows == 0:
		return 0
	default:
		return min(100, im.ProcessedRows*100/im.TotalRows)
	}
}

// ImportRequest asks for an import of a CSV file.
type ImportRequest struct {
	CSV           []byte
	ColumnMapping map[string]string
	ProgramID     string
	DefaultRole   Role
	Delimiter     string
}

// Rejection says why one row was refused: the spreadsheet row number (the
// header is row 1), the field at fault ("" for the whole row) and why. Seq
// orders the rejections of one row.
type Rejection struct {
	Row    int
	Seq    int
	Field  string
	Reason string
}

// RejectionCursor is the position of a rejection in row order.
type RejectionCursor struct {
	Row int
	Seq int
}

// ImportJob is a claimed import with its file.
type ImportJob struct {
	Tenant string
	Import Import
	CSV    []byte
}

// ImportSnapshot is what is stored about one batch of rows, read in the
// batch's transaction.
type ImportSnapshot struct {
	// People holds the people with the HRIS ids of the batch's rows and of
	// their managers, erased ones included.
	People map[string]Person
	// Participants holds those people's enrolments in the import's program,
	// by person id.
	Participants map[string]Participant
	// Skills is the tenant's skills catalogue (import into a program only).
	Skills map[string]bool
	// Program is the import's program as it is now (zero when it is gone).
	Program Program
}

// ImportChanges is what one batch writes, each change with its event, and
// how the import's counters move.
type ImportChanges struct {
	NewPeople           []Person
	ChangedPeople       []Person
	NewParticipants     []Participant
	ChangedParticipants []Participant
	Rejections          []Rejection
	Processed           int
	Created             int
	Updated             int
	Unchanged           int
	Rejected            int
}

// ImportBatch is one transaction of an import.
type ImportBatch struct {
	ImportID string
	// Owner holds the import's lease; the batch commits only while it
	// still does, so two replicas never both apply a batch.
	Owner     string
	LeaseTTL  time.Duration
	ProgramID string
	TotalRows int
	// HRISIDs are the people to load into the snapshot.
	HRISIDs []string
	// Plan decides the changes from the snapshot; it must not block.
	Plan func(ImportSnapshot) (ImportChanges, error)
}

// ImportOutcome is how an import ended.
type ImportOutcome struct {
	State ImportState // SUCCEEDED or FAILED
	// TotalRows is the file's data rows when known (0 keeps the stored count).
	TotalRows  int
	Error      string
	FinishTime time.Time
}

// ErrImportLeaseLost is returned by ImportStore methods when the caller no
// longer holds the import's lease: another replica took the job over.
var ErrImportLeaseLost = errors.New("import lease lost")

// ImportStore keeps import jobs and applies imported rows. Each method is
// one transaction.
type ImportStore interface {
	// CreateImport stores a RUNNING import and its file, claimable at once.
	CreateImport(ctx context.Context, tenant string, im Import, csv []byte) error
	GetImport(ctx context.Context, tenant, id string) (Import, error)
	// ListImportRejections returns up to size rejections after the cursor,
	// in row order; ErrNotFound when the tenant has no such import.
	ListImportRejections(ctx context.Context, tenant, importID string, after RejectionCursor, size int) ([]Rejection, error)
	// ClaimImport leases one RUNNING import whose lease has expired (oldest
	// first) to owner for ttl and returns it with its file; false when
	// there is none.
	ClaimImport(ctx context.Context, owner string, ttl time.Duration) (ImportJob, bool, error)
	// ApplyImportBatch renews the lease, loads the snapshot, calls Plan and
	// writes its changes, their events, the rejections and the progress.
	ApplyImportBatch(ctx context.Context, tenant string, b ImportBatch) error
	// FinishImport ends an import with its outcome, drops its file, writes
	// import.completed and returns the import.
	FinishImport(ctx context.Context, tenant, id, owner string, out ImportOutcome) (Import, error)
	// ReleaseImport gives the lease up so any replica can resume the job.
	ReleaseImport(ctx context.Context, tenant, id, owner string) error
}

// Importer runs bulk imports of HRIS exports as background jobs: Create
// stores a job, Run applies the rows in batches of one transaction each.
// Jobs survive restarts: a job whose lease expired (its process died) is
// resumed by any replica after its last committed batch.
type Importer struct {
	svc          *Service
	store        ImportStore
	owner        string
	batchSize    int
	leaseTTL     time.Duration
	pollInterval time.Duration
	maxAttempts  int
	log          *slog.Logger
	wake         chan struct{}
	failures     map[string]int // consecutive failures per import id
}

// ImporterOption adjusts an Importer.
type ImporterOption func(*Importer)

// WithBatchSize sets the rows per transaction (default 1,000).
func WithBatchSize(n int) ImporterOption { return func(im *Importer) { im.batchSize = max(1, n) } }

// WithLogger sets the logger of background failures (default slog.Default()).
func WithLogger(l *slog.Logger) ImporterOption { return func(im *Importer) { im.log = l } }

// NewImporter returns an Importer applying rows through store.
func NewImporter(svc *Service, store ImportStore, opts ...ImporterOption) *Importer {
	im := &Importer{
		svc:          svc,
		store:        store,
		owner:        uuid.NewString(),
		batchSize:    1000,
		leaseTTL:     30 * time.Second,
		pollInterval: 2 * time.Second,
		maxAttempts:  10,
		log:          slog.Default(),
		wake:         make(chan struct{}, 1),
		failures:     map[string]int{},
	}
	for _, opt := range opts {
		opt(im)
	}
	return im
}

// Create validates req, stores the job and returns it RUNNING without
// waiting for it. The mapping, delimiter and role are checked here
// (InvalidArgument); an import into a missing program is NotFound and into
// a program that takes no enrolments FailedPrecondition. Problems of the
// file itself are found by the job, which then FAILS.
func (im *Importer) Create(ctx context.Context, tenant string, req ImportRequest) (Import, error) {
	var vs apperr.Violations
	switch {
	case len(req.CSV) == 0:
		vs.Add("csv", "must not be empty")
	case len(req.CSV) > MaxImportBytes:
		vs.Add("csv", fmt.Sprintf("%d bytes, at most %d (64 MiB)", len(req.CSV), MaxImportBytes))
	}
	enrol := req.ProgramID != ""
	for _, problem := range csvimport.CheckMapping(req.ColumnMapping, enrol) {
		vs.Add("column_mapping", problem)
	}
	switch req.Delimiter {
	case "", ",", ";":
	default:
		vs.Add("delimiter", `must be empty (detect), "," or ";"`)
	}
	switch {
	case req.DefaultRole != "" && !enrol:
		vs.Add("default_role", "only for an import into a program: set program_id")
	case req.DefaultRole != "" && req.DefaultRole != RoleMentor && req.DefaultRole != RoleMentee:
		vs.Add("default_role", "must be MENTOR or MENTEE")
	}
	if err := vs.Err(); err != nil {
		return Import{}, err
	}
	if enrol {
		program, err := im.svc.store.GetProgram(ctx, tenant, req.ProgramID)
		if err != nil {
			return Import{}, err
		}
		if !slices.Contains(enrollableStates, program.State) {
			return Import{}, fmt.Errorf("program %s is %s and takes no enrolments: %w", program.ID, program.State, apperr.ErrFailedPrecondition)
		}
	}
	job := Import{ID: newID(), ProgramID: req.ProgramID, DefaultRole: req.DefaultRole, Delimiter: req.Delimiter,
		ColumnMapping: req.ColumnMapping, State: ImportRunning, CreateTime: im.svc.now()}
	if err := im.store.CreateImport(ctx, tenant, job, req.CSV); err != nil {
		return Import{}, err
	}
	select {
	case im.wake <- struct{}{}:
	default:
	}
	return job, nil
}

// Get returns an import with its progress.
func (im *Importer) Get(ctx context.Context, tenant, id string) (Import, error) {
	return im.store.GetImport(ctx, tenant, id)
}

// ListRejections returns one page of an import's rejections in row order.
func (im *Importer) ListRejections(ctx context.Context, tenant, importID string, after RejectionCursor, size int) ([]Rejection, error) {
	if size <= 0 {
		size = DefaultPageSize
	}
	return im.store.ListImportRejections(ctx, tenant, importID, after, min(size, MaxPageSize))
}

// Run processes imports until ctx is done, then returns nil: at once when
// Create stored one, and every 2 s it looks for jobs a stopped process
// left. A failing job is logged and retried; Run itself never fails.
func (im *Importer) Run(ctx context.Context) error {
	poll := time.NewTicker(im.pollInterval)
	defer poll.Stop()
	for {
		worked, err := im.ProcessNext(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			im.log.ErrorContext(ctx, "import failed; will retry", "error", err.Error())
		}
		if worked && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-im.wake:
		case <-poll.C:
		}
	}
}

// ProcessNext claims one waiting import and runs it to its end, blocking
// meanwhile; it reports whether there was one. On an error the lease is
// given back so the job is retried (after maxAttempts failures in a row it
// FAILS). Run calls it in a loop; it is not safe for concurrent use.
func (im *Importer) ProcessNext(ctx context.Context) (bool, error) {
	job, ok, err := im.store.ClaimImport(ctx, im.owner, im.leaseTTL)
	if err != nil || !ok {
		return false, err
	}
	err = im.process(ctx, job)
	switch {
	case err == nil:
		delete(im.failures, job.Import.ID)
		return true, nil
	case errors.Is(err, ErrImportLeaseLost):
		delete(im.failures, job.Import.ID)
		im.log.WarnContext(ctx, "import taken over by another replica", "import_id", job.Import.ID)
		return true, nil
	}
	// Give the lease back even when ctx is done, so a restarted process
	// resumes the job at once instead of after the lease expires.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if ctx.Err() != nil {
		return true, errors.Join(err, im.store.ReleaseImport(bg, job.Tenant, job.Import.ID, im.owner))
	}
	im.failures[job.Import.ID]++
	if im.failures[job.Import.ID] >= im.maxAttempts {
		delete(im.failures, job.Import.ID)
		msg := fmt.Sprintf("stopped by an internal error after %d attempts; the rows processed before were imported. "+
			"Start the import again to finish it: rows already imported stay unchanged", im.maxAttempts)
		_, ferr := im.store.FinishImport(bg, job.Tenant, job.Import.ID, im.owner, ImportOutcome{State: ImportFailed, Error: msg, FinishTime: im.svc.now()})
		return true, errors.Join(err, ferr)
	}
	return true, errors.Join(err, im.store.ReleaseImport(bg, job.Tenant, job.Import.ID, im.owner))
}

// process parses the file and applies its rows batch by batch, from the
// first row no committed batch has processed.
func (im *Importer) process(ctx context.Context, job ImportJob) error {
	fail := func(reason string) error {
		_, err := im.store.FinishImport(ctx, job.Tenant, job.Import.ID, im.owner, ImportOutcome{State: ImportFailed, Error: reason, FinishTime: im.svc.now()})
		return err
	}
	opts := csvimport.Options{Mapping: job.Import.ColumnMapping, Enrolment: job.Import.ProgramID != ""}
	if job.Import.Delimiter != "" {
		opts.Delimiter = rune(job.Import.Delimiter[0])
	}
	file, err := csvimport.Parse(job.CSV, opts)
	if errors.Is(err, csvimport.ErrUnusableFile) {
		return fail(err.Error())
	}
	if err != nil {
		return err
	}
	if job.Import.ProgramID != "" {
		program, err := im.svc.store.GetProgram(ctx, job.Tenant, job.Import.ProgramID)
		if errors.Is(err, apperr.ErrNotFound) {
			return fail(fmt.Sprintf("program %s does not exist", job.Import.ProgramID))
		}
		if err != nil {
			return err
		}
		if !slices.Contains(enrollableStates, program.State) {
			return fail(fmt.Sprintf("program %s is %s and takes no enrolments", program.ID, program.State))
		}
	}
	rows := orderRows(file)
	for start := min(job.Import.ProcessedRows, len(rows)); start < len(rows); start += im.batchSize {
		batch := rows[start:min(start+im.batchSize, len(rows))]
		err := im.store.ApplyImportBatch(ctx, job.Tenant, ImportBatch{
			ImportID: job.Import.ID, Owner: im.owner, LeaseTTL: im.leaseTTL, ProgramID: job.Import.ProgramID,
			TotalRows: file.DataRows, HRISIDs: batchHRISIDs(batch),
			Plan: func(snap ImportSnapshot) (ImportChanges, error) {
				p := planner{job: job.Import, file: file, snap: snap, now: im.svc.now(), resolved: map[string]string{}}
				return p.plan(batch), nil
			},
		})
		if err != nil {
			return err
		}
	}
	_, err = im.store.FinishImport(ctx, job.Tenant, job.Import.ID, im.owner, ImportOutcome{State: ImportSucceeded, TotalRows: file.DataRows, FinishTime: im.svc.now()})
	return err
}

// importRow is one data row in processing order.
type importRow struct {
	row      int
	depth    int
	rec      *csvimport.Record   // nil when refused before planning
	problems []csvimport.Problem // why it was refused
}

// orderRows puts every data row in the order the rows are applied: a
// manager before the people reporting to them (by depth in the file's
// reporting forest, then row number), so a manager named in the file
// exists, in this or an earlier batch, when their reports are applied.
// The order depends on the file alone, so a resumed job continues exactly
// where the last committed batch stopped. Rows whose manager relation
// forms a cycle within the file are refused.
func orderRows(f *csvimport.File) []importRow {
	recs := f.Records
	index := make(map[string]int, len(recs))
	for i, r := range recs {
		index[r.HRISID] = i
	}
	depth := make([]int, len(recs))
	for i := range depth {
		depth[i] = -1
	}
	onPath := make([]bool, len(recs))
	cycle := map[int]string{} // record index → the rows of its cycle
	var path []int
	for i := range recs {
		path = path[:0]
		base := -1 // depth of the node above the last one on path
		for cur := i; ; {
			if depth[cur] >= 0 {
				base = depth[cur]
				break
			}
			if onPath[cur] {
				start := slices.Index(path, cur)
				rows := make([]string, 0, len(path)-start)
				for _, m := range path[start:] {
					rows = append(rows, fmt.Sprint(recs[m].Row))
				}
				for _, m := range path[start:] {
					depth[m] = 0
					cycle[m] = strings.Join(rows, ", ")
					onPath[m] = false
				}
				path, base = path[:start], 0
				break
			}
			onPath[cur] = true
			path = append(path, cur)
			mgr, ok := index[recs[cur].ManagerHRISID]
			if recs[cur].ManagerHRISID == "" || !ok {
				break
			}
			cur = mgr
		}
		for j := len(path) - 1; j >= 0; j-- {
			base++
			depth[path[j]] = base
			onPath[path[j]] = false
		}
	}
	out := make([]importRow, 0, f.DataRows)
	for _, r := range f.Rejected {
		out = append(out, importRow{row: r.Row, problems: r.Problems})
	}
	for i := range recs {
		if rows, ok := cycle[i]; ok {
			out = append(out, importRow{row: recs[i].Row, problems: []csvimport.Problem{{Field: csvimport.FieldManagerHRISID,
				Reason: fmt.Sprintf("the manager relation forms a cycle through rows %s", rows)}}})
			continue
		}
		out = append(out, importRow{row: recs[i].Row, depth: depth[i], rec: &recs[i]})
	}
	slices.SortFunc(out, func(a, b importRow) int {
		if a.depth != b.depth {
			return a.depth - b.depth
		}
		return a.row - b.row
	})
	return out
}

func batchHRISIDs(batch []importRow) []string {
	ids := make([]string, 0, 2*len(batch))
	for _, r := range batch {
		if r.rec != nil {
			ids = append(ids, r.rec.HRISID)
			if r.rec.ManagerHRISID != "" {
				ids = append(ids, r.rec.ManagerHRISID)
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// planner decides the changes of one batch.
type planner struct {
	job  Import
	file *csvimport.File
	snap ImportSnapshot
	now  time.Time
	// resolved maps the HRIS ids applied earlier in this batch to their
	// person ids, for the reports that follow them.
	resolved map[string]string
	out      ImportChanges
}

func (p *planner) plan(batch []importRow) ImportChanges {
	p.out.Processed = len(batch)
	for _, r := range batch {
		problems := r.problems
		if r.rec != nil {
			problems = p.apply(r.rec)
		}
		if len(problems) > 0 {
			p.out.Rejected++
			for i, pr := range problems {
				p.out.Rejections = append(p.out.Rejections, Rejection{Row: r.row, Seq: i, Field: pr.Field, Reason: pr.Reason})
			}
		}
	}
	return p.out
}

// apply merges one row into the stored person (and enrolment) and records
// the changes, or returns why the row is refused; a refused row changes
// nothing. Columns the file lacks keep their stored values.
func (p *planner) apply(rec *csvimport.Record) []csvimport.Problem {
	var problems []csvimport.Problem
	refuse := func(field, reason string) {
		problems = append(problems, csvimport.Problem{Field: field, Reason: reason})
	}
	has := p.file.Has

	existing, found := p.snap.People[rec.HRISID]
	if found && existing.Erased {
		refuse(csvimport.FieldHRISID, "person was erased; an erased person's HRIS id is never imported again")
		return problems
	}
	person := existing
	if !found {
		person = Person{ID: newID(), HRISID: rec.HRISID, EmploymentStatus: EmploymentActive, CreateTime: p.now, UpdateTime: p.now}
		for _, f := range []struct{ field, value string }{
			{csvimport.FieldDisplayName, rec.DisplayName}, {csvimport.FieldEmail, rec.Email}, {csvimport.FieldTimeZone, rec.TimeZone},
		} {
			switch {
			case !has(f.field):
				refuse(f.field, fmt.Sprintf("required for a new person, and the file has no %s column", f.field))
			case f.value == "":
				refuse(f.field, "required for a new person")
			}
		}
	}
	mergePerson(&person, rec, has)
	if has(csvimport.FieldManagerHRISID) {
		person.ManagerID = ""
		if rec.ManagerHRISID != "" {
			id, reason := p.manager(rec.ManagerHRISID)
			if reason != "" {
				refuse(csvimport.FieldManagerHRISID, reason)
			}
			person.ManagerID = id
		}
	}
	if person.Subject == "" {
		person.Subject = person.Email
	}
	personChanged := found && !samePerson(existing, person)
	if len(problems) == 0 && (!found || personChanged) {
		problems = append(problems, violations(person.Validate())...)
	}

	var enrolment *Participant
	var enrolled bool
	if p.job.ProgramID != "" {
		var eproblems []csvimport.Problem
		enrolment, enrolled, eproblems = p.enrol(person, found, rec)
		problems = append(problems, eproblems...)
	}
	if len(problems) > 0 {
		return problems
	}

	switch {
	case !found:
		p.out.NewPeople = append(p.out.NewPeople, person)
	case personChanged:
		person.UpdateTime = p.now
		p.out.ChangedPeople = append(p.out.ChangedPeople, person)
	}
	p.resolved[rec.HRISID] = person.ID

	enrolmentChanged := false
	if enrolment != nil {
		enrolmentChanged = enrolled && !sameParticipant(p.snap.Participants[person.ID], *enrolment)
		switch {
		case !enrolled:
			p.out.NewParticipants = append(p.out.NewParticipants, *enrolment)
		case enrolmentChanged:
			enrolment.UpdateTime = p.now
			p.out.ChangedParticipants = append(p.out.ChangedParticipants, *enrolment)
		}
	}
	switch {
	case !found || (enrolment != nil && !enrolled):
		p.out.Created++
	case personChanged || enrolmentChanged:
		p.out.Updated++
	default:
		p.out.Unchanged++
	}
	return nil
}

// mergePerson copies the values of the file's columns into person.
func mergePerson(person *Person, rec *csvimport.Record, has func(string) bool) {
	set := func(field string, dst *string, v string) {
		if has(field) {
			*dst = v
		}
	}
	set(csvimport.FieldDisplayName, &person.DisplayName, rec.DisplayName)
	set(csvimport.FieldEmail, &person.Email, rec.Email)
	set(csvimport.FieldDepartment, &person.Department, rec.Department)
	set(csvimport.FieldTitle, &person.Title, rec.Title)
	set(csvimport.FieldHireDate, &person.HireDate, rec.HireDate)
	set(csvimport.FieldPromotionDate, &person.PromotionDate, rec.PromotionDate)
	set(csvimport.FieldLocation, &person.Location, rec.Location)
	set(csvimport.FieldTimeZone, &person.TimeZone, rec.TimeZone)
	set(csvimport.FieldSubject, &person.Subject, rec.Subject)
	if has(csvimport.FieldSeniorityLevel) {
		person.SeniorityLevel = rec.SeniorityLevel
	}
	if has(csvimport.FieldLanguages) {
		person.Languages = rec.Languages
	}
	// An empty status keeps the stored one (active for a new person).
	if rec.EmploymentStatus != "" {
		person.EmploymentStatus = EmploymentStatus(rec.EmploymentStatus)
	}
}

// manager resolves a manager's HRIS id to a person id: a row applied
// earlier in this import, or a person of the directory.
func (p *planner) manager(hrisID string) (string, string) {
	if id, ok := p.resolved[hrisID]; ok {
		return id, ""
	}
	m, found := p.snap.People[hrisID]
	switch {
	case found && m.Erased:
		return "", fmt.Sprintf("the manager %q was erased", hrisID)
	case found:
		return m.ID, ""
	}
	if row, ok := p.file.FirstRow[hrisID]; ok {
		return "", fmt.Sprintf("the manager %q is in row %d, which was rejected", hrisID, row)
	}
	return "", fmt.Sprintf("unknown manager %q: neither in this file nor in the directory", hrisID)
}

// enrol returns the person's enrolment in the import's program after the
// row, and whether one was stored before.
func (p *planner) enrol(person Person, personFound bool, rec *csvimport.Record) (*Participant, bool, []csvimport.Problem) {
	var problems []csvimport.Problem
	refuse := func(field, reason string) {
		problems = append(problems, csvimport.Problem{Field: field, Reason: reason})
	}
	if !slices.Contains(enrollableStates, p.snap.Program.State) {
		refuse("", fmt.Sprintf("program %s no longer takes enrolments (it is %s)", p.job.ProgramID, p.snap.Program.State))
		return nil, false, problems
	}
	role := Role(rec.Role)
	current, enrolled := Participant{}, false
	if personFound {
		current, enrolled = p.snap.Participants[person.ID]
	}
	part := current
	switch {
	case !enrolled && person.EmploymentStatus == EmploymentTerminated:
		// A stored enrolment of someone who left stays (and the directory
		// learns of the termination); withdrawing them is HR's decision.
		refuse(csvimport.FieldEmploymentStatus, "a terminated person cannot be enrolled in a program")
	case enrolled && current.State == ParticipantWithdrawn:
		refuse("", "the person was withdrawn from the program; an import does not enrol them again")
	case enrolled && role != "" && role != current.Role:
		refuse(csvimport.FieldRole, fmt.Sprintf("already enrolled as %s; withdraw and enrol again to change the role", current.Role))
	case !enrolled:
		if role == "" {
			role = p.job.DefaultRole
		}
		if role == "" {
			refuse(csvimport.FieldRole, "no role in the row and no default_role for the import")
		}
		part = Participant{ID: newID(), ProgramID: p.job.ProgramID, PersonID: person.ID, Role: role, State: ParticipantEnrolled,
			CreateTime: p.now, UpdateTime: p.now}
	}
	if len(problems) > 0 {
		return nil, false, problems
	}
	mergeProfile(&part.Profile, rec, p.file.Has)
	problems = append(problems, violations(part.Validate())...)
	problems = append(problems, violations(checkCapacity(p.snap.Program, part))...)
	for _, c := range part.Profile.Competencies {
		if !p.snap.Skills[c.SkillID] {
			refuse(csvimport.FieldCompetencies, fmt.Sprintf("unknown skill %q: add it to the skills catalogue first", c.SkillID))
		}
	}
	for _, d := range part.Profile.DevelopmentAreas {
		if !p.snap.Skills[d.SkillID] {
			refuse(csvimport.FieldDevelopmentAreas, fmt.Sprintf("unknown skill %q: add it to the skills catalogue first", d.SkillID))
		}
	}
	return &part, enrolled, problems
}

// mergeProfile copies the values of the file's enrolment columns into pr;
// prefer and avoid lists are not importable and stay.
func mergeProfile(pr *Profile, rec *csvimport.Record, has func(string) bool) {
	if has(csvimport.FieldCompetencies) {
		pr.Competencies = nil
		for _, c := range rec.Competencies {
			pr.Competencies = append(pr.Competencies, Competency{SkillID: c.SkillID, Level: c.Level})
		}
	}
	if has(csvimport.FieldDevelopmentAreas) {
		pr.DevelopmentAreas = nil
		for _, d := range rec.DevelopmentAreas {
			pr.DevelopmentAreas = append(pr.DevelopmentAreas, DevelopmentArea{SkillID: d.SkillID, CurrentLevel: d.CurrentLevel, TargetLevel: d.TargetLevel})
		}
	}
	if has(csvimport.FieldWorkStyle) {
		pr.WorkStyle = rec.WorkStyle
	}
	if has(csvimport.FieldCommunicationStyle) {
		pr.CommunicationStyle = rec.CommunicationStyle
	}
	if has(csvimport.FieldMotivation) {
		pr.Motivation = rec.Motivation
	}
	if has(csvimport.FieldPreferredFormat) {
		pr.PreferredFormat = ""
		if rec.PreferredFormat != "" {
			// Profiles keep the API's enum name, as EnrollParticipant stores it.
			pr.PreferredFormat = "MEETING_FORMAT_" + strings.ToUpper(rec.PreferredFormat)
		}
	}
	if has(csvimport.FieldCapacity) {
		pr.Capacity = rec.Capacity
	}
}

// sameParticipant compares what an import can change.
func sameParticipant(a, b Participant) bool {
	return a.Role == b.Role && a.State == b.State && slices.Equal(a.Profile.Competencies, b.Profile.Competencies) &&
		slices.Equal(a.Profile.DevelopmentAreas, b.Profile.DevelopmentAreas) && a.Profile.WorkStyle == b.Profile.WorkStyle &&
		a.Profile.CommunicationStyle == b.Profile.CommunicationStyle && a.Profile.Motivation == b.Profile.Motivation &&
		a.Profile.PreferredFormat == b.Profile.PreferredFormat && a.Profile.Capacity == b.Profile.Capacity &&
		slices.Equal(a.Profile.PreferPersonIDs, b.Profile.PreferPersonIDs) && slices.Equal(a.Profile.AvoidPersonIDs, b.Profile.AvoidPersonIDs)
}

// violations turns a domain validation error into row problems named by
// import field ("person.manager_id" becomes "manager_hris_id",
// "participant.competencies[1].skill_id" becomes "competencies").
func violations(err error) []csvimport.Problem {
	var invalid *apperr.InvalidError
	if !errors.As(err, &invalid) {
		return nil
	}
	out := make([]csvimport.Problem, 0, len(invalid.Violations))
	for _, v := range invalid.Violations {
		field := v.Field[strings.IndexByte(v.Field, '.')+1:]
		if i := strings.IndexByte(field, '['); i >= 0 {
			field = field[:i]
		}
		if field == "manager_id" {
			field = csvimport.FieldManagerHRISID
		}
		out = append(out, csvimport.Problem{Field: field, Reason: v.Reason})
	}
	return out
}
