// Package namedservice serves several implementations of one gRPC service on one
// server, chosen per call by name. The mesh needs it for ProviderService: a process
// may serve the everything provider and one provider per federated upstream on the
// same port (and the same in-process channel), and the caller names the provider it
// means in the metadata key MetadataKey. A call without the key goes to the only
// implementation when there is one, so that callers that do not name providers (and
// providers served on their own) keep working.
package namedservice

import (
	"context"
	"reflect"
	"slices"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// MetadataKey carries the name of the implementation a call is for.
const MetadataKey = "mcpmesh-provider"

// Outgoing returns ctx with name in its outgoing metadata, for a call on a connection
// that may reach a Mux.
func Outgoing(ctx context.Context, name string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, MetadataKey, name)
}

// FromIncoming returns the name a call was made for, or "" when it names none.
func FromIncoming(ctx context.Context) string {
	if v := metadata.ValueFromIncomingContext(ctx, MetadataKey); len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// Mux routes the calls of one gRPC service to implementations registered by name.
// Implementations may come and go while the server runs. It is safe for concurrent use.
type Mux struct {
	desc *grpc.ServiceDesc

	mu    sync.RWMutex
	impls map[string]any
}

// New returns an empty Mux for the service desc describes.
func New(desc *grpc.ServiceDesc) *Mux {
	return &Mux{desc: desc, impls: map[string]any{}}
}

// Set serves impl (which must implement desc's handler type) under name, replacing
// an implementation of the same name.
func (m *Mux) Set(name string, impl any) {
	if want := reflect.TypeOf(m.desc.HandlerType).Elem(); !reflect.TypeOf(impl).Implements(want) {
		panic("namedservice: " + reflect.TypeOf(impl).String() + " does not implement " + want.String())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.impls[name] = impl
}

// Remove stops serving name; its later calls are answered NOT_FOUND.
func (m *Mux) Remove(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.impls, name)
}

// Names lists the names served, sorted.
func (m *Mux) Names() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	names := make([]string, 0, len(m.impls))
	for n := range m.impls {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// pick returns the implementation a call is for.
func (m *Mux) pick(ctx context.Context) (any, error) {
	name := FromIncoming(ctx)
	m.mu.RLock()
	defer m.mu.RUnlock()
	if name == "" {
		if len(m.impls) == 1 {
			for _, impl := range m.impls {
				return impl, nil
			}
		}
		return nil, status.Errorf(codes.FailedPrecondition, "%s: %d implementations are served here; name one in the %q metadata", m.desc.ServiceName, len(m.impls), MetadataKey)
	}
	impl, ok := m.impls[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "%s: %q is not served here", m.desc.ServiceName, name)
	}
	return impl, nil
}

// Desc returns a service description whose handlers route each call to the
// implementation it names; register it with the Mux itself as the implementation
// (kit/grpcserver.Server.Register(m.Desc(), m)).
func (m *Mux) Desc() *grpc.ServiceDesc {
	d := *m.desc
	// Every handler of the original checks the implementation's type; the Mux is
	// only a router, so it claims the empty interface.
	d.HandlerType = (*any)(nil)
	d.Methods = make([]grpc.MethodDesc, len(m.desc.Methods))
	for i, md := range m.desc.Methods {
		handler := md.Handler
		d.Methods[i] = grpc.MethodDesc{MethodName: md.MethodName, Handler: func(_ any, ctx context.Context, dec func(any) error, in grpc.UnaryServerInterceptor) (any, error) {
			impl, err := m.pick(ctx)
			if err != nil {
				return nil, err
			}
			return handler(impl, ctx, dec, in)
		}}
	}
	d.Streams = make([]grpc.StreamDesc, len(m.desc.Streams))
	for i, sd := range m.desc.Streams {
		handler := sd.Handler
		sd.Handler = func(_ any, stream grpc.ServerStream) error {
			impl, err := m.pick(stream.Context())
			if err != nil {
				return err
			}
			return handler(impl, stream)
		}
		d.Streams[i] = sd
	}
	return &d
}

// Conn returns a connection whose every call names name, for a caller that talks to
// one implementation through cc.
func Conn(cc grpc.ClientConnInterface, name string) grpc.ClientConnInterface {
	return namedConn{cc: cc, name: name}
}

type namedConn struct {
	cc   grpc.ClientConnInterface
	name string
}

func (c namedConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	return c.cc.Invoke(Outgoing(ctx, c.name), method, args, reply, opts...)
}

func (c namedConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.cc.NewStream(Outgoing(ctx, c.name), desc, method, opts...)
}
