// Package shoptest serves the test shop (testdata/proto/acme/shop/v1/shop.proto) over
// real gRPC for the tests of the gRPC source. Its messages are dynamic: the descriptors
// come from shop.binpb, which make generate builds with buf, comments included.
package shoptest

import (
	"context"
	_ "embed"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

//go:embed shop.binpb
var descriptorSet []byte

// Service names of the shop.
const (
	ShopService  = "acme.shop.v1.ShopService"
	AdminService = "acme.shop.v1.AdminService"
)

// Reflection says which reflection the server offers.
type Reflection int

const (
	// ReflectionV1 registers v1 and v1alpha, as reflection.Register does.
	ReflectionV1 Reflection = iota
	// ReflectionV1Alpha registers only v1alpha, as older servers do.
	ReflectionV1Alpha
	// ReflectionNone registers no reflection service.
	ReflectionNone
	// ReflectionRefused registers both, answering PermissionDenied.
	ReflectionRefused
	// ReflectionSilent registers v1, which accepts the stream and never answers.
	ReflectionSilent
)

// Files returns the shop's descriptors.
func Files(t testing.TB) *protoregistry.Files {
	t.Helper()
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(descriptorSet, set); err != nil {
		t.Fatalf("shop.binpb: %v", err)
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		t.Fatalf("shop.binpb: %v", err)
	}
	return files
}

// DescriptorSetFile writes the descriptor set to a temporary file and returns its path.
func DescriptorSetFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shop.binpb")
	if err := os.WriteFile(path, descriptorSet, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Start serves the shop on 127.0.0.1 port 0 and returns its address; the server
// stops when the test ends.
func Start(t testing.TB, r Reflection, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	Register(t, srv, r)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// Register adds the shop's services and the chosen reflection to srv.
func Register(t testing.TB, srv *grpc.Server, r Reflection) {
	t.Helper()
	files := Files(t)
	s := &shop{files: files, types: dynamicpb.NewTypes(files)}
	srv.RegisterService(s.serviceDesc(t, ShopService), nil)
	srv.RegisterService(s.serviceDesc(t, AdminService), nil)
	ropts := reflection.ServerOptions{Services: srv, DescriptorResolver: files}
	switch r {
	case ReflectionV1:
		reflectionv1.RegisterServerReflectionServer(srv, reflection.NewServerV1(ropts))
		reflectionv1alpha.RegisterServerReflectionServer(srv, reflection.NewServer(ropts))
	case ReflectionV1Alpha:
		reflectionv1alpha.RegisterServerReflectionServer(srv, reflection.NewServer(ropts))
	case ReflectionRefused:
		reflectionv1.RegisterServerReflectionServer(srv, refusingV1{})
		reflectionv1alpha.RegisterServerReflectionServer(srv, refusingV1Alpha{})
	case ReflectionSilent:
		reflectionv1.RegisterServerReflectionServer(srv, silentV1{})
	case ReflectionNone:
	}
}

type refusingV1 struct {
	reflectionv1.UnimplementedServerReflectionServer
}

func (refusingV1) ServerReflectionInfo(reflectionv1.ServerReflection_ServerReflectionInfoServer) error {
	return status.Error(codes.PermissionDenied, "reflection is not for you")
}

type refusingV1Alpha struct {
	reflectionv1alpha.UnimplementedServerReflectionServer
}

func (refusingV1Alpha) ServerReflectionInfo(reflectionv1alpha.ServerReflection_ServerReflectionInfoServer) error {
	return status.Error(codes.PermissionDenied, "reflection is not for you")
}

type silentV1 struct {
	reflectionv1.UnimplementedServerReflectionServer
}

func (silentV1) ServerReflectionInfo(stream reflectionv1.ServerReflection_ServerReflectionInfoServer) error {
	<-stream.Context().Done()
	return stream.Context().Err()
}

// shop answers with dynamic messages.
type shop struct {
	files *protoregistry.Files
	types *dynamicpb.Types
}

func (s *shop) serviceDesc(t testing.TB, name string) *grpc.ServiceDesc {
	t.Helper()
	d, err := s.files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		t.Fatal(err)
	}
	sd := d.(protoreflect.ServiceDescriptor)
	desc := &grpc.ServiceDesc{ServiceName: name, HandlerType: (*any)(nil), Metadata: sd.ParentFile().Path()}
	for i := range sd.Methods().Len() {
		m := sd.Methods().Get(i)
		switch {
		case m.IsStreamingClient():
			desc.Streams = append(desc.Streams, grpc.StreamDesc{StreamName: string(m.Name()), ClientStreams: true, ServerStreams: m.IsStreamingServer(),
				Handler: func(_ any, stream grpc.ServerStream) error { return s.drain(m, stream) }})
		case m.IsStreamingServer():
			desc.Streams = append(desc.Streams, grpc.StreamDesc{StreamName: string(m.Name()), ServerStreams: true,
				Handler: func(_ any, stream grpc.ServerStream) error { return s.stream(m, stream) }})
		default:
			desc.Methods = append(desc.Methods, grpc.MethodDesc{MethodName: string(m.Name()),
				Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
					in := dynamicpb.NewMessage(m.Input())
					if err := dec(in); err != nil {
						return nil, err
					}
					return s.unary(ctx, m, in)
				}})
		}
	}
	return desc
}

// message builds a message of the named type from protojson.
func (s *shop) message(m protoreflect.MessageDescriptor, js string) (proto.Message, error) {
	out := dynamicpb.NewMessage(m)
	if err := (protojson.UnmarshalOptions{Resolver: s.types}).Unmarshal([]byte(js), out); err != nil {
		return nil, status.Errorf(codes.Internal, "build %s: %v", m.FullName(), err)
	}
	return out, nil
}

func (s *shop) unary(ctx context.Context, m protoreflect.MethodDescriptor, in *dynamicpb.Message) (proto.Message, error) {
	field := func(name string) protoreflect.Value {
		return in.Get(m.Input().Fields().ByName(protoreflect.Name(name)))
	}
	switch m.Name() {
	case "EchoOrder", "Walk":
		return in, nil
	case "GetOrder":
		id := field("id").String()
		if id == "missing" {
			return nil, status.Errorf(codes.NotFound, "order %s does not exist", id)
		}
		return s.message(m.Output(), fmt.Sprintf(`{"id":%q,"status":"STATUS_PAID","totalCents":"12345","createdAt":"2026-01-02T03:04:05Z","ttl":"90s"}`, id))
	case "Fail":
		return nil, status.Error(codes.Code(field("code").Int()), field("message").String())
	case "Inspect":
		return s.inspect(ctx, m)
	}
	return s.message(m.Output(), `{}`)
}

func (s *shop) inspect(ctx context.Context, m protoreflect.MethodDescriptor) (proto.Message, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	keys := make([]string, 0, len(md))
	values := map[string]string{}
	for k, v := range md {
		keys = append(keys, k)
		if len(v) > 0 {
			values[k] = v[0]
		}
	}
	sort.Strings(keys)
	deadline, hasDeadline := ctx.Deadline()
	out := dynamicpb.NewMessage(m.Output())
	f := m.Output().Fields()
	list := out.Mutable(f.ByName("metadata_keys")).List()
	for _, k := range keys {
		list.Append(protoreflect.ValueOfString(k))
	}
	mp := out.Mutable(f.ByName("metadata")).Map()
	for k, v := range values {
		mp.Set(protoreflect.ValueOfString(k).MapKey(), protoreflect.ValueOfString(v))
	}
	out.Set(f.ByName("has_deadline"), protoreflect.ValueOfBool(hasDeadline))
	if hasDeadline {
		remaining := time.Until(deadline)
		d := dynamicpb.NewMessage(f.ByName("deadline_remaining").Message())
		d.Set(d.Descriptor().Fields().ByName("seconds"), protoreflect.ValueOfInt64(int64(remaining/time.Second)))
		d.Set(d.Descriptor().Fields().ByName("nanos"), protoreflect.ValueOfInt32(int32(remaining%time.Second)))
		out.Set(f.ByName("deadline_remaining"), protoreflect.ValueOfMessage(d))
	}
	return out, nil
}

// stream answers WatchOrder with count events.
func (s *shop) stream(m protoreflect.MethodDescriptor, stream grpc.ServerStream) error {
	in := dynamicpb.NewMessage(m.Input())
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	count := in.Get(m.Input().Fields().ByName("count")).Int()
	if count < 0 {
		return status.Error(codes.InvalidArgument, "count must not be negative")
	}
	for i := range count {
		ev, err := s.message(m.Output(), fmt.Sprintf(`{"sequence":%d,"status":"STATUS_OPEN"}`, i+1))
		if err != nil {
			return err
		}
		if err := stream.SendMsg(ev); err != nil {
			return err
		}
	}
	return nil
}

// drain reads a client stream to its end.
func (s *shop) drain(m protoreflect.MethodDescriptor, stream grpc.ServerStream) error {
	for {
		if err := stream.RecvMsg(dynamicpb.NewMessage(m.Input())); err != nil {
			return stream.SendMsg(dynamicpb.NewMessage(m.Output()))
		}
	}
}
