package grpcapi

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/fieldmask"
	"github.com/tandem-oss/tandem/services/participant/internal/participant"
	"github.com/tandem-oss/tandem/services/participant/internal/pbconv"
)

// UpsertPerson creates or updates a person by HRIS id.
func (s *Server) UpsertPerson(ctx context.Context, req *participantv1.UpsertPersonRequest) (*participantv1.Person, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	in := pbconv.PersonFromPB(req.GetPerson())
	in.ID, in.Erased = "", false
	p, _, err := s.svc.UpsertPerson(ctx, tenant, in)
	if err != nil {
		return nil, err
	}
	return pbconv.Person(p), nil
}

// GetReportingChain returns a person's managers.
func (s *Server) GetReportingChain(ctx context.Context, req *participantv1.GetReportingChainRequest) (*participantv1.ReportingChain, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	chain, err := s.svc.ReportingChain(ctx, tenant, req.GetId(), int(req.GetMaxDepth()))
	if err != nil {
		return nil, err
	}
	return &participantv1.ReportingChain{PersonId: req.GetId(), ManagerIds: chain}, nil
}

// ExportPerson returns everything held about a person (audited).
func (s *Server) ExportPerson(ctx context.Context, req *participantv1.ExportPersonRequest) (*participantv1.PersonExport, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	caller, _ := auth.FromContext(ctx)
	p, parts, at, err := s.svc.ExportPerson(ctx, tenant, caller.Subject, req.GetId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	out := &participantv1.PersonExport{Person: pbconv.Person(p), ExportTime: timestamppb.New(at)}
	for _, part := range parts {
		out.Participations = append(out.Participations, pbconv.Participant(part))
	}
	return out, nil
}

// ErasePerson removes a person's personal data (audited).
func (s *Server) ErasePerson(ctx context.Context, req *participantv1.ErasePersonRequest) (*participantv1.ErasePersonResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	caller, _ := auth.FromContext(ctx)
	e, err := s.svc.ErasePerson(ctx, tenant, caller.Subject, req.GetId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &participantv1.ErasePersonResponse{PersonId: e.PersonID, ParticipationsAnonymised: int32(e.ParticipationsAnonymised),
		EraseTime: timestamppb.New(e.Time)}, nil
}

// CreateSkill adds a skill to the catalogue.
func (s *Server) CreateSkill(ctx context.Context, req *participantv1.CreateSkillRequest) (*participantv1.Skill, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	sk, err := s.svc.CreateSkill(ctx, tenant, pbconv.SkillFromPB(req.GetSkill()))
	if err != nil {
		return nil, err
	}
	return pbconv.Skill(sk), nil
}

// UpdateSkill changes the masked fields of a skill.
func (s *Server) UpdateSkill(ctx context.Context, req *participantv1.UpdateSkillRequest) (*participantv1.Skill, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	sk, err := s.svc.UpdateSkill(ctx, tenant, req.GetSkill().GetId(), func(sk *participant.Skill) error {
		pb := pbconv.Skill(*sk)
		if err := fieldmask.Apply(pb, req.GetSkill(), req.GetUpdateMask(), "skill", []string{"id", "create_time", "update_time"}, nil); err != nil {
			return err
		}
		*sk = pbconv.SkillFromPB(pb)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pbconv.Skill(sk), nil
}

// ListSkills returns one page of the catalogue.
func (s *Server) ListSkills(ctx context.Context, req *participantv1.ListSkillsRequest) (*participantv1.ListSkillsResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	filter := filterKey(tenant, &participantv1.ListSkillsRequest{Category: req.GetCategory()})
	after, err := s.tokens.Decode(req.GetPageToken(), filter)
	if err != nil {
		return nil, err
	}
	page := participant.Page{Size: int(req.GetPageSize()), After: after}
	skills, err := s.svc.ListSkills(ctx, tenant, participant.SkillFilter{Category: req.GetCategory()}, page)
	if err != nil {
		return nil, err
	}
	resp := &participantv1.ListSkillsResponse{}
	for _, sk := range skills {
		resp.Skills = append(resp.Skills, pbconv.Skill(sk))
	}
	if len(skills) > 0 && len(skills) == page.Clamped().Size {
		resp.NextPageToken = s.tokens.Encode(skills[len(skills)-1].ID, filter)
	}
	return resp, nil
}
