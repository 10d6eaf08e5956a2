package grpcapi

import (
	"context"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
)

// Objects declares what each RPC acts on, for the object-level rules the
// server enforces after the role policy (auth.Allow). The directory of
// people, the tenant, skills and the program catalogue are tenant-level;
// a program and its participants and imports belong to the program, and a
// participant also to their person.
func (s *Server) Objects() auth.Objects {
	tenantwide := auth.ObjectRule(auth.Tenantwide)
	program := func(id string) (auth.Object, error) { return auth.Program(id), nil }
	return auth.Objects{
		svc + "GetTenant":         tenantwide,
		svc + "UpdateTenant":      tenantwide,
		svc + "CreatePerson":      tenantwide,
		svc + "GetPerson":         tenantwide,
		svc + "UpdatePerson":      tenantwide,
		svc + "ListPeople":        tenantwide,
		svc + "UpsertPerson":      tenantwide,
		svc + "GetReportingChain": tenantwide,
		svc + "ExportPerson":      tenantwide,
		svc + "ErasePerson":       tenantwide,
		svc + "CreateSkill":       tenantwide,
		svc + "UpdateSkill":       tenantwide,
		svc + "ListSkills":        tenantwide,
		svc + "CreateProgram":     tenantwide,
		svc + "GetProgram": rule(func(r *participantv1.GetProgramRequest) (auth.Object, error) {
			return auth.SharedProgram(r.GetId()), nil
		}),
		svc + "ListPrograms": tenantwide,
		svc + "UpdateProgram": rule(func(r *participantv1.UpdateProgramRequest) (auth.Object, error) {
			return program(r.GetProgram().GetId())
		}),
		svc + "TransitionProgram":   rule(func(r *participantv1.TransitionProgramRequest) (auth.Object, error) { return program(r.GetId()) }),
		svc + "GetParticipant":      participantRule(s, func(r *participantv1.GetParticipantRequest) string { return r.GetId() }),
		svc + "UpdateParticipant":   participantRule(s, func(r *participantv1.UpdateParticipantRequest) string { return r.GetParticipant().GetId() }),
		svc + "WithdrawParticipant": participantRule(s, func(r *participantv1.WithdrawParticipantRequest) string { return r.GetId() }),
		svc + "ListParticipants": rule(func(r *participantv1.ListParticipantsRequest) (auth.Object, error) {
			return programOrEveryone(r.GetProgramId()), nil
		}),
		svc + "CreateImport":         rule(func(r *participantv1.CreateImportRequest) (auth.Object, error) { return program(r.GetProgramId()) }),
		svc + "GetImport":            importRule(s, func(r *participantv1.GetImportRequest) string { return r.GetId() }),
		svc + "ListImportRejections": importRule(s, func(r *participantv1.ListImportRejectionsRequest) string { return r.GetImportId() }),
		// A participant enrols only themselves; an empty person_id is theirs.
		svc + "EnrollParticipant": func(ctx context.Context, req any) (auth.Object, error) {
			in := req.(*participantv1.EnrollParticipantRequest).GetParticipant()
			person := in.GetPersonId()
			if caller, _ := auth.FromContext(ctx); person == "" {
				var err error
				if person, err = s.svc.PersonID(ctx, caller.Tenant, caller.Subject); err != nil {
					return auth.Object{}, err
				}
			}
			return auth.Object{ProgramID: in.GetProgramId(), PersonIDs: []string{person}}, nil
		},
	}
}

// rule adapts a rule over one request type.
func rule[R any](fn func(R) (auth.Object, error)) auth.ObjectRule {
	return func(_ context.Context, req any) (auth.Object, error) { return fn(req.(R)) }
}

// programOrEveryone is the object of a listing filtered by program, or of
// every program's records when no program is given.
func programOrEveryone(programID string) auth.Object {
	if programID == "" {
		return auth.Everyone
	}
	return auth.Program(programID)
}

// participantRule reads the participant a request names: it belongs to its
// program and its person.
func participantRule[R any](s *Server, id func(R) string) auth.ObjectRule {
	return func(ctx context.Context, req any) (auth.Object, error) {
		tenant, err := auth.TenantFrom(ctx)
		if err != nil {
			return auth.Object{}, err
		}
		p, err := s.svc.GetParticipant(ctx, tenant, id(req.(R)))
		if err != nil {
			return auth.Object{}, err
		}
		return auth.Object{ProgramID: p.ProgramID, PersonIDs: []string{p.PersonID}}, nil
	}
}

// importRule reads the import a request names: it belongs to its program,
// or to the tenant when it fills the directory only.
func importRule[R any](s *Server, id func(R) string) auth.ObjectRule {
	return func(ctx context.Context, req any) (auth.Object, error) {
		tenant, err := auth.TenantFrom(ctx)
		if err != nil {
			return auth.Object{}, err
		}
		im, err := s.importer.Get(ctx, tenant, id(req.(R)))
		if err != nil {
			return auth.Object{}, err
		}
		return auth.Program(im.ProgramID), nil
	}
}
