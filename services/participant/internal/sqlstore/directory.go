package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/participant/internal/participant"
	"github.com/tandem-oss/tandem/services/participant/internal/pbconv"
)

// PersonByHRISID finds a person by HRIS id.
func (s *Store) PersonByHRISID(ctx context.Context, tenant, hrisID string) (participant.Person, error) {
	return scanPerson(s.db.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE tenant_id = $1 AND hris_id = $2`, tenant, hrisID))
}

// PeopleBySubject lists the (not erased) people with login subject.
func (s *Store) PeopleBySubject(ctx context.Context, tenant, subject string) ([]participant.Person, error) {
	return sqlstore.QueryAll(ctx, s.db, `SELECT `+personColumns+` FROM people WHERE tenant_id = $1 AND subject = $2 AND NOT erased ORDER BY id`,
		[]any{tenant, subject}, scanPerson)
}

// ParticipationsOf lists every participation of a person, oldest first.
func (s *Store) ParticipationsOf(ctx context.Context, tenant, personID string) ([]participant.Participant, error) {
	return sqlstore.QueryAll(ctx, s.db, `SELECT `+participantColumns+` FROM participants WHERE tenant_id = $1 AND person_id = $2 ORDER BY id`,
		[]any{tenant, personID}, scanParticipant)
}

// RecordAudit writes an audit event.
func (s *Store) RecordAudit(ctx context.Context, tenant string, e participant.AuditEntry) error {
	return eventbus.InTx(ctx, s.db, Source, s.committed, func(*sql.Tx) ([]eventbus.Event, error) {
		return []eventbus.Event{auditEvent(tenant, e)}, nil
	})
}

func auditEvent(tenant string, e participant.AuditEntry) eventbus.Event {
	return eventbus.Event{Tenant: tenant, Aggregate: "audit", AggregateID: e.ResourceID, Type: e.Action,
		Payload: &eventsv1.AuditRecorded{Actor: e.Actor, Action: e.Action, ResourceType: e.ResourceType,
			ResourceId: e.ResourceID, Reason: e.Reason, Time: timestamppb.New(e.Time)}}
}

// ErasePerson anonymises a person in one transaction: every personal field
// is cleared (the HRIS id stays, as a tombstone, so a later import cannot
// bring the person back), their participations lose their profile and are
// withdrawn, and person.erased, participant.withdrawn and the audit entry
// are written. Other people's manager links to the erased id stay: the id
// is a pseudonym, and the matcher needs the chain.
func (s *Store) ErasePerson(ctx context.Context, tenant, id string, audit participant.AuditEntry) (participant.Erasure, error) {
	out := participant.Erasure{PersonID: id, Time: audit.Time}
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		p, err := scanPerson(tx.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE tenant_id = $1 AND id = $2`+s.forUpdate(), tenant, id))
		if err != nil {
			return nil, err
		}
		events := []eventbus.Event{auditEvent(tenant, audit)}
		if p.Erased {
			return events, nil
		}
		erased := participant.Person{ID: p.ID, HRISID: p.HRISID, Erased: true, CreateTime: p.CreateTime, UpdateTime: audit.Time}
		if _, err := tx.ExecContext(ctx, `UPDATE people SET hris_id = $3, display_name = $4, email = $5, department = $6, title = $7,
			seniority_level = $8, manager_id = $9, hire_date = $10, promotion_date = $11, location = $12, time_zone = $13,
			languages = $14, employment_status = $15, create_time = $16, update_time = $17, subject = $18, erased = $19
			WHERE tenant_id = $1 AND id = $2`, append([]any{tenant}, personArgs(erased)...)...); err != nil {
			return nil, fmt.Errorf("db: erase person: %w", err)
		}
		events = append(events, eventbus.Event{Tenant: tenant, Aggregate: "person", AggregateID: id, Type: "erased",
			Payload: &eventsv1.PersonErased{PersonId: id, EraseTime: timestamppb.New(audit.Time)}})

		parts, err := sqlstore.QueryAll(ctx, tx, `SELECT `+participantColumns+` FROM participants WHERE tenant_id = $1 AND person_id = $2 ORDER BY id`+s.forUpdate(),
			[]any{tenant, id}, scanParticipant)
		if err != nil {
			return nil, err
		}
		for _, part := range parts {
			wasEnrolled := part.State == participant.ParticipantEnrolled
			part.Profile, part.State, part.UpdateTime = participant.Profile{}, participant.ParticipantWithdrawn, audit.Time
			if _, err := tx.ExecContext(ctx, `UPDATE participants SET state = $3, profile = $4, update_time = $5 WHERE tenant_id = $1 AND id = $2`,
				tenant, part.ID, string(part.State), jsonText(part.Profile), part.UpdateTime); err != nil {
				return nil, fmt.Errorf("db: anonymise participant: %w", err)
			}
			if wasEnrolled {
				events = append(events, eventbus.Event{Tenant: tenant, Aggregate: "participant", AggregateID: part.ID, Type: "withdrawn",
					Payload: &eventsv1.ParticipantWithdrawn{Participant: pbconv.Participant(part), Reason: "person erased"}})
			}
			out.ParticipationsAnonymised++
		}
		return events, nil
	})
	return out, err
}

// ---- skills

const skillColumns = `id, display_name, category, description, create_time, update_time`

// CreateSkill inserts a skill.
func (s *Store) CreateSkill(ctx context.Context, tenant string, sk participant.Skill) error {
	return eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO skills (tenant_id, `+skillColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			tenant, sk.ID, sk.DisplayName, sk.Category, sk.Description, sk.CreateTime, sk.UpdateTime)
		if sqlstore.IsUniqueViolation(err) {
			return nil, fmt.Errorf("skill %q: %w", sk.ID, apperr.ErrAlreadyExists)
		}
		if err != nil {
			return nil, fmt.Errorf("db: insert skill: %w", err)
		}
		return []eventbus.Event{{Tenant: tenant, Aggregate: "skill", AggregateID: sk.ID, Type: "created",
			Payload: &eventsv1.SkillCreated{Skill: pbconv.Skill(sk)}}}, nil
	})
}

// UpdateSkill changes a skill through fn.
func (s *Store) UpdateSkill(ctx context.Context, tenant, id string, fn func(*participant.Skill) error) (participant.Skill, error) {
	var sk participant.Skill
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		var err error
		sk, err = scanSkill(tx.QueryRowContext(ctx, `SELECT `+skillColumns+` FROM skills WHERE tenant_id = $1 AND id = $2`+s.forUpdate(), tenant, id))
		if err != nil {
			return nil, err
		}
		if err := fn(&sk); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE skills SET display_name = $3, category = $4, description = $5, update_time = $6
			WHERE tenant_id = $1 AND id = $2`, tenant, sk.ID, sk.DisplayName, sk.Category, sk.Description, sk.UpdateTime); err != nil {
			return nil, fmt.Errorf("db: update skill: %w", err)
		}
		return []eventbus.Event{{Tenant: tenant, Aggregate: "skill", AggregateID: sk.ID, Type: "updated",
			Payload: &eventsv1.SkillUpdated{Skill: pbconv.Skill(sk)}}}, nil
	})
	return sk, err
}

// ListSkills returns one page of skills ordered by id.
func (s *Store) ListSkills(ctx context.Context, tenant string, f participant.SkillFilter, page participant.Page) ([]participant.Skill, error) {
	q, args := paged(`SELECT `+skillColumns+` FROM skills`, tenant, page, where{"category = $%d", f.Category})
	return sqlstore.QueryAll(ctx, s.db, q, args, scanSkill)
}

// MissingSkills returns those of ids that are not in the catalogue.
func (s *Store) MissingSkills(ctx context.Context, tenant string, ids []string) ([]string, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	placeholders := make([]string, len(ids))
	args := []any{tenant}
	for i, id := range ids {
		args = append(args, id)
		placeholders[i] = fmt.Sprintf("$%d", i+2)
	}
	found, err := sqlstore.QueryAll(ctx, s.db, `SELECT id FROM skills WHERE tenant_id = $1 AND id IN (`+strings.Join(placeholders, ", ")+`)`, args,
		func(row scanner) (string, error) {
			var id string
			return id, row.Scan(&id)
		})
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, id := range ids {
		if !slices.Contains(found, id) {
			missing = append(missing, id)
		}
	}
	return missing, nil
}

func scanSkill(row scanner) (participant.Skill, error) {
	var sk participant.Skill
	err := row.Scan(&sk.ID, &sk.DisplayName, &sk.Category, &sk.Description, &sk.CreateTime, &sk.UpdateTime)
	if errors.Is(err, sql.ErrNoRows) {
		return sk, fmt.Errorf("skill: %w", apperr.ErrNotFound)
	}
	if err != nil {
		return sk, fmt.Errorf("db: scan skill: %w", err)
	}
	sk.CreateTime, sk.UpdateTime = sk.CreateTime.UTC(), sk.UpdateTime.UTC()
	return sk, nil
}
