package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/participant/internal/participant"
	"github.com/tandem-oss/tandem/services/participant/internal/pbconv"
)

var _ participant.ImportStore = (*Store)(nil)

const importColumns = `id, program_id, default_role, delimiter, column_mapping, state, total_rows, processed_rows,
	created_rows, updated_rows, unchanged_rows, rejected_rows, error, create_time, finish_time`

// Multi-row statements stay well below the bind-parameter limits of both
// engines (SQLite 32,766, PostgreSQL 65,535).
const (
	peopleChunk       = 500
	participantsChunk = 1000
	rejectionsChunk   = 1000
)

// epoch is the lease expiry of a job nobody holds.
var epoch = time.Unix(0, 0).UTC()

// CreateImport stores a RUNNING import and its file; nobody holds its
// lease, so any replica may claim it at once.
func (s *Store) CreateImport(ctx context.Context, tenant string, im participant.Import, csv []byte) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO imports (tenant_id, `+importColumns+`, lease_owner, lease_expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, '', $17)`,
			tenant, im.ID, im.ProgramID, string(im.DefaultRole), im.Delimiter, jsonText(im.ColumnMapping), string(im.State),
			im.TotalRows, im.ProcessedRows, im.CreatedRows, im.UpdatedRows, im.UnchangedRows, im.RejectedRows, im.Error,
			im.CreateTime, nullTime(im.FinishTime), epoch)
		if err != nil {
			return fmt.Errorf("db: insert import: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO import_files (tenant_id, import_id, csv) VALUES ($1, $2, $3)`, tenant, im.ID, csv); err != nil {
			return fmt.Errorf("db: insert import file: %w", err)
		}
		return nil
	})
}

// GetImport returns an import.
func (s *Store) GetImport(ctx context.Context, tenant, id string) (participant.Import, error) {
	return scanImport(s.db.QueryRowContext(ctx, `SELECT `+importColumns+` FROM imports WHERE tenant_id = $1 AND id = $2`, tenant, id))
}

// ListImportRejections returns up to size rejections after the cursor in
// row order.
func (s *Store) ListImportRejections(ctx context.Context, tenant, importID string, after participant.RejectionCursor, size int) ([]participant.Rejection, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM imports WHERE tenant_id = $1 AND id = $2`, tenant, importID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("import: %w", apperr.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("db: find import: %w", err)
	}
	return sqlstore.QueryAll(ctx, s.db, `SELECT file_row, seq, field, reason FROM import_rejections
		WHERE tenant_id = $1 AND import_id = $2 AND (file_row > $3 OR (file_row = $3 AND seq > $4))
		ORDER BY file_row, seq LIMIT $5`, []any{tenant, importID, after.Row, after.Seq, size},
		func(row scanner) (participant.Rejection, error) {
			var r participant.Rejection
			if err := row.Scan(&r.Row, &r.Seq, &r.Field, &r.Reason); err != nil {
				return r, fmt.Errorf("db: scan rejection: %w", err)
			}
			return r, nil
		})
}

// ClaimImport leases the oldest RUNNING import whose lease has expired to
// owner. The conditional UPDATE decides between replicas racing for the
// same job: only one sees its row updated.
func (s *Store) ClaimImport(ctx context.Context, owner string, ttl time.Duration) (participant.ImportJob, bool, error) {
	now := time.Now().UTC()
	expired, args := `lease_expires_at < $1`, []any{now}
	if s.db.Dialect == sqlstore.Postgres {
		// The database clock decides, so replicas with skewed clocks agree.
		expired, args = `lease_expires_at < now()`, nil
	}
	type key struct{ tenant, id string }
	candidates, err := sqlstore.QueryAll(ctx, s.db, `SELECT tenant_id, id FROM imports WHERE state = 'running' AND `+expired+
		` ORDER BY create_time, id LIMIT 10`, args, func(row scanner) (key, error) {
		var k key
		if err := row.Scan(&k.tenant, &k.id); err != nil {
			return k, fmt.Errorf("db: scan import: %w", err)
		}
		return k, nil
	})
	if err != nil {
		return participant.ImportJob{}, false, err
	}
	for _, c := range candidates {
		q := `UPDATE imports SET lease_owner = $1, lease_expires_at = $2
			WHERE tenant_id = $3 AND id = $4 AND state = 'running' AND lease_expires_at < $5`
		args := []any{owner, now.Add(ttl), c.tenant, c.id, now}
		if s.db.Dialect == sqlstore.Postgres {
			q = `UPDATE imports SET lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2)
				WHERE tenant_id = $3 AND id = $4 AND state = 'running' AND lease_expires_at < now()`
			args = []any{owner, ttl.Seconds(), c.tenant, c.id}
		}
		res, err := s.db.ExecContext(ctx, q, args...)
		if err != nil {
			return participant.ImportJob{}, false, fmt.Errorf("db: claim import: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			continue // another replica was faster
		}
		job := participant.ImportJob{Tenant: c.tenant}
		if job.Import, err = s.GetImport(ctx, c.tenant, c.id); err != nil {
			return participant.ImportJob{}, false, err
		}
		if err := s.db.QueryRowContext(ctx, `SELECT csv FROM import_files WHERE tenant_id = $1 AND import_id = $2`,
			c.tenant, c.id).Scan(&job.CSV); err != nil {
			return participant.ImportJob{}, false, fmt.Errorf("db: read import file: %w", err)
		}
		return job, true, nil
	}
	return participant.ImportJob{}, false, nil
}

// ApplyImportBatch applies one batch in one transaction: it renews the
// lease (failing with ErrImportLeaseLost when another replica holds it),
// loads what the batch's rows refer to with one query per table, lets
// b.Plan decide, and writes the changed rows with multi-row statements,
// one event per change, the rejections and the progress.
func (s *Store) ApplyImportBatch(ctx context.Context, tenant string, b participant.ImportBatch) error {
	return eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		if err := s.renewLease(ctx, tx, tenant, b); err != nil {
			return nil, err
		}
		snap, err := s.importSnapshot(ctx, tx, tenant, b)
		if err != nil {
			return nil, err
		}
		ch, err := b.Plan(snap)
		if err != nil {
			return nil, err
		}
		people := append(append([]participant.Person{}, ch.NewPeople...), ch.ChangedPeople...)
		if err := s.upsert(ctx, tx, "people", personColumns, peopleChunk, len(people), func(i int) []any {
			return append([]any{tenant}, personArgs(people[i])...)
		}); err != nil {
			return nil, err
		}
		parts := append(append([]participant.Participant{}, ch.NewParticipants...), ch.ChangedParticipants...)
		if err := s.upsert(ctx, tx, "participants", participantColumns, participantsChunk, len(parts), func(i int) []any {
			return append([]any{tenant}, participantArgs(parts[i])...)
		}); err != nil {
			return nil, err
		}
		if err := s.insertRejections(ctx, tx, tenant, b.ImportID, ch.Rejections); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE imports SET total_rows = $3, processed_rows = processed_rows + $4,
			created_rows = created_rows + $5, updated_rows = updated_rows + $6, unchanged_rows = unchanged_rows + $7,
			rejected_rows = rejected_rows + $8 WHERE tenant_id = $1 AND id = $2`,
			tenant, b.ImportID, b.TotalRows, ch.Processed, ch.Created, ch.Updated, ch.Unchanged, ch.Rejected); err != nil {
			return nil, fmt.Errorf("db: import progress: %w", err)
		}

		events := make([]eventbus.Event, 0, len(people)+len(parts))
		for _, p := range ch.NewPeople {
			events = append(events, personEvent(tenant, "created", p))
		}
		for _, p := range ch.ChangedPeople {
			events = append(events, personEvent(tenant, "updated", p))
		}
		for _, p := range ch.NewParticipants {
			events = append(events, eventbus.Event{Tenant: tenant, Aggregate: "participant", AggregateID: p.ID, Type: "enrolled",
				Payload: &eventsv1.ParticipantEnrolled{Participant: pbconv.Participant(p)}})
		}
		for _, p := range ch.ChangedParticipants {
			events = append(events, eventbus.Event{Tenant: tenant, Aggregate: "participant", AggregateID: p.ID, Type: "updated",
				Payload: &eventsv1.ParticipantUpdated{Participant: pbconv.Participant(p)}})
		}
		return nil, s.enqueue(ctx, tx, events)
	})
}

// sqliteEventsPerStatement bounds the events of one outbox INSERT on
// SQLite. Enqueue numbers its parameters $1…$N, and SQLite resolves each
// such name with a linear search, so a statement of 100 events (1,100
// parameters) costs 10 times more per event than one of 10; on PostgreSQL
// larger statements are cheaper (fewer round trips).
const sqliteEventsPerStatement = 10

// enqueue writes events to the outbox in tx, in statements sized for the
// engine.
func (s *Store) enqueue(ctx context.Context, tx *sql.Tx, events []eventbus.Event) error {
	step := len(events)
	if s.db.Dialect == sqlstore.SQLite {
		step = sqliteEventsPerStatement
	}
	for start := 0; start < len(events); start += step {
		if err := eventbus.Enqueue(ctx, tx, Source, events[start:min(start+step, len(events))]...); err != nil {
			return err
		}
	}
	return nil
}

// renewLease extends the batch owner's lease; on PostgreSQL it also locks
// the import's row until the batch commits, so a replica trying to claim
// the job waits and then sees the renewed lease.
func (s *Store) renewLease(ctx context.Context, tx *sql.Tx, tenant string, b participant.ImportBatch) error {
	q := `UPDATE imports SET lease_expires_at = $1 WHERE tenant_id = $2 AND id = $3 AND state = 'running' AND lease_owner = $4`
	args := []any{time.Now().UTC().Add(b.LeaseTTL), tenant, b.ImportID, b.Owner}
	if s.db.Dialect == sqlstore.Postgres {
		q = `UPDATE imports SET lease_expires_at = now() + make_interval(secs => $1)
			WHERE tenant_id = $2 AND id = $3 AND state = 'running' AND lease_owner = $4`
		args[0] = b.LeaseTTL.Seconds()
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("db: renew import lease: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("import %s: %w", b.ImportID, participant.ErrImportLeaseLost)
	}
	return nil
}

// importSnapshot loads, in the batch's transaction, the people the batch
// names (locked on PostgreSQL until the batch commits), their enrolments
// in the program, the skills catalogue and the program.
func (s *Store) importSnapshot(ctx context.Context, tx *sql.Tx, tenant string, b participant.ImportBatch) (participant.ImportSnapshot, error) {
	snap := participant.ImportSnapshot{People: make(map[string]participant.Person, len(b.HRISIDs)), Participants: map[string]participant.Participant{}}
	if len(b.HRISIDs) > 0 {
		args := []any{tenant}
		for _, id := range b.HRISIDs {
			args = append(args, id)
		}
		// hris_id <> '' lets both engines use the partial unique index.
		people, err := sqlstore.QueryAll(ctx, tx, `SELECT `+personColumns+` FROM people WHERE tenant_id = $1 AND hris_id <> ''
			AND hris_id IN (`+s.placeholders(2, len(b.HRISIDs))+`)`+s.forUpdate(), args, scanPerson)
		if err != nil {
			return snap, err
		}
		for _, p := range people {
			snap.People[p.HRISID] = p
		}
	}
	if b.ProgramID == "" {
		return snap, nil
	}
	program, err := scanProgram(tx.QueryRowContext(ctx, `SELECT `+programColumns+` FROM programs WHERE tenant_id = $1 AND id = $2`+s.forShare(),
		tenant, b.ProgramID))
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return snap, err
	}
	snap.Program = program

	args := []any{tenant, b.ProgramID}
	for _, p := range snap.People {
		args = append(args, p.ID)
	}
	if len(args) > 2 {
		parts, err := sqlstore.QueryAll(ctx, tx, `SELECT `+participantColumns+` FROM participants WHERE tenant_id = $1 AND program_id = $2
			AND person_id IN (`+s.placeholders(3, len(args)-2)+`)`+s.forUpdate(), args, scanParticipant)
		if err != nil {
			return snap, err
		}
		for _, p := range parts {
			snap.Participants[p.PersonID] = p
		}
	}

	skills, err := sqlstore.QueryAll(ctx, tx, `SELECT id FROM skills WHERE tenant_id = $1`, []any{tenant}, func(row scanner) (string, error) {
		var id string
		if err := row.Scan(&id); err != nil {
			return "", fmt.Errorf("db: scan skill: %w", err)
		}
		return id, nil
	})
	if err != nil {
		return snap, err
	}
	snap.Skills = make(map[string]bool, len(skills))
	for _, id := range skills {
		snap.Skills[id] = true
	}
	return snap, nil
}

// forShare keeps the selected row from changing until the commit on
// PostgreSQL; SQLite transactions already hold the write lock.
func (s *Store) forShare() string {
	if s.db.Dialect == sqlstore.Postgres {
		return " FOR SHARE"
	}
	return ""
}

// upsert writes n rows of table (columns after tenant_id, the first being
// id) with multi-row INSERT … ON CONFLICT statements of at most chunk rows:
// new rows are inserted, existing ones get every column but id and
// create_time. Both engines run the same statement.
func (s *Store) upsert(ctx context.Context, tx *sql.Tx, table, columns string, chunk, n int, args func(i int) []any) error {
	var set []string
	for _, c := range strings.Split(columns, ",") {
		if c = strings.TrimSpace(c); c != "id" && c != "create_time" {
			set = append(set, c+" = excluded."+c)
		}
	}
	width := len(strings.Split(columns, ",")) + 1
	for start := 0; start < n; start += chunk {
		end := min(start+chunk, n)
		vals := make([]any, 0, (end-start)*width)
		for i := start; i < end; i++ {
			vals = append(vals, args(i)...)
		}
		q := `INSERT INTO ` + table + ` (tenant_id, ` + columns + `) VALUES ` + s.valueRows(end-start, width) +
			` ON CONFLICT (tenant_id, id) DO UPDATE SET ` + strings.Join(set, ", ")
		if _, err := tx.ExecContext(ctx, q, vals...); err != nil {
			if sqlstore.IsUniqueViolation(err) {
				// Another writer stored one of these HRIS ids since the
				// snapshot; the batch is retried against fresh data.
				return fmt.Errorf("db: upsert %s: concurrent change: %w", table, err)
			}
			return fmt.Errorf("db: upsert %s: %w", table, err)
		}
	}
	return nil
}

func (s *Store) insertRejections(ctx context.Context, tx *sql.Tx, tenant, importID string, rs []participant.Rejection) error {
	const width = 6
	for start := 0; start < len(rs); start += rejectionsChunk {
		end := min(start+rejectionsChunk, len(rs))
		vals := make([]any, 0, (end-start)*width)
		for _, r := range rs[start:end] {
			vals = append(vals, tenant, importID, r.Row, r.Seq, r.Field, r.Reason)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO import_rejections (tenant_id, import_id, file_row, seq, field, reason) VALUES `+
			s.valueRows(end-start, width), vals...); err != nil {
			return fmt.Errorf("db: insert rejections: %w", err)
		}
	}
	return nil
}

// FinishImport ends the owner's import with out, drops its file and writes
// import.completed, in one transaction.
func (s *Store) FinishImport(ctx context.Context, tenant, id, owner string, out participant.ImportOutcome) (participant.Import, error) {
	var im participant.Import
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		var holder string
		var err error
		im, err = scanImport(tx.QueryRowContext(ctx, `SELECT `+importColumns+`, lease_owner FROM imports WHERE tenant_id = $1 AND id = $2`+s.forUpdate(),
			tenant, id), &holder)
		if err != nil {
			return nil, err
		}
		if im.State != participant.ImportRunning || holder != owner {
			return nil, fmt.Errorf("import %s: %w", id, participant.ErrImportLeaseLost)
		}
		im.State, im.Error, im.FinishTime = out.State, out.Error, out.FinishTime
		if out.TotalRows > 0 {
			im.TotalRows = out.TotalRows
		}
		if _, err := tx.ExecContext(ctx, `UPDATE imports SET state = $3, error = $4, total_rows = $5, finish_time = $6,
			lease_owner = '', lease_expires_at = $7 WHERE tenant_id = $1 AND id = $2`,
			tenant, id, string(im.State), im.Error, im.TotalRows, im.FinishTime, epoch); err != nil {
			return nil, fmt.Errorf("db: finish import: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM import_files WHERE tenant_id = $1 AND import_id = $2`, tenant, id); err != nil {
			return nil, fmt.Errorf("db: drop import file: %w", err)
		}
		return []eventbus.Event{{Tenant: tenant, Aggregate: "import", AggregateID: id, Type: "completed",
			Payload: &eventsv1.ImportCompleted{Import: pbconv.Import(im)}}}, nil
	})
	return im, err
}

// ReleaseImport gives the owner's lease up.
func (s *Store) ReleaseImport(ctx context.Context, tenant, id, owner string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE imports SET lease_owner = '', lease_expires_at = $1
		WHERE tenant_id = $2 AND id = $3 AND lease_owner = $4 AND state = 'running'`, epoch, tenant, id, owner); err != nil {
		return fmt.Errorf("db: release import: %w", err)
	}
	return nil
}

// scanImport reads importColumns and then extra.
func scanImport(row scanner, extra ...any) (participant.Import, error) {
	var im participant.Import
	var role, mapping, state string
	var finish sql.NullTime
	err := row.Scan(append([]any{&im.ID, &im.ProgramID, &role, &im.Delimiter, &mapping, &state, &im.TotalRows, &im.ProcessedRows,
		&im.CreatedRows, &im.UpdatedRows, &im.UnchangedRows, &im.RejectedRows, &im.Error, &im.CreateTime, &finish}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return im, fmt.Errorf("import: %w", apperr.ErrNotFound)
	}
	if err != nil {
		return im, fmt.Errorf("db: scan import: %w", err)
	}
	im.DefaultRole, im.State = participant.Role(role), participant.ImportState(state)
	im.CreateTime = im.CreateTime.UTC()
	if finish.Valid {
		im.FinishTime = finish.Time.UTC()
	}
	return im, fromJSON(mapping, &im.ColumnMapping)
}

// placeholders returns n parameters numbered from first: "$first, …" on
// PostgreSQL and "?, …" on SQLite, which numbers each "?" one after the
// largest parameter before it. SQLite resolves every "$N" by name with a
// linear search, which makes a statement with thousands of them quadratic;
// a "?" costs nothing. Generated lists therefore follow the fixed "$N"
// parameters of a statement.
func (s *Store) placeholders(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if s.db.Dialect == sqlstore.SQLite {
			b.WriteByte('?')
		} else {
			fmt.Fprintf(&b, "$%d", first+i)
		}
	}
	return b.String()
}

// valueRows returns the VALUES rows of a multi-row statement whose only
// parameters they are: "($1, …, $width), (…)" or "(?, …), (…)".
func (s *Store) valueRows(rows, width int) string {
	var b strings.Builder
	b.Grow(rows * width * 6)
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(s.placeholders(r*width+1, width))
		b.WriteByte(')')
	}
	return b.String()
}
