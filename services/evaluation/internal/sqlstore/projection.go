package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

// The projections of other services' events are written by the event
// consumer inside its transaction, which also records the event in the
// inbox. A row keeps the attributes of the newest event applied (an event
// of the same time as the stored one applies), so a late or repeated event
// changes nothing; the times of lifecycle steps keep the earliest non-zero
// value ever seen, so a late event can still fill in a step it was the
// first to report. None of these writes an event.

// ApplyPerson stores a person's attributes. When the newest event shows
// the person terminated, the stored terminate time stays if set (the
// first time seen terminated); when it shows them employed, it is
// cleared. A person the event shows erased is stored as ErasePerson
// leaves them; an erased person stays erased: later events change nothing.
func (s *Store) ApplyPerson(ctx context.Context, tx *sql.Tx, tenant string, p evaluation.Person) error {
	if p.Erased {
		p.Department, p.Seniority, p.Employment = "", 0, ""
	}
	if p.Employment != evaluation.EmploymentTerminated {
		p.TerminateTime = time.Time{}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO persons (tenant_id, id, department, seniority, employment, terminate_micros,
			erased, event_micros)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (tenant_id, id) DO UPDATE SET department = excluded.department, seniority = excluded.seniority,
			employment = excluded.employment,
			terminate_micros = CASE WHEN excluded.erased OR (excluded.employment = 'terminated' AND persons.terminate_micros <> 0)
				THEN persons.terminate_micros ELSE excluded.terminate_micros END,
			erased = excluded.erased, event_micros = excluded.event_micros
		WHERE NOT persons.erased AND persons.event_micros <= excluded.event_micros`,
		tenant, p.ID, p.Department, p.Seniority, string(p.Employment), micros(p.TerminateTime), p.Erased, micros(p.EventTime))
	if err != nil {
		return fmt.Errorf("db: project person: %w", err)
	}
	return nil
}

// ApplyParticipant stores a participant. The withdraw time follows the
// newest event (none while enrolled); the enrol time keeps the earliest.
func (s *Store) ApplyParticipant(ctx context.Context, tx *sql.Tx, tenant string, p evaluation.Participant) error {
	if p.State == evaluation.ParticipantEnrolled {
		p.WithdrawTime = time.Time{}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO participants (tenant_id, id, program_id, person_id, role, state,
			development_skills, enrol_micros, withdraw_micros, event_micros)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (tenant_id, id) DO UPDATE SET `+
		newest("participants", "program_id", "person_id", "role", "state", "development_skills", "withdraw_micros", "event_micros")+", "+
		earliest("participants", "enrol_micros"),
		tenant, p.ID, p.ProgramID, p.PersonID, string(p.Role), string(p.State), jsonText(p.DevelopmentSkills),
		micros(p.EnrolTime), micros(p.WithdrawTime), micros(p.EventTime))
	if err != nil {
		return fmt.Errorf("db: project participant: %w", err)
	}
	return nil
}

// ApplyMatch stores a match; every step's time keeps the earliest.
func (s *Store) ApplyMatch(ctx context.Context, tx *sql.Tx, tenant string, m evaluation.Match) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO matches (tenant_id, `+matchColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (tenant_id, id) DO UPDATE SET `+
		newest("matches", "program_id", "mentor_participant_id", "mentee_participant_id", "mentor_person_id",
			"mentee_person_id", "state", "score", "event_micros")+", "+
		earliest("matches", "propose_micros", "accept_micros", "activate_micros", "decline_micros", "end_micros"),
		tenant, m.ID, m.ProgramID, m.MentorParticipantID, m.MenteeParticipantID, m.MentorPersonID, m.MenteePersonID,
		string(m.State), m.Score, micros(m.ProposeTime), micros(m.AcceptTime), micros(m.ActivateTime),
		micros(m.DeclineTime), micros(m.EndTime), micros(m.EventTime))
	if err != nil {
		return fmt.Errorf("db: project match: %w", err)
	}
	return nil
}

// ApplySession stores a session. Who cancelled follows the newest event;
// the complete and cancel times keep the earliest.
func (s *Store) ApplySession(ctx context.Context, tx *sql.Tx, tenant string, x evaluation.Session) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (tenant_id, `+sessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (tenant_id, id) DO UPDATE SET `+
		newest("sessions", "match_id", "state", "start_micros", "end_micros", "cancelled_by", "event_micros")+", "+
		earliest("sessions", "complete_micros", "cancel_micros"),
		tenant, x.ID, x.MatchID, string(x.State), micros(x.StartTime), micros(x.EndTime), micros(x.CompleteTime),
		micros(x.CancelTime), x.CancelledBy, micros(x.EventTime))
	if err != nil {
		return fmt.Errorf("db: project session: %w", err)
	}
	return nil
}

// ErasePerson blanks a person's attributes (keeping the id and the
// terminate time, which retention figures need) and the text of every
// comment they wrote; ratings and levels stay. A person not yet projected
// is stored erased, so a late event cannot bring their attributes back.
func (s *Store) ErasePerson(ctx context.Context, tx *sql.Tx, tenant, personID string) error {
	for _, stmt := range []struct{ what, sql string }{
		{"person", `INSERT INTO persons (tenant_id, id, department, seniority, employment, terminate_micros, erased, event_micros)
			VALUES ($1, $2, '', 0, '', 0, TRUE, 0)
			ON CONFLICT (tenant_id, id) DO UPDATE SET department = '', seniority = 0, employment = '', erased = TRUE`},
		{"feedback comments", `UPDATE feedback SET comment = '', private_comment = '', has_private_comment = FALSE
			WHERE tenant_id = $1 AND author_person_id = $2`},
		{"pulse comments", `UPDATE pulse_responses SET comment = '' WHERE tenant_id = $1 AND person_id = $2`},
	} {
		if _, err := tx.ExecContext(ctx, stmt.sql, tenant, personID); err != nil {
			return fmt.Errorf("db: erase %s: %w", stmt.what, err)
		}
	}
	return nil
}

// Match returns a projected match.
func (s *Store) Match(ctx context.Context, tenant, id string) (evaluation.Match, error) {
	return readMatch(ctx, s.db, tenant, id)
}

// readMatch reads a match with q, a database or a transaction.
func readMatch(ctx context.Context, q sqlstore.Querier, tenant, id string) (evaluation.Match, error) {
	found, err := sqlstore.QueryAll(ctx, q, `SELECT `+matchColumns+` FROM matches WHERE tenant_id = $1 AND id = $2`,
		[]any{tenant, id}, scanMatch)
	if err != nil {
		return evaluation.Match{}, fmt.Errorf("read match %s: %w", id, err)
	}
	if len(found) == 0 {
		return evaluation.Match{}, notFound("match", id)
	}
	return found[0], nil
}

// Session returns a projected session.
func (s *Store) Session(ctx context.Context, tenant, id string) (evaluation.Session, error) {
	x, err := scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE tenant_id = $1 AND id = $2`,
		tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return x, notFound("session", id)
	}
	if err != nil {
		return x, fmt.Errorf("db: read session: %w", err)
	}
	return x, nil
}

// Participant returns a projected participant.
func (s *Store) Participant(ctx context.Context, tenant, id string) (evaluation.Participant, error) {
	p, err := scanParticipant(s.db.QueryRowContext(ctx, `SELECT `+participantColumns+` FROM participants
		WHERE tenant_id = $1 AND id = $2`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("participant", id)
	}
	if err != nil {
		return p, fmt.Errorf("db: read participant: %w", err)
	}
	return p, nil
}

// PersonMatches returns the matches a person is a side of, in any state,
// by propose time and id.
func (s *Store) PersonMatches(ctx context.Context, tenant, personID string) ([]evaluation.Match, error) {
	return sqlstore.QueryAll(ctx, s.db, `SELECT `+matchColumns+` FROM matches
		WHERE tenant_id = $1 AND (mentor_person_id = $2 OR mentee_person_id = $2)
		ORDER BY propose_micros, id`, []any{tenant, personID}, scanMatch)
}

const personColumns = `id, department, seniority, employment, terminate_micros, erased, event_micros`

func scanPerson(row scanner) (evaluation.Person, error) {
	var p evaluation.Person
	var terminated, event int64
	err := row.Scan(&p.ID, &p.Department, &p.Seniority, &p.Employment, &terminated, &p.Erased, &event)
	p.TerminateTime, p.EventTime = fromMicros(terminated), fromMicros(event)
	return p, err
}

const participantColumns = `id, program_id, person_id, role, state, development_skills, enrol_micros, withdraw_micros,
	event_micros`

func scanParticipant(row scanner) (evaluation.Participant, error) {
	var p evaluation.Participant
	var skills string
	var enrolled, withdrawn, event int64
	if err := row.Scan(&p.ID, &p.ProgramID, &p.PersonID, &p.Role, &p.State, &skills, &enrolled, &withdrawn, &event); err != nil {
		return p, err
	}
	p.EnrolTime, p.WithdrawTime, p.EventTime = fromMicros(enrolled), fromMicros(withdrawn), fromMicros(event)
	var err error
	p.DevelopmentSkills, err = fromJSON[string](skills)
	return p, err
}

const matchColumns = `id, program_id, mentor_participant_id, mentee_participant_id, mentor_person_id, mentee_person_id,
	state, score, propose_micros, accept_micros, activate_micros, decline_micros, end_micros, event_micros`

func scanMatch(row scanner) (evaluation.Match, error) {
	var m evaluation.Match
	var proposed, accepted, activated, declined, ended, event int64
	err := row.Scan(&m.ID, &m.ProgramID, &m.MentorParticipantID, &m.MenteeParticipantID, &m.MentorPersonID,
		&m.MenteePersonID, &m.State, &m.Score, &proposed, &accepted, &activated, &declined, &ended, &event)
	m.ProposeTime, m.AcceptTime, m.ActivateTime = fromMicros(proposed), fromMicros(accepted), fromMicros(activated)
	m.DeclineTime, m.EndTime, m.EventTime = fromMicros(declined), fromMicros(ended), fromMicros(event)
	return m, err
}

const sessionColumns = `id, match_id, state, start_micros, end_micros, complete_micros, cancel_micros, cancelled_by,
	event_micros`

func scanSession(row scanner) (evaluation.Session, error) {
	var x evaluation.Session
	var start, end, completed, cancelled, event int64
	err := row.Scan(&x.ID, &x.MatchID, &x.State, &start, &end, &completed, &cancelled, &x.CancelledBy, &event)
	x.StartTime, x.EndTime, x.CompleteTime = fromMicros(start), fromMicros(end), fromMicros(completed)
	x.CancelTime, x.EventTime = fromMicros(cancelled), fromMicros(event)
	return x, err
}
