package descriptors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// ErrNoReflection says that the server answers neither reflection version: it must be
// described by a descriptor set file instead.
var ErrNoReflection = errors.New("the server offers no gRPC server reflection (neither grpc.reflection.v1 nor v1alpha); " +
	"enable reflection on it or configure descriptor_set_file")

// ErrTooLarge says that the descriptors exceed the configured limit.
var ErrTooLarge = errors.New("descriptors exceed the limit")

// reflectionStream is one reflection conversation in v1 terms; v1alpha streams are
// adapted to it (the two versions have the same messages under another package).
type reflectionStream interface {
	Send(*reflectionv1.ServerReflectionRequest) error
	Recv() (*reflectionv1.ServerReflectionResponse, error)
	CloseSend() error
}

// v1alphaStream speaks v1alpha on the wire and v1 to its caller, converting through the
// wire format, which the two versions share.
//
// v1alpha is deprecated, and still all that older servers offer.
type v1alphaStream struct {
	grpc.BidiStreamingClient[reflectionv1alpha.ServerReflectionRequest, reflectionv1alpha.ServerReflectionResponse] //nolint:staticcheck // see above
}

func (s v1alphaStream) Send(req *reflectionv1.ServerReflectionRequest) error {
	var alpha reflectionv1alpha.ServerReflectionRequest //nolint:staticcheck // v1alpha for older servers
	if err := convert(req, &alpha); err != nil {
		return err
	}
	return s.BidiStreamingClient.Send(&alpha)
}

func (s v1alphaStream) Recv() (*reflectionv1.ServerReflectionResponse, error) {
	alpha, err := s.BidiStreamingClient.Recv()
	if err != nil {
		return nil, err
	}
	var resp reflectionv1.ServerReflectionResponse
	if err := convert(alpha, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

func convert(from, to proto.Message) error {
	b, err := proto.Marshal(from)
	if err != nil {
		return fmt.Errorf("convert reflection message: %w", err)
	}
	if err := proto.Unmarshal(b, to); err != nil {
		return fmt.Errorf("convert reflection message: %w", err)
	}
	return nil
}

// reflector asks one server for its descriptors over one reflection stream.
type reflector struct {
	stream   reflectionStream
	maxBytes int
	// version is "v1" or "v1alpha", for messages.
	version string
	files   map[string]*descriptorpb.FileDescriptorProto
	total   int
}

// openReflection opens a v1 stream, or a v1alpha one when the server does not know v1.
// gRPC reports an unknown service on the first Recv, not on opening the stream, so the
// probe is a ListServices round trip.
func openReflection(ctx context.Context, conn grpc.ClientConnInterface, maxBytes int) (*reflector, []string, error) {
	// One answer may carry a file with all its imports: the descriptor limit, not the
	// connection's message limit, bounds it.
	var opts []grpc.CallOption
	if maxBytes > 0 {
		opts = append(opts, grpc.MaxCallRecvMsgSize(maxBytes))
	}
	v1, err := reflectionv1.NewServerReflectionClient(conn).ServerReflectionInfo(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("open reflection stream: %w", err)
	}
	r := &reflector{stream: v1, maxBytes: maxBytes, version: "v1", files: map[string]*descriptorpb.FileDescriptorProto{}}
	services, err := r.listServices()
	if status.Code(err) != codes.Unimplemented {
		return r, services, err
	}
	_ = v1.CloseSend()
	alpha, err := reflectionv1alpha.NewServerReflectionClient(conn).ServerReflectionInfo(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("open reflection stream: %w", err)
	}
	r = &reflector{stream: v1alphaStream{alpha}, maxBytes: maxBytes, version: "v1alpha", files: r.files}
	services, err = r.listServices()
	if status.Code(err) == codes.Unimplemented {
		_ = alpha.CloseSend()
		return nil, nil, ErrNoReflection
	}
	return r, services, err
}

// roundTrip sends one request and reads its answer; a reflection error answer becomes a
// gRPC status error.
func (r *reflector) roundTrip(req *reflectionv1.ServerReflectionRequest) (*reflectionv1.ServerReflectionResponse, error) {
	if err := r.stream.Send(req); err != nil {
		if errors.Is(err, io.EOF) {
			// The server ended the stream; its status comes with Recv.
			_, err = r.stream.Recv()
		}
		return nil, err
	}
	resp, err := r.stream.Recv()
	if err != nil {
		return nil, err
	}
	if e := resp.GetErrorResponse(); e != nil {
		return nil, status.Error(codes.Code(e.GetErrorCode()), e.GetErrorMessage())
	}
	return resp, nil
}

func (r *reflector) listServices() ([]string, error) {
	resp, err := r.roundTrip(&reflectionv1.ServerReflectionRequest{
		MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{ListServices: "*"},
	})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names, nil
}

// fileContainingSymbol fetches the file that declares symbol and whichever of its
// dependencies the server sends along.
func (r *reflector) fileContainingSymbol(symbol string) error {
	return r.fetch(&reflectionv1.ServerReflectionRequest{
		MessageRequest: &reflectionv1.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol},
	}, "symbol "+symbol)
}

func (r *reflector) fileByName(name string) error {
	return r.fetch(&reflectionv1.ServerReflectionRequest{
		MessageRequest: &reflectionv1.ServerReflectionRequest_FileByFilename{FileByFilename: name},
	}, "file "+name)
}

func (r *reflector) fetch(req *reflectionv1.ServerReflectionRequest, what string) error {
	resp, err := r.roundTrip(req)
	if err != nil {
		return fmt.Errorf("reflection (%s) for %s: %w", r.version, what, err)
	}
	for _, raw := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
		r.total += len(raw)
		if r.maxBytes > 0 && r.total > r.maxBytes {
			return fmt.Errorf("%w: more than %d bytes of descriptors for %s (raise max_descriptor_bytes if this is expected)", ErrTooLarge, r.maxBytes, what)
		}
		fd := &descriptorpb.FileDescriptorProto{}
		if err := proto.Unmarshal(raw, fd); err != nil {
			return fmt.Errorf("reflection (%s) for %s: decode file descriptor: %w", r.version, what, err)
		}
		r.files[fd.GetName()] = fd
	}
	return nil
}

// completeDependencies asks for every imported file the server has not sent yet. A
// server sends each file once per stream, so a dependency already sent for an
// earlier symbol is not repeated.
func (r *reflector) completeDependencies() error {
	for {
		var missing []string
		for _, fd := range r.files {
			for _, dep := range fd.GetDependency() {
				if _, ok := r.files[dep]; !ok {
					missing = append(missing, dep)
				}
			}
		}
		if len(missing) == 0 {
			return nil
		}
		for _, name := range missing {
			if _, ok := r.files[name]; ok {
				continue
			}
			if err := r.fileByName(name); err != nil {
				if fd := wellKnownFile(name); fd != nil && status.Code(err) == codes.NotFound {
					r.files[name] = fd
					continue
				}
				return err
			}
			if _, ok := r.files[name]; !ok {
				return fmt.Errorf("reflection (%s): the server did not send %s", r.version, name)
			}
		}
	}
}

// wellKnownFile is the Go runtime's copy of a google/protobuf file, for servers that
// leave the well-known types out of their answers; nil for any other file.
func wellKnownFile(name string) *descriptorpb.FileDescriptorProto {
	if !strings.HasPrefix(name, "google/protobuf/") {
		return nil
	}
	fd, err := protoregistry.GlobalFiles.FindFileByPath(name)
	if err != nil {
		return nil
	}
	return protodesc.ToFileDescriptorProto(fd)
}
