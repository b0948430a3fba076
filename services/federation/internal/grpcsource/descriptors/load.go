package descriptors

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// FromReflection reads the descriptors of the allowed services over conn by server
// reflection and selects the allowed methods. ctx bounds the whole conversation: a
// server that accepts the stream and never answers costs at most its deadline.
func FromReflection(ctx context.Context, conn grpc.ClientConnInterface, sel Selection) (*Set, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream on every path
	r, available, err := openReflection(ctx, conn, sel.MaxBytes)
	if err != nil {
		return nil, describeRefusal(err)
	}
	defer func() { _ = r.stream.CloseSend() }()
	for _, name := range sel.Services {
		if !slices.Contains(available, name) {
			continue // build reports it with the list of what is served
		}
		if err := r.fileContainingSymbol(name); err != nil {
			return nil, describeRefusal(err)
		}
	}
	if err := r.completeDependencies(); err != nil {
		return nil, describeRefusal(err)
	}
	return build(r.files, available, sel, "reflection "+r.version)
}

// describeRefusal makes the usual refusals actionable.
func describeRefusal(err error) error {
	switch status.Code(err) {
	case codes.PermissionDenied, codes.Unauthenticated:
		return fmt.Errorf("the server refused reflection (%w); allow the mesh to use it or configure descriptor_set_file", err)
	case codes.Unavailable:
		return fmt.Errorf("the server is unavailable: %w", err)
	case codes.ResourceExhausted:
		return fmt.Errorf("%w: a reflection answer is larger than max_descriptor_bytes (%w)", ErrTooLarge, err)
	case codes.DeadlineExceeded:
		return fmt.Errorf("the server did not answer reflection in time: %w", err)
	}
	return err
}
