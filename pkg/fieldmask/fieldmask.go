// Package fieldmask applies AIP-134 update masks to top-level fields of a
// resource message.
package fieldmask

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// Apply copies the fields named in mask from src to dst; a field unset in
// src is cleared in dst. An empty mask means every field except outputOnly
// ones. A path naming an output-only, immutable or unknown field is an
// InvalidArgument error on "update_mask". resource prefixes field names in
// errors (for example "program").
func Apply(dst, src proto.Message, mask *fieldmaskpb.FieldMask, resource string, outputOnly, immutable []string) error {
	fields := dst.ProtoReflect().Descriptor().Fields()
	paths := mask.GetPaths()
	if len(paths) == 0 {
		for i := range fields.Len() {
			name := string(fields.Get(i).Name())
			if !slices.Contains(outputOnly, name) && !slices.Contains(immutable, name) {
				paths = append(paths, name)
			}
		}
	}
	var vs apperr.Violations
	for _, p := range paths {
		fd := fields.ByName(protoName(p))
		switch {
		case fd == nil:
			vs.Add("update_mask", fmt.Sprintf("%s has no field %q", resource, p))
		case slices.Contains(outputOnly, string(fd.Name())):
			vs.Add("update_mask", fmt.Sprintf("%s.%s is output only", resource, fd.Name()))
		case slices.Contains(immutable, string(fd.Name())):
			vs.Add("update_mask", fmt.Sprintf("%s.%s cannot change after creation", resource, fd.Name()))
		}
	}
	if err := vs.Err(); err != nil {
		return err
	}
	d, s := dst.ProtoReflect(), src.ProtoReflect()
	for _, p := range paths {
		fd := fields.ByName(protoName(p))
		if s.Has(fd) {
			d.Set(fd, s.Get(fd))
		} else {
			d.Clear(fd)
		}
	}
	return nil
}

// protoName accepts a path as a proto name (display_name) or JSON name
// (displayName).
func protoName(path string) protoreflect.Name {
	out := make([]byte, 0, len(path)+4)
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c >= 'A' && c <= 'Z' {
			out = append(out, '_', c+'a'-'A')
			continue
		}
		out = append(out, c)
	}
	return protoreflect.Name(out)
}
