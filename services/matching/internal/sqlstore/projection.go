package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
)

// The projection is written by the event consumer inside its transaction
// (which also records the event in the inbox), so each method takes the
// transaction. Every write bumps the epoch of each program whose
// candidates it can change.

const personColumns = `id, department, seniority, manager_id, time_zone, languages, location, employment_status, erased`

const programColumns = `id, type, state, format, default_capacity, max_capacity`

const participantColumns = `id, program_id, person_id, role, state, competencies, wants, work_style,
	communication_style, motivation, preferred_format, capacity, prefer, avoid`

// ApplyPerson stores a person's snapshot. A change of manager moves the
// reporting chains of everyone below the person, so it bumps every program
// of the tenant; any other change bumps the person's programs.
func (s *Store) ApplyPerson(ctx context.Context, tx *sql.Tx, tenant string, p matching.Person) error {
	var oldManager string
	err := tx.QueryRowContext(ctx, `SELECT manager_id FROM people WHERE tenant_id = $1 AND id = $2`, tenant, p.ID).Scan(&oldManager)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("db: read person: %w", err)
	}
	if err := s.upsertPerson(ctx, tx, tenant, p); err != nil {
		return err
	}
	if oldManager != p.ManagerID && (found || p.ManagerID != "") {
		return bumpPrograms(ctx, tx, tenant, `SELECT DISTINCT program_id FROM participants WHERE tenant_id = $1`, tenant)
	}
	return bumpProgramsOf(ctx, tx, tenant, p.ID)
}

// ErasePerson keeps only the id of an erased person: the person's row is
// blanked and marked erased (so a late event cannot bring the data back),
// their enrolments lose their profile, and matches, requests and run
// results keep ids and scores but lose the texts (factor explanations,
// reasons, messages, details) that could describe the person.
func (s *Store) ErasePerson(ctx context.Context, tx *sql.Tx, tenant, personID string) error {
	if err := s.upsertPerson(ctx, tx, tenant, matching.Person{ID: personID, Erased: true}); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE participants SET competencies = '{}', wants = '[]', work_style = '',
		communication_style = '', motivation = '', preferred_format = '', prefer = '[]', avoid = '[]'
		WHERE tenant_id = $1 AND person_id = $2`, tenant, personID); err != nil {
		return fmt.Errorf("db: anonymise participants: %w", err)
	}
	for _, stmt := range eraseStatements {
		if _, err := tx.ExecContext(ctx, stmt, tenant, personID); err != nil {
			return fmt.Errorf("db: erase person's texts: %w", err)
		}
	}
	return bumpProgramsOf(ctx, tx, tenant, personID)
}

// eraseStatements blank the texts the matching service's own tables hold
// about a person ($1 tenant, $2 person id).
var eraseStatements = []string{
	`UPDATE matches SET factors = '[]', decline_reason = '', end_reason = ''
		WHERE tenant_id = $1 AND (mentor_person_id = $2 OR mentee_person_id = $2)`,
	`UPDATE match_run_pairs SET factors = '[]' WHERE tenant_id = $1 AND (mentor_person_id = $2 OR mentee_person_id = $2)`,
	`UPDATE match_run_unmatched SET detail = '' WHERE tenant_id = $1 AND person_id = $2`,
	`UPDATE match_requests SET message = '', reason = ''
		WHERE tenant_id = $1 AND (requester_person_id = $2 OR target_person_id = $2)`,
}

// ApplyProgram stores a program's snapshot and bumps its epoch.
func (s *Store) ApplyProgram(ctx context.Context, tx *sql.Tx, tenant string, p matching.Program) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO programs (tenant_id, `+programColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id, id) DO UPDATE SET type = excluded.type, state = excluded.state, format = excluded.format,
		default_capacity = excluded.default_capacity, max_capacity = excluded.max_capacity`,
		tenant, p.ID, string(p.Type), string(p.State), string(p.Format), p.DefaultCapacity, p.MaxCapacity)
	if err != nil {
		return fmt.Errorf("db: upsert program: %w", err)
	}
	return bumpEpoch(ctx, tx, tenant, p.ID)
}

// ApplyParticipant stores a participant's snapshot and bumps the epoch of
// their program. The profile of an erased person is not stored again.
func (s *Store) ApplyParticipant(ctx context.Context, tx *sql.Tx, tenant string, p matching.Participant) error {
	var erased bool
	err := tx.QueryRowContext(ctx, `SELECT erased FROM people WHERE tenant_id = $1 AND id = $2`, tenant, p.PersonID).Scan(&erased)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("db: read person: %w", err)
	}
	if erased {
		p = matching.Participant{ID: p.ID, ProgramID: p.ProgramID, PersonID: p.PersonID, Role: p.Role, State: p.State}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO participants (tenant_id, `+participantColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (tenant_id, id) DO UPDATE SET program_id = excluded.program_id, person_id = excluded.person_id,
		role = excluded.role, state = excluded.state, competencies = excluded.competencies, wants = excluded.wants,
		work_style = excluded.work_style, communication_style = excluded.communication_style,
		motivation = excluded.motivation, preferred_format = excluded.preferred_format, capacity = excluded.capacity,
		prefer = excluded.prefer, avoid = excluded.avoid`,
		tenant, p.ID, p.ProgramID, p.PersonID, string(p.Role), string(p.State), jsonText(nonNilMap(p.Competencies)),
		jsonText(nonNil(p.Wants)), p.WorkStyle, p.CommunicationStyle, p.Motivation, string(p.Format), p.Capacity,
		jsonText(nonNil(p.Prefer)), jsonText(nonNil(p.Avoid)))
	if err != nil {
		return fmt.Errorf("db: upsert participant: %w", err)
	}
	return bumpEpoch(ctx, tx, tenant, p.ProgramID)
}

// Epoch returns a program's projection epoch (0 before any change).
func (s *Store) Epoch(ctx context.Context, tenant, programID string) (int64, error) {
	return readEpoch(ctx, s.db, tenant, programID)
}

func (s *Store) upsertPerson(ctx context.Context, tx *sql.Tx, tenant string, p matching.Person) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO people (tenant_id, `+personColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (tenant_id, id) DO UPDATE SET department = excluded.department, seniority = excluded.seniority,
		manager_id = excluded.manager_id, time_zone = excluded.time_zone, languages = excluded.languages,
		location = excluded.location, employment_status = excluded.employment_status, erased = excluded.erased`,
		tenant, p.ID, p.Department, p.Seniority, p.ManagerID, p.TimeZone, jsonText(nonNil(p.Languages)), p.Location,
		string(p.Status), p.Erased)
	if err != nil {
		return fmt.Errorf("db: upsert person: %w", err)
	}
	return nil
}

// bumpEpoch increments a program's epoch. As an upsert it takes the row's
// lock until the transaction ends, which is how writers of one program's
// matches wait for each other.
func bumpEpoch(ctx context.Context, tx *sql.Tx, tenant, programID string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO program_epochs (tenant_id, program_id, epoch) VALUES ($1, $2, 1)
		ON CONFLICT (tenant_id, program_id) DO UPDATE SET epoch = program_epochs.epoch + 1`, tenant, programID)
	if err != nil {
		return fmt.Errorf("db: bump epoch: %w", err)
	}
	return nil
}

// bumpProgramsOf bumps the epoch of every program the person takes part in.
func bumpProgramsOf(ctx context.Context, tx *sql.Tx, tenant, personID string) error {
	return bumpPrograms(ctx, tx, tenant, `SELECT DISTINCT program_id FROM participants WHERE tenant_id = $1 AND person_id = $2`,
		tenant, personID)
}

// bumpPrograms bumps the epoch of every program the query lists.
func bumpPrograms(ctx context.Context, tx *sql.Tx, tenant, query string, args ...any) error {
	programs, err := sqlstore.QueryAll(ctx, tx, query+` ORDER BY program_id`, args, func(row scanner) (string, error) {
		var id string
		err := row.Scan(&id)
		return id, err
	})
	if err != nil {
		return err
	}
	for _, id := range programs {
		if err := bumpEpoch(ctx, tx, tenant, id); err != nil {
			return err
		}
	}
	return nil
}

func readEpoch(ctx context.Context, q rowQuerier, tenant, programID string) (int64, error) {
	var epoch int64
	err := q.QueryRowContext(ctx, `SELECT epoch FROM program_epochs WHERE tenant_id = $1 AND program_id = $2`, tenant, programID).Scan(&epoch)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("db: read epoch: %w", err)
	}
	return epoch, nil
}

// ProgramInput reads a program's input in one transaction, so that the
// participants, people, matches and configuration agree with each other
// (REPEATABLE READ on PostgreSQL; SQLite transactions are serialisable).
func (s *Store) ProgramInput(ctx context.Context, tenant, programID string) (matching.Input, error) {
	var opts *sql.TxOptions
	if s.db.Dialect == sqlstore.Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return matching.Input{}, fmt.Errorf("db: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	return programInput(ctx, tx, tenant, programID)
}

func programInput(ctx context.Context, tx *sql.Tx, tenant, programID string) (matching.Input, error) {
	var in matching.Input
	program, err := readProgram(ctx, tx, tenant, programID)
	if err != nil {
		return in, err
	}
	in.Program = program
	if in.Epoch, err = readEpoch(ctx, tx, tenant, programID); err != nil {
		return in, err
	}
	in.Config, err = scoringConfig(ctx, tx, tenant, programID)
	if errors.Is(err, errNoConfig) {
		in.Config, err = matching.DefaultScoringConfig(programID), nil
	}
	if err != nil {
		return in, err
	}
	in.ConfigVersion = in.Config.Version

	managerOf, err := managerLinks(ctx, tx, tenant)
	if err != nil {
		return in, err
	}
	parts, err := sqlstore.QueryAll(ctx, tx, `SELECT `+prefixed("pt.", participantColumns)+`, `+prefixed("pe.", personColumns)+`
		FROM participants pt JOIN people pe ON pe.tenant_id = pt.tenant_id AND pe.id = pt.person_id
		WHERE pt.tenant_id = $1 AND pt.program_id = $2 AND pt.state = $3 ORDER BY pt.id`,
		[]any{tenant, programID, string(matching.ParticipantEnrolled)}, scanParticipantPerson)
	if err != nil {
		return in, err
	}
	live, err := liveCounts(ctx, tx, tenant, programID)
	if err != nil {
		return in, err
	}
	in.Remaining, in.Live = map[string]int{}, map[string]bool{}
	for _, pp := range parts {
		if !pp.participant.Eligible(pp.person, true) {
			continue
		}
		chain := matching.ManagerChain(pp.person.ID, func(id string) (string, bool) {
			m, ok := managerOf[id]
			return m, ok
		})
		profile := matching.Profile(pp.participant, pp.person, chain, program)
		if pp.participant.Role == matching.RoleMentor {
			in.Mentors = append(in.Mentors, profile)
			in.Remaining[profile.ID] = max(0, profile.Capacity-live[profile.ID])
		} else {
			in.Mentees = append(in.Mentees, profile)
		}
	}
	for id, n := range live {
		if n > 0 {
			in.Live[id] = true
		}
	}
	if in.PastPairs, err = pastPairs(ctx, tx, tenant, programID); err != nil {
		return in, err
	}
	in.Rules = matching.RulesFor(program, in.Config, in.PastPairs)
	return in, nil
}

// liveCounts counts the live matches of each participant of a program,
// on either side.
func liveCounts(ctx context.Context, q querier, tenant, programID string) (map[string]int, error) {
	type count struct {
		id string
		n  int
	}
	counts, err := sqlstore.QueryAll(ctx, q, `SELECT mentor_participant_id, COUNT(*) FROM matches
		WHERE tenant_id = $1 AND program_id = $2 AND state IN `+liveStates+` GROUP BY mentor_participant_id
		UNION ALL SELECT mentee_participant_id, COUNT(*) FROM matches
		WHERE tenant_id = $1 AND program_id = $2 AND state IN `+liveStates+` GROUP BY mentee_participant_id`,
		[]any{tenant, programID}, func(row scanner) (count, error) {
			var c count
			err := row.Scan(&c.id, &c.n)
			return c, err
		})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(counts))
	for _, c := range counts {
		out[c.id] += c.n
	}
	return out, nil
}

// pastPairs lists the {mentor, mentee} person ids of a program's declined
// and ended matches.
func pastPairs(ctx context.Context, q querier, tenant, programID string) ([][2]string, error) {
	return sqlstore.QueryAll(ctx, q, `SELECT DISTINCT mentor_person_id, mentee_person_id FROM matches
		WHERE tenant_id = $1 AND program_id = $2 AND state IN ($3, $4) ORDER BY mentor_person_id, mentee_person_id`,
		[]any{tenant, programID, string(matching.MatchDeclined), string(matching.MatchEnded)},
		func(row scanner) ([2]string, error) {
			var p [2]string
			err := row.Scan(&p[0], &p[1])
			return p, err
		})
}

func readProgram(ctx context.Context, q rowQuerier, tenant, programID string) (matching.Program, error) {
	var p matching.Program
	var typ, state, format string
	err := q.QueryRowContext(ctx, `SELECT `+programColumns+` FROM programs WHERE tenant_id = $1 AND id = $2`, tenant, programID).
		Scan(&p.ID, &typ, &state, &format, &p.DefaultCapacity, &p.MaxCapacity)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("program %s is not known to the matching service (yet): %w", programID, apperr.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("db: read program: %w", err)
	}
	p.Type, p.State, p.Format = matching.ProgramType(typ), matching.ProgramState(state), matching.Format(format)
	return p, nil
}

// managerLinks reads every person's manager of the tenant, to walk
// reporting chains in memory.
func managerLinks(ctx context.Context, tx *sql.Tx, tenant string) (map[string]string, error) {
	type link struct{ id, manager string }
	links, err := sqlstore.QueryAll(ctx, tx, `SELECT id, manager_id FROM people WHERE tenant_id = $1 AND manager_id <> ''`, []any{tenant},
		func(row scanner) (link, error) {
			var l link
			err := row.Scan(&l.id, &l.manager)
			return l, err
		})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(links))
	for _, l := range links {
		out[l.id] = l.manager
	}
	return out, nil
}

type participantPerson struct {
	participant matching.Participant
	person      matching.Person
}

func scanParticipantPerson(row scanner) (participantPerson, error) {
	var pp participantPerson
	p, e := &pp.participant, &pp.person
	var role, state, competencies, wants, format, prefer, avoid, languages, status string
	err := row.Scan(&p.ID, &p.ProgramID, &p.PersonID, &role, &state, &competencies, &wants, &p.WorkStyle,
		&p.CommunicationStyle, &p.Motivation, &format, &p.Capacity, &prefer, &avoid,
		&e.ID, &e.Department, &e.Seniority, &e.ManagerID, &e.TimeZone, &languages, &e.Location, &status, &e.Erased)
	if err != nil {
		return pp, fmt.Errorf("db: scan participant: %w", err)
	}
	p.Role, p.State, p.Format, e.Status = matching.Role(role), matching.ParticipantState(state), matching.Format(format), matching.EmploymentStatus(status)
	for _, f := range []struct {
		raw string
		dst any
	}{{competencies, &p.Competencies}, {wants, &p.Wants}, {prefer, &p.Prefer}, {avoid, &p.Avoid}, {languages, &e.Languages}} {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return pp, fmt.Errorf("db: decode participant: %w", err)
		}
	}
	// Empty lists are stored as [] and {}; they read back as nil, as the
	// events carry them.
	if len(p.Competencies) == 0 {
		p.Competencies = nil
	}
	p.Wants, p.Prefer, p.Avoid, e.Languages = nilIfEmpty(p.Wants), nilIfEmpty(p.Prefer), nilIfEmpty(p.Avoid), nilIfEmpty(e.Languages)
	return pp, nil
}

// Participant returns one projected participant and their person (found
// false when no event of the person arrived).
func (s *Store) Participant(ctx context.Context, tenant, id string) (matching.Participant, matching.Person, bool, error) {
	return participantWithPerson(ctx, s.db, tenant, id)
}

// ParticipantRef returns the program and the person of a projected
// participant: what the object rules check on every participant-scoped
// call, read without the profile.
func (s *Store) ParticipantRef(ctx context.Context, tenant, id string) (programID, personID string, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT program_id, person_id FROM participants WHERE tenant_id = $1 AND id = $2`, tenant, id).
		Scan(&programID, &personID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("participant %s is not known to the matching service (yet): %w", id, apperr.ErrNotFound)
	}
	if err != nil {
		return "", "", fmt.Errorf("db: read participant: %w", err)
	}
	return programID, personID, nil
}

func participantWithPerson(ctx context.Context, q querier, tenant, id string) (matching.Participant, matching.Person, bool, error) {
	rows, err := sqlstore.QueryAll(ctx, q, `SELECT `+prefixed("pt.", participantColumns)+`, `+personOrEmpty+`
		FROM participants pt LEFT JOIN people pe ON pe.tenant_id = pt.tenant_id AND pe.id = pt.person_id
		WHERE pt.tenant_id = $1 AND pt.id = $2`, []any{tenant, id}, scanParticipantPerson)
	if err != nil {
		return matching.Participant{}, matching.Person{}, false, err
	}
	if len(rows) == 0 {
		return matching.Participant{}, matching.Person{}, false, fmt.Errorf("participant %s is not known to the matching service (yet): %w", id, apperr.ErrNotFound)
	}
	return rows[0].participant, rows[0].person, rows[0].person.ID != "", nil
}

// Person returns one projected person.
func (s *Store) Person(ctx context.Context, tenant, id string) (matching.Person, error) {
	var p matching.Person
	var languages, status string
	err := s.db.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE tenant_id = $1 AND id = $2`, tenant, id).
		Scan(&p.ID, &p.Department, &p.Seniority, &p.ManagerID, &p.TimeZone, &languages, &p.Location, &status, &p.Erased)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("person %s: %w", id, apperr.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("db: read person: %w", err)
	}
	p.Status = matching.EmploymentStatus(status)
	if err := json.Unmarshal([]byte(languages), &p.Languages); err != nil {
		return p, fmt.Errorf("db: decode person: %w", err)
	}
	p.Languages = nilIfEmpty(p.Languages)
	return p, nil
}

// Program returns one projected program.
func (s *Store) Program(ctx context.Context, tenant, id string) (matching.Program, error) {
	return readProgram(ctx, s.db, tenant, id)
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
