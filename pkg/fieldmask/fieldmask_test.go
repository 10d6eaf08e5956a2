package fieldmask_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/apipb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/fieldmask"
)

// apipb.Method is a convenient well-known message with plain fields.
func TestApply(t *testing.T) {
	current := func() *apipb.Method {
		return &apipb.Method{Name: "Get", RequestTypeUrl: "req", ResponseTypeUrl: "resp", RequestStreaming: true}
	}
	patch := &apipb.Method{Name: "List", RequestTypeUrl: "other"}
	cases := []struct {
		name  string
		paths []string
		want  *apipb.Method
		err   bool
	}{
		{"one field", []string{"name"}, &apipb.Method{Name: "List", RequestTypeUrl: "req", ResponseTypeUrl: "resp", RequestStreaming: true}, false},
		{"json name", []string{"requestTypeUrl"}, &apipb.Method{Name: "Get", RequestTypeUrl: "other", ResponseTypeUrl: "resp", RequestStreaming: true}, false},
		{"unset field clears", []string{"response_type_url"}, &apipb.Method{Name: "Get", RequestTypeUrl: "req", RequestStreaming: true}, false},
		{"empty mask: all but output-only and immutable", nil, &apipb.Method{Name: "Get", RequestTypeUrl: "other"}, false},
		{"output only", []string{"syntax"}, nil, true},
		{"immutable", []string{"name"}, nil, true},
		{"unknown", []string{"nope"}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := current()
			immutable := []string{}
			if tc.name == "immutable" || tc.paths == nil {
				immutable = []string{"name"}
			}
			err := fieldmask.Apply(got, patch, &fieldmaskpb.FieldMask{Paths: tc.paths}, "method", []string{"syntax", "options"}, immutable)
			if tc.err {
				require.ErrorIs(t, err, apperr.ErrInvalid)
				if diff := cmp.Diff(current(), got, protocmp.Transform()); diff != "" {
					t.Errorf("a refused mask changed the message (-want +got):\n%s", diff)
				}
				return
			}
			require.NoError(t, err)
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
