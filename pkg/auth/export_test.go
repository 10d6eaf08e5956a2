package auth

import "time"

// SetClock makes v read time from now (tests only).
func (v *Verifier) SetClock(now func() time.Time) { v.now = now }
