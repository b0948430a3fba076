package descriptors

import (
	"fmt"
	"os"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// FromFile reads a FileDescriptorSet (protoc --descriptor_set_out with
// --include_imports, or buf build -o set.binpb) and selects the allowed methods. The
// set must hold every imported file; source info in it supplies the descriptions.
func FromFile(path string, sel Selection) (*Set, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("descriptor set file: %w", err)
	}
	if sel.MaxBytes > 0 && info.Size() > int64(sel.MaxBytes) {
		return nil, fmt.Errorf("descriptor set file %s: %w: %d bytes, more than max_descriptor_bytes %d", path, ErrTooLarge, info.Size(), sel.MaxBytes)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("descriptor set file: %w", err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(raw, set); err != nil {
		return nil, fmt.Errorf("descriptor set file %s is not a FileDescriptorSet: %w", path, err)
	}
	fds := map[string]*descriptorpb.FileDescriptorProto{}
	for _, fd := range set.GetFile() {
		fds[fd.GetName()] = fd
	}
	return build(fds, nil, sel, "descriptor set file "+path)
}
