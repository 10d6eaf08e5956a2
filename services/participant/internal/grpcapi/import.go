package grpcapi

import (
	"context"
	"fmt"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/services/participant/internal/participant"
	"github.com/tandem-oss/tandem/services/participant/internal/pbconv"
)

// CreateImport starts a bulk import and returns it RUNNING.
func (s *Server) CreateImport(ctx context.Context, req *participantv1.CreateImportRequest) (*participantv1.Import, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	im, err := s.importer.Create(ctx, tenant, participant.ImportRequest{
		CSV:           req.GetCsv(),
		ColumnMapping: req.GetColumnMapping(),
		ProgramID:     req.GetProgramId(),
		DefaultRole:   pbconv.Role(req.GetDefaultRole()),
		Delimiter:     req.GetDelimiter(),
	})
	if err != nil {
		return nil, err
	}
	return pbconv.Import(im), nil
}

// GetImport returns an import with its progress.
func (s *Server) GetImport(ctx context.Context, req *participantv1.GetImportRequest) (*participantv1.Import, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	im, err := s.importer.Get(ctx, tenant, req.GetId())
	if err != nil {
		return nil, err
	}
	return pbconv.Import(im), nil
}

// ListImportRejections returns one page of an import's rejections in row
// order.
func (s *Server) ListImportRejections(ctx context.Context, req *participantv1.ListImportRejectionsRequest) (*participantv1.ListImportRejectionsResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	filter := filterKey(tenant, &participantv1.ListImportRejectionsRequest{ImportId: req.GetImportId()})
	token, err := s.tokens.Decode(req.GetPageToken(), filter)
	if err != nil {
		return nil, err
	}
	var after participant.RejectionCursor
	if token != "" {
		if _, err := fmt.Sscanf(token, "%d.%d", &after.Row, &after.Seq); err != nil {
			return nil, apperr.Invalid("page_token", "not a page token issued for this listing")
		}
	}
	page := participant.Page{Size: int(req.GetPageSize())}
	list, err := s.importer.ListRejections(ctx, tenant, req.GetImportId(), after, page.Clamped().Size)
	if err != nil {
		return nil, err
	}
	resp := &participantv1.ListImportRejectionsResponse{}
	for _, r := range list {
		resp.Rejections = append(resp.Rejections, pbconv.ImportRejection(r))
	}
	if len(list) > 0 && len(list) == page.Clamped().Size {
		last := list[len(list)-1]
		resp.NextPageToken = s.tokens.Encode(fmt.Sprintf("%d.%d", last.Row, last.Seq), filter)
	}
	return resp, nil
}
