package pbconv

import (
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/services/participant/internal/participant"
)

var importStatesPB = map[participant.ImportState]participantv1.ImportState{
	participant.ImportRunning:   participantv1.ImportState_IMPORT_STATE_RUNNING,
	participant.ImportSucceeded: participantv1.ImportState_IMPORT_STATE_SUCCEEDED,
	participant.ImportFailed:    participantv1.ImportState_IMPORT_STATE_FAILED,
}

// Import converts a domain import with its progress.
func Import(im participant.Import) *participantv1.Import {
	return &participantv1.Import{
		Id:              im.ID,
		ProgramId:       im.ProgramID,
		State:           importStatesPB[im.State],
		TotalRows:       int32(im.TotalRows),
		ProcessedRows:   int32(im.ProcessedRows),
		ProgressPercent: int32(im.ProgressPercent()),
		CreatedRows:     int32(im.CreatedRows),
		UpdatedRows:     int32(im.UpdatedRows),
		UnchangedRows:   int32(im.UnchangedRows),
		RejectedRows:    int32(im.RejectedRows),
		Error:           im.Error,
		CreateTime:      ts(im.CreateTime),
		FinishTime:      ts(im.FinishTime),
	}
}

// ImportRejection converts one rejected row's reason.
func ImportRejection(r participant.Rejection) *participantv1.ImportRejection {
	return &participantv1.ImportRejection{Row: int32(r.Row), Field: r.Field, Reason: r.Reason}
}
