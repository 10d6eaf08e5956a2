package gatewaysvc

import (
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/services/evaluation/evaluationsvc"
	"github.com/tandem-oss/tandem/services/matching/matchingsvc"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
	"github.com/tandem-oss/tandem/services/scheduling/schedulingsvc"
)

// Policy is the role policy of every public RPC, enforced at the edge; each
// backend enforces its own part again.
var Policy = auth.Merge(participantsvc.Policy, matchingsvc.Policy, schedulingsvc.Policy, evaluationsvc.Policy)
