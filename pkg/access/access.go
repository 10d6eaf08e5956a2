// Package access keeps the projection every consuming service needs for
// object-level authorization: which person each login subject is, and who
// manages each program. The services feed it from the person and program
// events inside their consumer's transaction, and it answers
// auth.Directory.
package access

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations holds the access_people and access_program_managers tables
// for both engines. Pass it to sqlstore.Open next to the service's own.
var Migrations = sqlstore.Migrations{Name: "access", FS: migrationsDir()}

func migrationsDir() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		// fs.Sub fails only on an invalid path, and "migrations" is valid.
		return migrationFiles
	}
	return sub
}

// Directory reads and writes the projection. It implements auth.Directory.
type Directory struct {
	db *sql.DB
}

var _ auth.Directory = (*Directory)(nil)

// NewDirectory returns the Directory of db, whose migrations include
// Migrations.
func NewDirectory(db *sql.DB) *Directory { return &Directory{db: db} }

// ApplyPerson records that person personID exists and logs in as subject
// ("" for no login); erased removes them.
func (d *Directory) ApplyPerson(ctx context.Context, tx *sql.Tx, tenant, personID, subject string, erased bool) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM access_people WHERE tenant_id = $1 AND person_id = $2`, tenant, personID); err != nil {
		return fmt.Errorf("db: delete person subject: %w", err)
	}
	if erased {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO access_people (tenant_id, person_id, subject) VALUES ($1, $2, $3)`,
		tenant, personID, subject); err != nil {
		return fmt.Errorf("db: insert person subject: %w", err)
	}
	return nil
}

// ApplyProgram records the manager subjects of a program, replacing those
// recorded before.
func (d *Directory) ApplyProgram(ctx context.Context, tx *sql.Tx, tenant, programID string, managers []string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO access_programs (tenant_id, program_id) VALUES ($1, $2)
		ON CONFLICT (tenant_id, program_id) DO NOTHING`, tenant, programID); err != nil {
		return fmt.Errorf("db: insert program: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM access_program_managers WHERE tenant_id = $1 AND program_id = $2`, tenant, programID); err != nil {
		return fmt.Errorf("db: delete program managers: %w", err)
	}
	for _, s := range managers {
		if _, err := tx.ExecContext(ctx, `INSERT INTO access_program_managers (tenant_id, program_id, subject) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, program_id, subject) DO NOTHING`, tenant, programID, s); err != nil {
			return fmt.Errorf("db: insert program manager: %w", err)
		}
	}
	return nil
}

// PersonID returns the person whose login is subject, or "" when none is,
// or when several people share it (the directory must be fixed first).
func (d *Directory) PersonID(ctx context.Context, tenant, subject string) (string, error) {
	if subject == "" {
		return "", nil
	}
	ids, err := sqlstore.QueryAll(ctx, d.db, `SELECT person_id FROM access_people WHERE tenant_id = $1 AND subject = $2 LIMIT 2`,
		[]any{tenant, subject}, func(s sqlstore.Scanner) (string, error) {
			var id string
			return id, s.Scan(&id)
		})
	if err != nil || len(ids) != 1 {
		return "", err
	}
	return ids[0], nil
}

// Manages reports whether subject is a manager of the program.
func (d *Directory) Manages(ctx context.Context, tenant, programID, subject string) (bool, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_program_managers WHERE tenant_id = $1 AND program_id = $2 AND subject = $3`,
		tenant, programID, subject).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("db: read program managers: %w", err)
	}
	return n > 0, nil
}

// ProgramExists reports whether a program event of the tenant's program
// has been applied.
func (d *Directory) ProgramExists(ctx context.Context, tenant, id string) (bool, error) {
	return d.exists(ctx, `SELECT COUNT(*) FROM access_programs WHERE tenant_id = $1 AND program_id = $2`, tenant, id)
}

// PersonExists reports whether a person event of the tenant's (not
// erased) person has been applied.
func (d *Directory) PersonExists(ctx context.Context, tenant, id string) (bool, error) {
	return d.exists(ctx, `SELECT COUNT(*) FROM access_people WHERE tenant_id = $1 AND person_id = $2`, tenant, id)
}

func (d *Directory) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var n int
	if err := d.db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return false, fmt.Errorf("db: exists: %w", err)
	}
	return n > 0, nil
}

// Handler returns next preceded by the projection: person and program
// events update it in the consumer's transaction, then every event goes on
// to next. pkg does not import the generated code, so it reads the few
// fields it needs by name from the event types the service has registered
// (every service imports tandem.events.v1).
func (d *Directory) Handler(next eventbus.Handler) eventbus.Handler {
	return func(ctx context.Context, tx *sql.Tx, m eventbus.Message) error {
		if err := d.apply(ctx, tx, m); err != nil {
			return err
		}
		return next(ctx, tx, m)
	}
}

// apply projects one event; an unreadable payload is left to next, which
// logs and skips it.
func (d *Directory) apply(ctx context.Context, tx *sql.Tx, m eventbus.Message) error {
	switch m.Type {
	case "tandem.person.created", "tandem.person.updated":
		person, ok := decode(m, "tandem.events.v1.PersonUpdated", "person")
		if !ok || str(person, "id") == "" {
			return nil
		}
		erased := person.Get(person.Descriptor().Fields().ByName("erased")).Bool()
		return d.ApplyPerson(ctx, tx, m.Tenant, str(person, "id"), str(person, "subject"), erased)
	case "tandem.person.erased":
		msg, ok := decode(m, "tandem.events.v1.PersonErased", "")
		if !ok || str(msg, "person_id") == "" {
			return nil
		}
		return d.ApplyPerson(ctx, tx, m.Tenant, str(msg, "person_id"), "", true)
	case "tandem.program.created", "tandem.program.updated", "tandem.program.state_changed":
		program, ok := decode(m, "tandem.events.v1.ProgramUpdated", "program")
		if !ok || str(program, "id") == "" {
			return nil
		}
		list := program.Get(program.Descriptor().Fields().ByName("manager_subjects")).List()
		managers := make([]string, list.Len())
		for i := range managers {
			managers[i] = list.Get(i).String()
		}
		return d.ApplyProgram(ctx, tx, m.Tenant, str(program, "id"), managers)
	}
	return nil
}

// decode reads m's payload as the named message type and returns its field
// (the whole message when field is ""). The person and the program are
// field 1 of each of their events, so one type reads them all.
func decode(m eventbus.Message, typeName, field string) (protoreflect.Message, bool) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(typeName))
	if err != nil {
		return nil, false
	}
	msg := mt.New()
	if err := proto.Unmarshal(m.Data, msg.Interface()); err != nil {
		return nil, false
	}
	if field == "" {
		return msg, true
	}
	fd := msg.Descriptor().Fields().ByName(protoreflect.Name(field))
	if fd == nil || !msg.Has(fd) {
		return nil, false
	}
	return msg.Get(fd).Message(), true
}

// str returns a string field of msg by name ("" when it has none).
func str(msg protoreflect.Message, name string) string {
	fd := msg.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		return ""
	}
	return msg.Get(fd).String()
}
