// Package sqlstore implements the participant service's Store on
// PostgreSQL and SQLite with one set of SQL statements. Every change writes
// its event to the outbox in the same transaction.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
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

//go:embed migrations
var migrationsFS embed.FS

// Migrations are the participant service's tables for both engines.
var Migrations = sqlstore.Migrations{Name: "participant", FS: migrationsFS, Dir: "migrations"}

// Source is the CloudEvents source of the participant service's events.
const Source = "tandem/participant"

// Store is the SQL implementation of participant.Store.
type Store struct {
	db *sqlstore.DB
	// committed is called after each commit that wrote events, to wake the
	// outbox relay (may be nil).
	committed func()
}

// New returns a Store over an opened database (with Migrations and
// eventbus.Migrations applied). committed, if not nil, runs after every
// commit that wrote events.
func New(db *sqlstore.DB, committed func()) *Store {
	return &Store{db: db, committed: committed}
}

var _ participant.Store = (*Store)(nil)

// forUpdate locks the selected row on PostgreSQL; SQLite transactions
// already hold the database's write lock (BEGIN IMMEDIATE).
func (s *Store) forUpdate() string {
	if s.db.Dialect == sqlstore.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// ---- tenants

const tenantColumns = `id, display_name, reporting_chain_depth, min_report_group_size, create_time, update_time`

// EnsureTenant inserts t unless a tenant with its id exists; it returns the
// stored tenant and whether it was created.
func (s *Store) EnsureTenant(ctx context.Context, t participant.Tenant) (participant.Tenant, bool, error) {
	created := false
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
			t.ID, t.DisplayName, t.ReportingChainDepth, t.MinReportGroupSize, t.CreateTime, t.UpdateTime)
		if err != nil {
			return nil, fmt.Errorf("db: insert tenant: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, nil
		}
		created = true
		return []eventbus.Event{{Tenant: t.ID, Aggregate: "tenant", AggregateID: t.ID, Type: "created",
			Payload: &eventsv1.TenantCreated{Tenant: pbconv.Tenant(t)}}}, nil
	})
	if err != nil {
		return participant.Tenant{}, false, err
	}
	stored, err := s.GetTenant(ctx, t.ID)
	return stored, created, err
}

// GetTenant returns a tenant.
func (s *Store) GetTenant(ctx context.Context, id string) (participant.Tenant, error) {
	return scanTenant(s.db.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, id))
}

// UpdateTenant changes a tenant through fn.
func (s *Store) UpdateTenant(ctx context.Context, id string, fn func(*participant.Tenant) error) (participant.Tenant, error) {
	var t participant.Tenant
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		var err error
		t, err = scanTenant(tx.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`+s.forUpdate(), id))
		if err != nil {
			return nil, err
		}
		if err := fn(&t); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET display_name = $2, reporting_chain_depth = $3, min_report_group_size = $4, update_time = $5 WHERE id = $1`,
			t.ID, t.DisplayName, t.ReportingChainDepth, t.MinReportGroupSize, t.UpdateTime); err != nil {
			return nil, fmt.Errorf("db: update tenant: %w", err)
		}
		return []eventbus.Event{{Tenant: t.ID, Aggregate: "tenant", AggregateID: t.ID, Type: "updated",
			Payload: &eventsv1.TenantUpdated{Tenant: pbconv.Tenant(t)}}}, nil
	})
	return t, err
}

func scanTenant(row scanner) (participant.Tenant, error) {
	var t participant.Tenant
	err := row.Scan(&t.ID, &t.DisplayName, &t.ReportingChainDepth, &t.MinReportGroupSize, &t.CreateTime, &t.UpdateTime)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("tenant: %w", apperr.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("db: scan tenant: %w", err)
	}
	t.CreateTime, t.UpdateTime = t.CreateTime.UTC(), t.UpdateTime.UTC()
	return t, nil
}

// ---- people

const personColumns = `id, hris_id, display_name, email, department, title, seniority_level, manager_id,
	hire_date, promotion_date, location, time_zone, languages, employment_status, create_time, update_time, subject, erased`

// CreatePerson inserts a person.
func (s *Store) CreatePerson(ctx context.Context, tenant string, p participant.Person) error {
	return eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO people (tenant_id, `+personColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
			append([]any{tenant}, personArgs(p)...)...)
		if sqlstore.IsUniqueViolation(err) {
			return nil, fmt.Errorf("person with hris_id %q: %w", p.HRISID, apperr.ErrAlreadyExists)
		}
		if err != nil {
			return nil, fmt.Errorf("db: insert person: %w", err)
		}
		return []eventbus.Event{personEvent(tenant, "created", p)}, nil
	})
}

func personArgs(p participant.Person) []any {
	return []any{p.ID, p.HRISID, p.DisplayName, p.Email, p.Department, p.Title, p.SeniorityLevel, p.ManagerID,
		p.HireDate, p.PromotionDate, p.Location, p.TimeZone, jsonText(p.Languages), string(p.EmploymentStatus), p.CreateTime, p.UpdateTime,
		p.Subject, p.Erased}
}

func personEvent(tenant, typ string, p participant.Person) eventbus.Event {
	ev := eventbus.Event{Tenant: tenant, Aggregate: "person", AggregateID: p.ID, Type: typ}
	if typ == "created" {
		ev.Payload = &eventsv1.PersonCreated{Person: pbconv.Person(p)}
	} else {
		ev.Payload = &eventsv1.PersonUpdated{Person: pbconv.Person(p)}
	}
	return ev
}

// GetPerson returns a person.
func (s *Store) GetPerson(ctx context.Context, tenant, id string) (participant.Person, error) {
	return scanPerson(s.db.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE tenant_id = $1 AND id = $2`, tenant, id))
}

// UpdatePerson changes a person through fn.
func (s *Store) UpdatePerson(ctx context.Context, tenant, id string, fn func(*participant.Person) error) (participant.Person, error) {
	var p participant.Person
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		var err error
		p, err = scanPerson(tx.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE tenant_id = $1 AND id = $2`+s.forUpdate(), tenant, id))
		if err != nil {
			return nil, err
		}
		if err := fn(&p); err != nil {
			return nil, err
		}
		_, err = tx.ExecContext(ctx, `UPDATE people SET hris_id = $3, display_name = $4, email = $5, department = $6, title = $7,
			seniority_level = $8, manager_id = $9, hire_date = $10, promotion_date = $11, location = $12, time_zone = $13,
			languages = $14, employment_status = $15, create_time = $16, update_time = $17, subject = $18, erased = $19
			WHERE tenant_id = $1 AND id = $2`,
			append([]any{tenant}, personArgs(p)...)...)
		if sqlstore.IsUniqueViolation(err) {
			return nil, fmt.Errorf("person with hris_id %q: %w", p.HRISID, apperr.ErrAlreadyExists)
		}
		if err != nil {
			return nil, fmt.Errorf("db: update person: %w", err)
		}
		return []eventbus.Event{personEvent(tenant, "updated", p)}, nil
	})
	return p, err
}

// ListPeople returns one page of people ordered by id.
func (s *Store) ListPeople(ctx context.Context, tenant string, f participant.PersonFilter, page participant.Page) ([]participant.Person, error) {
	q, args := paged(`SELECT `+personColumns+` FROM people`, tenant, page, where{"department = $%d", f.Department})
	return sqlstore.QueryAll(ctx, s.db, q, args, scanPerson)
}

func scanPerson(row scanner) (participant.Person, error) {
	var p participant.Person
	var languages, status string
	err := row.Scan(&p.ID, &p.HRISID, &p.DisplayName, &p.Email, &p.Department, &p.Title, &p.SeniorityLevel, &p.ManagerID,
		&p.HireDate, &p.PromotionDate, &p.Location, &p.TimeZone, &languages, &status, &p.CreateTime, &p.UpdateTime,
		&p.Subject, &p.Erased)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("person: %w", apperr.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("db: scan person: %w", err)
	}
	p.EmploymentStatus = participant.EmploymentStatus(status)
	p.CreateTime, p.UpdateTime = p.CreateTime.UTC(), p.UpdateTime.UTC()
	return p, fromJSON(languages, &p.Languages)
}

// ---- programs

const programColumns = `id, display_name, description, type, state, goals, success_metrics, duration_weeks,
	meeting_cadence, format, enrollment_open_time, enrollment_close_time, default_mentor_capacity,
	scoring_config_id, pilot, create_time, update_time, max_mentor_capacity, manager_subjects`

// CreateProgram inserts a program.
func (s *Store) CreateProgram(ctx context.Context, tenant string, p participant.Program) error {
	return eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO programs (tenant_id, `+programColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
			append([]any{tenant}, programArgs(p)...)...)
		if err != nil {
			return nil, fmt.Errorf("db: insert program: %w", err)
		}
		return []eventbus.Event{{Tenant: tenant, Aggregate: "program", AggregateID: p.ID, Type: "created",
			Payload: &eventsv1.ProgramCreated{Program: pbconv.Program(p)}}}, nil
	})
}

func programArgs(p participant.Program) []any {
	return []any{p.ID, p.DisplayName, p.Description, string(p.Type), string(p.State), jsonText(p.Goals), jsonText(p.SuccessMetrics),
		p.DurationWeeks, p.MeetingCadence, p.Format, nullTime(p.EnrollmentOpenTime), nullTime(p.EnrollmentCloseTime),
		p.DefaultMentorCapacity, p.ScoringConfigID, p.Pilot, p.CreateTime, p.UpdateTime, p.MaxMentorCapacity, jsonText(p.ManagerSubjects)}
}

// GetProgram returns a program.
func (s *Store) GetProgram(ctx context.Context, tenant, id string) (participant.Program, error) {
	return scanProgram(s.db.QueryRowContext(ctx, `SELECT `+programColumns+` FROM programs WHERE tenant_id = $1 AND id = $2`, tenant, id))
}

// UpdateProgram changes a program through fn.
func (s *Store) UpdateProgram(ctx context.Context, tenant, id, reason string, fn func(*participant.Program) error) (participant.Program, error) {
	var p participant.Program
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		var err error
		p, err = scanProgram(tx.QueryRowContext(ctx, `SELECT `+programColumns+` FROM programs WHERE tenant_id = $1 AND id = $2`+s.forUpdate(), tenant, id))
		if err != nil {
			return nil, err
		}
		before := p.State
		if err := fn(&p); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE programs SET display_name = $3, description = $4, type = $5, state = $6, goals = $7,
			success_metrics = $8, duration_weeks = $9, meeting_cadence = $10, format = $11, enrollment_open_time = $12,
			enrollment_close_time = $13, default_mentor_capacity = $14, scoring_config_id = $15, pilot = $16,
			create_time = $17, update_time = $18, max_mentor_capacity = $19, manager_subjects = $20 WHERE tenant_id = $1 AND id = $2`,
			append([]any{tenant}, programArgs(p)...)...); err != nil {
			return nil, fmt.Errorf("db: update program: %w", err)
		}
		ev := eventbus.Event{Tenant: tenant, Aggregate: "program", AggregateID: p.ID, Type: "updated",
			Payload: &eventsv1.ProgramUpdated{Program: pbconv.Program(p)}}
		if p.State != before {
			ev.Type = "state_changed"
			ev.Payload = &eventsv1.ProgramStateChanged{Program: pbconv.Program(p),
				PreviousState: pbconv.Program(participant.Program{State: before}).GetState(), Reason: reason}
		}
		return []eventbus.Event{ev}, nil
	})
	return p, err
}

// ListPrograms returns one page of programs ordered by id.
func (s *Store) ListPrograms(ctx context.Context, tenant string, f participant.ProgramFilter, page participant.Page) ([]participant.Program, error) {
	q, args := paged(`SELECT `+programColumns+` FROM programs`, tenant, page, where{"state = $%d", string(f.State)})
	return sqlstore.QueryAll(ctx, s.db, q, args, scanProgram)
}

func scanProgram(row scanner) (participant.Program, error) {
	var p participant.Program
	var typ, state, goals, metrics, managers string
	var open, closeTime sql.NullTime
	err := row.Scan(&p.ID, &p.DisplayName, &p.Description, &typ, &state, &goals, &metrics, &p.DurationWeeks,
		&p.MeetingCadence, &p.Format, &open, &closeTime, &p.DefaultMentorCapacity, &p.ScoringConfigID, &p.Pilot,
		&p.CreateTime, &p.UpdateTime, &p.MaxMentorCapacity, &managers)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("program: %w", apperr.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("db: scan program: %w", err)
	}
	p.Type, p.State = participant.ProgramType(typ), participant.ProgramState(state)
	if open.Valid {
		p.EnrollmentOpenTime = open.Time.UTC()
	}
	if closeTime.Valid {
		p.EnrollmentCloseTime = closeTime.Time.UTC()
	}
	p.CreateTime, p.UpdateTime = p.CreateTime.UTC(), p.UpdateTime.UTC()
	if err := fromJSON(goals, &p.Goals); err != nil {
		return p, err
	}
	if err := fromJSON(managers, &p.ManagerSubjects); err != nil {
		return p, err
	}
	return p, fromJSON(metrics, &p.SuccessMetrics)
}

// ---- participants

const participantColumns = `id, program_id, person_id, role, state, profile, create_time, update_time`

// CreateParticipant inserts a participant.
func (s *Store) CreateParticipant(ctx context.Context, tenant string, p participant.Participant) error {
	return eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO participants (tenant_id, `+participantColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			append([]any{tenant}, participantArgs(p)...)...)
		if sqlstore.IsUniqueViolation(err) {
			return nil, fmt.Errorf("person %s is already in program %s: %w", p.PersonID, p.ProgramID, apperr.ErrAlreadyExists)
		}
		if err != nil {
			return nil, fmt.Errorf("db: insert participant: %w", err)
		}
		return []eventbus.Event{{Tenant: tenant, Aggregate: "participant", AggregateID: p.ID, Type: "enrolled",
			Payload: &eventsv1.ParticipantEnrolled{Participant: pbconv.Participant(p)}}}, nil
	})
}

func participantArgs(p participant.Participant) []any {
	return []any{p.ID, p.ProgramID, p.PersonID, string(p.Role), string(p.State), jsonText(p.Profile), p.CreateTime, p.UpdateTime}
}

// GetParticipant returns a participant.
func (s *Store) GetParticipant(ctx context.Context, tenant, id string) (participant.Participant, error) {
	return scanParticipant(s.db.QueryRowContext(ctx, `SELECT `+participantColumns+` FROM participants WHERE tenant_id = $1 AND id = $2`, tenant, id))
}

// UpdateParticipant changes a participant through fn.
func (s *Store) UpdateParticipant(ctx context.Context, tenant, id, reason string, fn func(*participant.Participant) error) (participant.Participant, error) {
	var p participant.Participant
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		var err error
		p, err = scanParticipant(tx.QueryRowContext(ctx, `SELECT `+participantColumns+` FROM participants WHERE tenant_id = $1 AND id = $2`+s.forUpdate(), tenant, id))
		if err != nil {
			return nil, err
		}
		before := p.State
		if err := fn(&p); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE participants SET program_id = $3, person_id = $4, role = $5, state = $6, profile = $7,
			create_time = $8, update_time = $9 WHERE tenant_id = $1 AND id = $2`,
			append([]any{tenant}, participantArgs(p)...)...); err != nil {
			return nil, fmt.Errorf("db: update participant: %w", err)
		}
		ev := eventbus.Event{Tenant: tenant, Aggregate: "participant", AggregateID: p.ID, Type: "updated",
			Payload: &eventsv1.ParticipantUpdated{Participant: pbconv.Participant(p)}}
		if before != p.State && p.State == participant.ParticipantWithdrawn {
			ev.Type = "withdrawn"
			ev.Payload = &eventsv1.ParticipantWithdrawn{Participant: pbconv.Participant(p), Reason: reason}
		}
		return []eventbus.Event{ev}, nil
	})
	return p, err
}

// ListParticipants returns one page of a program's participants ordered by id.
func (s *Store) ListParticipants(ctx context.Context, tenant string, f participant.ParticipantFilter, page participant.Page) ([]participant.Participant, error) {
	q, args := paged(`SELECT `+participantColumns+` FROM participants`, tenant, page,
		where{"program_id = $%d", f.ProgramID},
		where{"role = $%d", string(f.Role)},
		where{"state = $%d", string(f.State)},
		where{"person_id IN (SELECT id FROM people WHERE tenant_id = $1 AND department = $%d)", f.Department})
	return sqlstore.QueryAll(ctx, s.db, q, args, scanParticipant)
}

func scanParticipant(row scanner) (participant.Participant, error) {
	var p participant.Participant
	var role, state, profile string
	err := row.Scan(&p.ID, &p.ProgramID, &p.PersonID, &role, &state, &profile, &p.CreateTime, &p.UpdateTime)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("participant: %w", apperr.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("db: scan participant: %w", err)
	}
	p.Role, p.State = participant.Role(role), participant.ParticipantState(state)
	p.CreateTime, p.UpdateTime = p.CreateTime.UTC(), p.UpdateTime.UTC()
	return p, fromJSON(profile, &p.Profile)
}

// ---- helpers

// where is one optional condition of a listing: cond holds %d where its
// placeholder number goes; an empty value leaves the condition out.
type where struct {
	cond  string
	value string
}

// paged completes a listing query of one tenant's rows: the conditions,
// keyset paging after page.After, ordered by id, at most page.Size rows.
func paged(selectFrom, tenant string, page participant.Page, conds ...where) (string, []any) {
	q := selectFrom + ` WHERE tenant_id = $1 AND id > $2`
	args := []any{tenant, page.After}
	for _, c := range conds {
		if c.value != "" {
			args = append(args, c.value)
			q += " AND " + fmt.Sprintf(c.cond, len(args))
		}
	}
	args = append(args, page.Size)
	return q + fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args)), args
}

// scanner is what the scan functions read rows from.
type scanner = sqlstore.Scanner

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func fromJSON(s string, v any) error {
	if s == "" || s == "null" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("db: decode %s: %w", strings.TrimSpace(s[:min(len(s), 20)]), err)
	}
	return nil
}

func nullTime(t time.Time) sql.NullTime {
	return sql.NullTime{Time: t, Valid: !t.IsZero()}
}
