package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// WriteOCIArchive writes img as an OCI image layout packed in one tar file (what
// `skopeo copy oci-archive:`, `podman load` and crane read): the release artefact of
// one platform. Every entry carries mtime and root ownership, in a fixed order, so the
// same image gives the same bytes.
func WriteOCIArchive(path, ref string, img v1.Image, mtime time.Time) error {
	dir, err := os.MkdirTemp("", "mcpmesh-oci-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	layoutDir := filepath.Join(dir, "oci")
	if err := WriteLayout(layoutDir, ref, img); err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("OCI archive: %w", err)
	}
	if err := tarDir(out, layoutDir, mtime); err != nil {
		_ = out.Close()
		return fmt.Errorf("OCI archive %s: %w", path, err)
	}
	return out.Close()
}

// tarDir writes the tree under root (entries named relative to it) in lexical order,
// which filepath.WalkDir guarantees.
func tarDir(w io.Writer, root string, mtime time.Time) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == root {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: mtime, Format: tar.FormatPAX}
		if d.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
			return tw.WriteHeader(h)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, info.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		return errors.Join(err, f.Close())
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// ReadOCIArchive unpacks an archive WriteOCIArchive wrote into dir (made if missing)
// and returns its one image. The image reads its blobs from dir: keep dir until the image is used up.
func ReadOCIArchive(path, dir string) (v1.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = root.Close() }()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		// os.Root refuses names that would leave dir (.., absolute paths, links).
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(filepath.FromSlash(h.Name), 0o755); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		case tar.TypeReg:
			if err := copyToRoot(root, filepath.FromSlash(h.Name), tr); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		default:
			return nil, fmt.Errorf("%s: %s is neither a file nor a directory", path, h.Name)
		}
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: not an OCI layout: %w", path, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	manifest, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(manifest.Manifests) != 1 {
		return nil, fmt.Errorf("%s: %d images, want 1", path, len(manifest.Manifests))
	}
	return idx.Image(manifest.Manifests[0].Digest)
}

func copyToRoot(root *os.Root, name string, r io.Reader) error {
	if err := root.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	out, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	return errors.Join(err, out.Close())
}
