// Package virtualserver carries the name of the virtual server a request came through
// (its /mcp/<name> or /v1/servers/<name>/ path at the gateway) to the session service,
// which shows and allows only that virtual server's selection. Like the principal, it
// is a context value in process and the gRPC metadata entry MetadataKey between
// processes, written by kit/dial on connections to the mesh's own services only. The
// gateway sets it from the path alone: its REST API forwards no client header as
// metadata (see the gateway's forwardedHeader).
package virtualserver

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/metadata"
)

// MetadataKey is the gRPC metadata entry that carries the name between services.
const MetadataKey = "mcpmesh-virtual-server"

// ErrMalformed is the error of a metadata entry that is not one valid name.
var ErrMalformed = errors.New("malformed virtual server in metadata")

type contextKey struct{}

// NewContext returns ctx for a request through the virtual server name; an empty name
// is the whole mesh (/mcp) and leaves ctx as it is.
func NewContext(ctx context.Context, name string) context.Context {
	if name == "" {
		return ctx
	}
	return context.WithValue(ctx, contextKey{}, name)
}

// FromContext is the virtual server of ctx; "" for the whole mesh.
func FromContext(ctx context.Context) string {
	name, _ := ctx.Value(contextKey{}).(string)
	return name
}

// AppendToOutgoing adds the virtual server of ctx to its outgoing gRPC metadata, for a
// call to another process; without one ctx is returned unchanged.
func AppendToOutgoing(ctx context.Context) context.Context {
	name := FromContext(ctx)
	if name == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, MetadataKey, name)
}

// FromIncoming returns ctx carrying the virtual server found in its incoming gRPC
// metadata. A context that already carries one (an in-process call) is returned as it
// is; so is one without the entry. More than one entry, or a name that could not
// have been configured, is ErrMalformed.
func FromIncoming(ctx context.Context) (context.Context, error) {
	if FromContext(ctx) != "" {
		return ctx, nil
	}
	vals := metadata.ValueFromIncomingContext(ctx, MetadataKey)
	switch len(vals) {
	case 0:
		return ctx, nil
	case 1:
	default:
		return ctx, fmt.Errorf("%w: %d entries", ErrMalformed, len(vals))
	}
	if err := CheckName(vals[0]); err != nil {
		return ctx, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return context.WithValue(ctx, contextKey{}, vals[0]), nil
}

// MaxNameLength bounds a name: it is one path segment and a metric-free label.
const MaxNameLength = 64

// CheckName reports why name cannot name a virtual server: it is one path segment of
// lower-case letters, digits, '-' and '_', starting with a letter or digit, so that it
// needs no escaping in a URL, a header or a log line.
func CheckName(name string) error {
	if name == "" {
		return errors.New("name is empty")
	}
	if len(name) > MaxNameLength {
		return fmt.Errorf("name %q is longer than %d characters", name, MaxNameLength)
	}
	for i, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return fmt.Errorf("name %q may hold only lower-case letters, digits, '-' and '_', and must start with a letter or digit", name)
		}
	}
	return nil
}
