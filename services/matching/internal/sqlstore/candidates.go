package sqlstore

import (
	"context"
	"fmt"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// CandidateVersion returns the program's newest scoring-config version (0
// for the defaults) and its projection epoch, in one round trip: it is on
// the path of every cached candidate look-up.
func (s *Store) CandidateVersion(ctx context.Context, tenant, programID string) (configVersion, epoch int64, err error) {
	var known bool
	err = s.db.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT MAX(version) FROM scoring_configs WHERE tenant_id = $1 AND program_id = $2), 0),
		COALESCE((SELECT epoch FROM program_epochs WHERE tenant_id = $1 AND program_id = $2), 0),
		EXISTS (SELECT 1 FROM programs WHERE tenant_id = $1 AND id = $2)`, tenant, programID).
		Scan(&configVersion, &epoch, &known)
	if err != nil {
		return 0, 0, fmt.Errorf("db: candidate version: %w", err)
	}
	if !known {
		return 0, 0, fmt.Errorf("program %s: %w", programID, apperr.ErrNotFound)
	}
	return configVersion, epoch, nil
}
