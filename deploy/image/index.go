package image

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Index is the multi-platform image of the release: one OCI index whose entries are
// the per-platform images, each with the platform its configuration states, so that a
// runtime pulls the one for its machine.
func Index(images []v1.Image) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	seen := map[string]bool{}
	for _, img := range images {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		platform := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
		if seen[platform.String()] {
			return nil, fmt.Errorf("two images for %s", platform)
		}
		seen[platform.String()] = true
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &platform},
		})
	}
	return idx, nil
}

// PushArchives reads the per-platform OCI archives (WriteOCIArchive), pushes them to
// ref as one multi-platform image (Index), and returns the pushed image by digest.
func PushArchives(ref string, archives []string, options ...remote.Option) (name.Digest, error) {
	tag, err := name.NewTag(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("image reference %q: %w", ref, err)
	}
	scratch, err := os.MkdirTemp("", "mcpmesh-push-")
	if err != nil {
		return name.Digest{}, err
	}
	defer func() { _ = os.RemoveAll(scratch) }()
	var images []v1.Image
	for i, archive := range archives {
		img, err := ReadOCIArchive(archive, filepath.Join(scratch, strconv.Itoa(i)))
		if err != nil {
			return name.Digest{}, err
		}
		images = append(images, img)
	}
	idx, err := Index(images)
	if err != nil {
		return name.Digest{}, err
	}
	if err := remote.WriteIndex(tag, idx, options...); err != nil {
		return name.Digest{}, fmt.Errorf("push %s: %w", tag, err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return name.Digest{}, err
	}
	return tag.Context().Digest(digest.String()), nil
}
