// Package apperr defines the kinds of failure every Tandem service reports.
// Domain packages wrap these sentinels (fmt.Errorf("program %s: %w", id,
// apperr.ErrNotFound)); the gRPC server maps the kind to a status code with
// errors.Is, so no service repeats the mapping and no internal error text
// leaks to callers.
package apperr

import (
	"errors"
	"strings"
)

// Kinds of failure. The message of an error wrapping one of these is shown to
// the caller, so it must name only the caller's own input.
var (
	ErrInvalid            = errors.New("invalid argument")
	ErrNotFound           = errors.New("not found")
	ErrAlreadyExists      = errors.New("already exists")
	ErrFailedPrecondition = errors.New("failed precondition")
	ErrAborted            = errors.New("aborted")
	ErrPermissionDenied   = errors.New("permission denied")
	ErrUnauthenticated    = errors.New("unauthenticated")
	ErrResourceExhausted  = errors.New("resource exhausted")
	ErrUnavailable        = errors.New("unavailable")
)

// FieldViolation says why one field of a request is invalid. Field is the
// path in the request, for example "program.display_name".
type FieldViolation struct {
	Field  string
	Reason string
}

// InvalidError reports bad input, one violation per field. It matches
// ErrInvalid with errors.Is.
type InvalidError struct {
	Violations []FieldViolation
}

// Invalid returns an InvalidError for one field.
func Invalid(field, reason string) error {
	return &InvalidError{Violations: []FieldViolation{{Field: field, Reason: reason}}}
}

// Error lists every violation as "field: reason".
func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Field + ": " + v.Reason
	}
	return "invalid argument: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Violations accumulates field violations and returns them as one error.
type Violations []FieldViolation

// Add records a violation of field.
func (v *Violations) Add(field, reason string) {
	*v = append(*v, FieldViolation{Field: field, Reason: reason})
}

// Err returns nil when nothing was added, else an *InvalidError.
func (v Violations) Err() error {
	if len(v) == 0 {
		return nil
	}
	return &InvalidError{Violations: v}
}
