package participant

import "context"

// ImportStore keeps import jobs and applies imported rows.
type ImportStore interface{}

// Importer runs bulk imports of HRIS exports as background jobs.
type Importer struct {
	svc   *Service
	store ImportStore
}

// NewImporter returns an Importer applying rows through store.
func NewImporter(svc *Service, store ImportStore) *Importer {
	return &Importer{svc: svc, store: store}
}

// Run processes imports until ctx is done.
func (im *Importer) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}
