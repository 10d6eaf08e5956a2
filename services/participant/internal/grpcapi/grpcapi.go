// Package grpcapi serves tandem.participant.v1.ParticipantService over gRPC
// on top of the participant domain.
package grpcapi

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/fieldmask"
	"github.com/tandem-oss/tandem/pkg/pagetoken"
	"github.com/tandem-oss/tandem/services/participant/internal/participant"
	"github.com/tandem-oss/tandem/services/participant/internal/pbconv"
)

const svc = "/tandem.participant.v1.ParticipantService/"

var (
	admins   = []string{auth.RoleTenantAdmin}
	managers = []string{auth.RoleTenantAdmin, auth.RoleProgramManager}
	everyone = []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleAnalyst, auth.RoleParticipant, auth.RoleService}
	readers  = []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleService}
)

// Policy says which roles may call each RPC; Objects adds what each call
// may act on. Participants and analysts read only the tenant, programs and
// skills here.
var Policy = auth.Policy{
	svc + "GetTenant":         everyone,
	svc + "UpdateTenant":      admins,
	svc + "CreatePerson":      managers,
	svc + "GetPerson":         readers,
	svc + "UpdatePerson":      managers,
	svc + "ListPeople":        readers,
	svc + "CreateProgram":     managers,
	svc + "GetProgram":        everyone,
	svc + "UpdateProgram":     managers,
	svc + "ListPrograms":      everyone,
	svc + "TransitionProgram": managers,
	// Participants enrol themselves (checked in the handler).
	svc + "EnrollParticipant":    append(managers, auth.RoleParticipant),
	svc + "GetParticipant":       readers,
	svc + "UpdateParticipant":    managers,
	svc + "ListParticipants":     readers,
	svc + "WithdrawParticipant":  managers,
	svc + "UpsertPerson":         managers,
	svc + "GetReportingChain":    readers,
	svc + "ExportPerson":         admins,
	svc + "ErasePerson":          admins,
	svc + "CreateSkill":          managers,
	svc + "UpdateSkill":          managers,
	svc + "ListSkills":           everyone,
	svc + "CreateImport":         managers,
	svc + "GetImport":            managers,
	svc + "ListImportRejections": managers,
}

var outputOnly = []string{"id", "state", "create_time", "update_time"}

// Server implements participantv1.ParticipantServiceServer.
type Server struct {
	participantv1.UnimplementedParticipantServiceServer
	svc      *participant.Service
	importer *participant.Importer
	tokens   *pagetoken.Codec
}

// New returns a Server over the domain service and importer; tokens signs
// page tokens.
func New(svc *participant.Service, importer *participant.Importer, tokens *pagetoken.Codec) *Server {
	return &Server{svc: svc, importer: importer, tokens: tokens}
}

// GetTenant returns the caller's tenant.
func (s *Server) GetTenant(ctx context.Context, _ *participantv1.GetTenantRequest) (*participantv1.Tenant, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.svc.GetTenant(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return pbconv.Tenant(t), nil
}

// UpdateTenant changes the caller's tenant settings.
func (s *Server) UpdateTenant(ctx context.Context, req *participantv1.UpdateTenantRequest) (*participantv1.Tenant, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.svc.UpdateTenant(ctx, tenant, func(t *participant.Tenant) error {
		pb := pbconv.Tenant(*t)
		if err := fieldmask.Apply(pb, req.GetTenant(), req.GetUpdateMask(), "tenant", []string{"id", "create_time", "update_time"}, nil); err != nil {
			return err
		}
		*t = pbconv.TenantFromPB(pb)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pbconv.Tenant(t), nil
}

// CreatePerson adds a person to the directory.
func (s *Server) CreatePerson(ctx context.Context, req *participantv1.CreatePersonRequest) (*participantv1.Person, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.CreatePerson(ctx, tenant, pbconv.PersonFromPB(req.GetPerson()))
	if err != nil {
		return nil, err
	}
	return pbconv.Person(p), nil
}

// GetPerson returns one person.
func (s *Server) GetPerson(ctx context.Context, req *participantv1.GetPersonRequest) (*participantv1.Person, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.GetPerson(ctx, tenant, req.GetId())
	if err != nil {
		return nil, err
	}
	return pbconv.Person(p), nil
}

// UpdatePerson changes the masked fields of a person.
func (s *Server) UpdatePerson(ctx context.Context, req *participantv1.UpdatePersonRequest) (*participantv1.Person, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.UpdatePerson(ctx, tenant, req.GetPerson().GetId(), func(p *participant.Person) error {
		pb := pbconv.Person(*p)
		if err := fieldmask.Apply(pb, req.GetPerson(), req.GetUpdateMask(), "person", personOutputOnly, nil); err != nil {
			return err
		}
		*p = pbconv.PersonFromPB(pb)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pbconv.Person(p), nil
}

var personOutputOnly = []string{"id", "create_time", "update_time", "erased"}

// ListPeople returns one page of people.
func (s *Server) ListPeople(ctx context.Context, req *participantv1.ListPeopleRequest) (*participantv1.ListPeopleResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	filter := filterKey(tenant, &participantv1.ListPeopleRequest{Department: req.GetDepartment()})
	after, err := s.tokens.Decode(req.GetPageToken(), filter)
	if err != nil {
		return nil, err
	}
	page := participant.Page{Size: int(req.GetPageSize()), After: after}
	people, err := s.svc.ListPeople(ctx, tenant, participant.PersonFilter{Department: req.GetDepartment()}, page)
	if err != nil {
		return nil, err
	}
	resp := &participantv1.ListPeopleResponse{}
	for _, p := range people {
		resp.People = append(resp.People, pbconv.Person(p))
	}
	if len(people) > 0 && len(people) == page.Clamped().Size {
		resp.NextPageToken = s.tokens.Encode(people[len(people)-1].ID, filter)
	}
	return resp, nil
}

// CreateProgram defines a program in state DRAFT.
func (s *Server) CreateProgram(ctx context.Context, req *participantv1.CreateProgramRequest) (*participantv1.Program, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	in := pbconv.ProgramFromPB(req.GetProgram())
	// The creator manages the program, with whoever else the request names.
	if caller, _ := auth.FromContext(ctx); !slices.Contains(in.ManagerSubjects, caller.Subject) {
		in.ManagerSubjects = append([]string{caller.Subject}, in.ManagerSubjects...)
	}
	p, err := s.svc.CreateProgram(ctx, tenant, in)
	if err != nil {
		return nil, err
	}
	return pbconv.Program(p), nil
}

// GetProgram returns one program.
func (s *Server) GetProgram(ctx context.Context, req *participantv1.GetProgramRequest) (*participantv1.Program, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.GetProgram(ctx, tenant, req.GetId())
	if err != nil {
		return nil, err
	}
	return pbconv.Program(p), nil
}

// UpdateProgram changes the masked fields of a program.
func (s *Server) UpdateProgram(ctx context.Context, req *participantv1.UpdateProgramRequest) (*participantv1.Program, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.UpdateProgram(ctx, tenant, req.GetProgram().GetId(), func(p *participant.Program) error {
		pb := pbconv.Program(*p)
		if err := fieldmask.Apply(pb, req.GetProgram(), req.GetUpdateMask(), "program", outputOnly, []string{"type"}); err != nil {
			return err
		}
		before := p.ManagerSubjects
		*p = pbconv.ProgramFromPB(pb)
		if caller, _ := auth.FromContext(ctx); !slices.Equal(before, p.ManagerSubjects) && !caller.HasRole(auth.RoleTenantAdmin) {
			return fmt.Errorf("only a tenant admin may change a program's manager_subjects: %w", apperr.ErrPermissionDenied)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pbconv.Program(p), nil
}

// ListPrograms returns one page of programs.
func (s *Server) ListPrograms(ctx context.Context, req *participantv1.ListProgramsRequest) (*participantv1.ListProgramsResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	filter := filterKey(tenant, &participantv1.ListProgramsRequest{State: req.GetState()})
	after, err := s.tokens.Decode(req.GetPageToken(), filter)
	if err != nil {
		return nil, err
	}
	page := participant.Page{Size: int(req.GetPageSize()), After: after}
	programs, err := s.svc.ListPrograms(ctx, tenant, participant.ProgramFilter{State: pbconv.ProgramState(req.GetState())}, page)
	if err != nil {
		return nil, err
	}
	resp := &participantv1.ListProgramsResponse{}
	for _, p := range programs {
		resp.Programs = append(resp.Programs, pbconv.Program(p))
	}
	if len(programs) > 0 && len(programs) == page.Clamped().Size {
		resp.NextPageToken = s.tokens.Encode(programs[len(programs)-1].ID, filter)
	}
	return resp, nil
}

// TransitionProgram moves a program along its lifecycle.
func (s *Server) TransitionProgram(ctx context.Context, req *participantv1.TransitionProgramRequest) (*participantv1.Program, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.TransitionProgram(ctx, tenant, req.GetId(), pbconv.ProgramState(req.GetState()), req.GetReason())
	if err != nil {
		return nil, err
	}
	return pbconv.Program(p), nil
}

// EnrollParticipant enrols a person in a program.
func (s *Server) EnrollParticipant(ctx context.Context, req *participantv1.EnrollParticipantRequest) (*participantv1.Participant, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	in := pbconv.ParticipantFromPB(req.GetParticipant())
	caller, _ := auth.FromContext(ctx)
	var p participant.Participant
	if caller.HasRole(managers...) {
		p, err = s.svc.Enroll(ctx, tenant, in)
	} else {
		p, err = s.svc.SelfEnroll(ctx, tenant, caller.Subject, in)
	}
	if err != nil {
		return nil, err
	}
	return pbconv.Participant(p), nil
}

// GetParticipant returns one participant.
func (s *Server) GetParticipant(ctx context.Context, req *participantv1.GetParticipantRequest) (*participantv1.Participant, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.GetParticipant(ctx, tenant, req.GetId())
	if err != nil {
		return nil, err
	}
	return pbconv.Participant(p), nil
}

// UpdateParticipant changes the masked fields of a participant's profile.
func (s *Server) UpdateParticipant(ctx context.Context, req *participantv1.UpdateParticipantRequest) (*participantv1.Participant, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.UpdateParticipant(ctx, tenant, req.GetParticipant().GetId(), func(p *participant.Participant) error {
		pb := pbconv.Participant(*p)
		if err := fieldmask.Apply(pb, req.GetParticipant(), req.GetUpdateMask(), "participant", outputOnly, []string{"program_id", "person_id", "role"}); err != nil {
			return err
		}
		*p = pbconv.ParticipantFromPB(pb)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pbconv.Participant(p), nil
}

// ListParticipants returns one page of a program's participants.
func (s *Server) ListParticipants(ctx context.Context, req *participantv1.ListParticipantsRequest) (*participantv1.ListParticipantsResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	filter := filterKey(tenant, &participantv1.ListParticipantsRequest{ProgramId: req.GetProgramId(), Role: req.GetRole(), State: req.GetState(), Department: req.GetDepartment()})
	after, err := s.tokens.Decode(req.GetPageToken(), filter)
	if err != nil {
		return nil, err
	}
	page := participant.Page{Size: int(req.GetPageSize()), After: after}
	f := participant.ParticipantFilter{ProgramID: req.GetProgramId(), Role: pbconv.Role(req.GetRole()),
		State: pbconv.ParticipantState(req.GetState()), Department: req.GetDepartment()}
	list, err := s.svc.ListParticipants(ctx, tenant, f, page)
	if err != nil {
		return nil, err
	}
	resp := &participantv1.ListParticipantsResponse{}
	for _, p := range list {
		resp.Participants = append(resp.Participants, pbconv.Participant(p))
	}
	if len(list) > 0 && len(list) == page.Clamped().Size {
		resp.NextPageToken = s.tokens.Encode(list[len(list)-1].ID, filter)
	}
	return resp, nil
}

// WithdrawParticipant takes a participant out of its program.
func (s *Server) WithdrawParticipant(ctx context.Context, req *participantv1.WithdrawParticipantRequest) (*participantv1.Participant, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.Withdraw(ctx, tenant, req.GetId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return pbconv.Participant(p), nil
}

// filterKey binds a page token to the tenant and the listing's filter.
func filterKey(tenant string, filter proto.Message) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(filter)
	return fmt.Sprintf("%s/%T/%x", tenant, filter, b)
}
