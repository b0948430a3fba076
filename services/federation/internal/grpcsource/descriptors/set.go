// Package descriptors reads the protobuf descriptors of a gRPC server, by server
// reflection (v1, else v1alpha) or from a descriptor set file, and selects the methods
// that an allow-list admits.
package descriptors

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// ErrNotServed says that an allow-listed service or method does not exist.
var ErrNotServed = errors.New("not served")

// Selection is what to take from the descriptors.
type Selection struct {
	// Services are full service names ("acme.billing.v1.InvoiceService"); required.
	Services []string
	// Methods, when set, narrow the services to these methods, by full name
	// ("acme.billing.v1.InvoiceService.GetInvoice"; "Service/Method" is accepted too).
	Methods []string
	// MaxBytes bounds the descriptors read (0: no bound).
	MaxBytes int
}

// Skipped is an allowed method that cannot be a tool, and why.
type Skipped struct {
	Method string
	Reason string
}

// Set is one reading of a server's descriptors.
type Set struct {
	// Files resolves every descriptor read; Types makes dynamic messages of them
	// (protojson needs it for google.protobuf.Any).
	Files *protoregistry.Files
	Types *dynamicpb.Types
	// Methods are the allowed unary and server-streaming methods, in a stable order.
	Methods []protoreflect.MethodDescriptor
	// Skipped are allowed methods that are not served as tools.
	Skipped []Skipped
	// Fingerprint changes whenever the selected descriptors change.
	Fingerprint [sha256.Size]byte
	// Origin says where the descriptors came from ("reflection v1", "file …").
	Origin string
}

// build links the files and selects the allowed methods. available, when not nil, is
// the list of services the server says it serves.
func build(fds map[string]*descriptorpb.FileDescriptorProto, available []string, sel Selection, origin string) (*Set, error) {
	names := make([]string, 0, len(fds))
	for name := range fds {
		names = append(names, name)
	}
	sort.Strings(names)
	fdset := &descriptorpb.FileDescriptorSet{}
	for _, name := range names {
		fdset.File = append(fdset.File, fds[name])
	}
	files, err := protodesc.NewFiles(fdset)
	if err != nil {
		return nil, fmt.Errorf("link descriptors (%s): %w", origin, err)
	}
	s := &Set{Files: files, Types: dynamicpb.NewTypes(files), Origin: origin}
	if err := s.selectMethods(available, sel); err != nil {
		return nil, err
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(fdset)
	if err != nil {
		return nil, fmt.Errorf("fingerprint descriptors: %w", err)
	}
	s.Fingerprint = sha256.Sum256(raw)
	return s, nil
}

func (s *Set) selectMethods(available []string, sel Selection) error {
	wanted := map[string]bool{}
	for _, m := range sel.Methods {
		wanted[NormalizeMethod(m)] = false
	}
	var errs []error
	for _, name := range sel.Services {
		if available != nil && !slices.Contains(available, name) {
			errs = append(errs, fmt.Errorf("service %s is %w by the server (it serves %s)", name, ErrNotServed, strings.Join(available, ", ")))
			continue
		}
		d, err := s.Files.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			errs = append(errs, fmt.Errorf("service %s is %w: not found in the descriptors (%s)", name, ErrNotServed, s.Origin))
			continue
		}
		svc, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			errs = append(errs, fmt.Errorf("%s is not a service", name))
			continue
		}
		for i := range svc.Methods().Len() {
			m := svc.Methods().Get(i)
			full := string(m.FullName())
			if len(wanted) > 0 {
				if _, ok := wanted[full]; !ok {
					continue
				}
				wanted[full] = true
			}
			if m.IsStreamingClient() {
				s.Skipped = append(s.Skipped, Skipped{Method: full, Reason: "client-streaming and bidirectional methods are not served as tools"})
				continue
			}
			s.Methods = append(s.Methods, m)
		}
	}
	for m, found := range wanted {
		if !found {
			errs = append(errs, fmt.Errorf("method %s is %w by the allowed services", m, ErrNotServed))
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// NormalizeMethod turns "pkg.Service/Method" and "/pkg.Service/Method" into the full
// name "pkg.Service.Method".
func NormalizeMethod(m string) string {
	return strings.ReplaceAll(strings.TrimPrefix(m, "/"), "/", ".")
}
