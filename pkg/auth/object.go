package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// Object is what a call acts on, as far as object-level authorization
// cares: the program it belongs to and the people it concerns. The zero
// Object is tenant-level data (the tenant's settings, its programs, skills
// and rooms), which the role policy alone governs.
type Object struct {
	// ProgramID is the program the object belongs to, if any.
	ProgramID string
	// PersonIDs are the people the object belongs to: a participant may act
	// on it only as one of them. Empty means no participant may.
	PersonIDs []string
	// Personal marks an object whose PersonIDs are its owners: a listing
	// of a person's sessions, their availability or calendar tokens. Only
	// the owner, tenant admins and services may act on it, never a program
	// manager, even one naming a ProgramID.
	Personal bool
	// Shared marks program data every member of the tenant may read (the
	// program's definition and settings): only its existence is checked.
	Shared bool
	// named marks an Object built from ids the request names (Program,
	// SharedProgram, Person), whose existence in the caller's tenant is
	// checked; one read from a stored record is known to exist.
	named bool
}

// SharedProgram returns the Object of a program's data that every member
// of the tenant may read.
func SharedProgram(id string) Object { return Object{ProgramID: id, Shared: true, named: true} }

// Program returns the Object of program-scoped data that names no person:
// a run, a program's report or its participant list.
func Program(id string) Object { return Object{ProgramID: id, named: id != ""} }

// Pair returns the Object of a pair's records (a match, its sessions,
// agreement, goals, feedback) in a program. A non-empty actor is the
// person the call acts as: the people narrow to the actor when they are one
// of the pair, and to nobody otherwise, so a participant can neither act
// as their partner nor as an outsider.
func Pair(programID, mentor, mentee, actor string) Object {
	people := []string{mentor, mentee}
	if actor != "" {
		people = nil
		if actor == mentor || actor == mentee {
			people = []string{actor}
		}
	}
	return Object{ProgramID: programID, PersonIDs: people}
}

// Everyone is every person's records of the tenant at once (a listing
// without a program or person filter): for tenant admins, services and
// analysts only.
var Everyone = Object{Personal: true}

// Person returns the Object of a person's own data outside any program.
func Person(id string) Object { return Object{PersonIDs: []string{id}, Personal: true, named: true} }

// PersonField returns the Person object of the id in a request's field,
// or InvalidArgument naming the field when it is empty: a rule reads the
// request before the handler's own checks.
func PersonField(field, id string) (Object, error) {
	if strings.TrimSpace(id) == "" {
		return Object{}, apperr.Invalid(field, "must not be empty")
	}
	return Person(id), nil
}

// Directory tells who a caller is within their tenant: which person their
// token's subject is, and which programs they manage. Each service answers
// it from its own data or projection.
type Directory interface {
	// PersonID returns the id of the person whose login is subject, or ""
	// when no person has it.
	PersonID(ctx context.Context, tenant, subject string) (string, error)
	// Manages reports whether subject is a manager of the program.
	Manages(ctx context.Context, tenant, programID, subject string) (bool, error)
	// ProgramExists and PersonExists report whether the tenant has the
	// program or the (not erased) person.
	ProgramExists(ctx context.Context, tenant, id string) (bool, error)
	PersonExists(ctx context.Context, tenant, id string) (bool, error)
}

// ObjectRule returns the Object a request acts on. It reads whatever it
// needs (a session's match, a match's program) within the caller's tenant,
// so an id of another tenant gives NotFound before any decision.
type ObjectRule func(ctx context.Context, req any) (Object, error)

// Rule adapts a rule over one request type to an ObjectRule.
func Rule[R any](fn func(context.Context, R) (Object, error)) ObjectRule {
	return func(ctx context.Context, req any) (Object, error) { return fn(ctx, req.(R)) }
}

// Tenantwide is the rule of an RPC on tenant-level data: the role policy
// decides alone.
func Tenantwide(context.Context, any) (Object, error) { return Object{}, nil }

// Objects maps each full method name to its object rule. A service
// declares one rule per RPC of its Policy; Check refuses to serve a policy
// with a gap.
type Objects map[string]ObjectRule

// Check returns an error naming every method of policy, other than those
// open to Anyone, that has no rule in o.
func (o Objects) Check(policy Policy) error {
	var missing []string
	for method := range policy {
		if _, ok := o[method]; !ok && !policy.Open(method) {
			missing = append(missing, method)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("auth: no object rule for %v", missing)
	}
	return nil
}

// Interceptor resolves each call's Object with its rule and lets it
// through only if Allow does. It must run after the role policy. Methods
// without a rule (Public and Anyone ones) pass untouched.
func (o Objects) Interceptor(dir Directory) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		rule, ok := o[info.FullMethod]
		if !ok {
			return handler(ctx, req)
		}
		if _, ok := FromContext(ctx); !ok {
			return handler(ctx, req) // open to Anyone: the method checks its own credential
		}
		obj, err := rule(ctx, req)
		if err != nil {
			return nil, err
		}
		if err := exists(ctx, dir, obj); err != nil {
			return nil, err
		}
		if err := Allow(ctx, dir, obj); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// exists fails with NotFound unless the program and the people obj names
// are the caller's tenant's, so another tenant's ids are refused alike for
// every caller, even one who may act on anything of their own tenant.
func exists(ctx context.Context, dir Directory, obj Object) error {
	if !obj.named {
		return nil
	}
	tenant, err := TenantFrom(ctx)
	if err != nil {
		return err
	}
	if obj.ProgramID != "" {
		ok, err := dir.ProgramExists(ctx, tenant, obj.ProgramID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("program %s: %w", obj.ProgramID, apperr.ErrNotFound)
		}
	}
	for _, id := range obj.PersonIDs {
		ok, err := dir.PersonExists(ctx, tenant, id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("person %s: %w", id, apperr.ErrNotFound)
		}
	}
	return nil
}

// Allow decides whether the caller in ctx may act on obj, which belongs to
// the caller's tenant:
//   - tenant admins, services and analysts may act on anything their role
//     policy lets them call (analysts are limited to aggregates there);
//   - a program manager may act on tenant-level data and on what belongs
//     to a program they manage, but not on another person's Personal data;
//   - a participant may act on tenant-level data and on what names them
//     among its PersonIDs.
//
// A refusal wraps apperr.ErrPermissionDenied. A caller holding several
// roles passes if any of them does.
func Allow(ctx context.Context, dir Directory, obj Object) error {
	p, ok := FromContext(ctx)
	if !ok {
		return fmt.Errorf("no verified caller: %w", apperr.ErrUnauthenticated)
	}
	if p.HasRole(RoleTenantAdmin, RoleService, RoleAnalyst) {
		return nil
	}
	if obj.Shared || (obj.ProgramID == "" && len(obj.PersonIDs) == 0 && !obj.Personal) {
		return nil
	}
	if p.HasRole(RoleProgramManager) && obj.ProgramID != "" && !obj.Personal {
		manages, err := dir.Manages(ctx, p.Tenant, obj.ProgramID, p.Subject)
		if err != nil {
			return err
		}
		if manages {
			return nil
		}
	}
	if p.HasRole(RoleParticipant) && len(obj.PersonIDs) > 0 {
		self, err := dir.PersonID(ctx, p.Tenant, p.Subject)
		if err != nil {
			return err
		}
		if self != "" && slices.Contains(obj.PersonIDs, self) {
			return nil
		}
	}
	return fmt.Errorf("the caller may not act on this program's or person's records: %w", apperr.ErrPermissionDenied)
}
