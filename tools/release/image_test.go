package release

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// The facts of the image that deployments rely on (deploy/Dockerfile's runtime stage).
const (
	imageBinary     = "usr/local/bin/mcpmesh"
	imageUser       = "65532:65532"
	imageVersionKey = "org.opencontainers.image.version"
)

// ociDescriptor, ociIndex, ociManifest and ociConfig are the parts of the OCI image
// specification the checks read, decoded here by hand rather than by the library that
// wrote them.
type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
	Platform    *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
	} `json:"platform"`
}

type ociIndex struct {
	SchemaVersion int             `json:"schemaVersion"`
	Manifests     []ociDescriptor `json:"manifests"`
}

type ociManifest struct {
	MediaType string          `json:"mediaType"`
	Config    ociDescriptor   `json:"config"`
	Layers    []ociDescriptor `json:"layers"`
}

type ociConfig struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Config       struct {
		User       string            `json:"User"`
		Entrypoint []string          `json:"Entrypoint"`
		Cmd        []string          `json:"Cmd"`
		Labels     map[string]string `json:"Labels"`
	} `json:"config"`
}

// ociLayout is an unpacked OCI image layout archive.
type ociLayout struct {
	dir string
}

// unpackOCIArchive unpacks a tar of an OCI image layout into a temporary folder.
func unpackOCIArchive(t *testing.T, archive string) ociLayout {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", archive, err)
		}
		name := path.Clean(h.Name)
		if !filepath.IsLocal(name) {
			t.Fatalf("%s: entry %q leaves the archive", archive, h.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			err = writeFrom(target, tr)
		default:
			t.Fatalf("%s: %s is neither a file nor a directory", archive, h.Name)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		t.Fatalf("%s is not an OCI image layout: %v", archive, err)
	}
	return ociLayout{dir: dir}
}

func writeFrom(target string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	out, err := os.Create(target)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	return errors.Join(err, out.Close())
}

// blob reads the blob d names and checks it has d's size and digest.
func (l ociLayout) blob(t *testing.T, d ociDescriptor) []byte {
	t.Helper()
	algorithm, hexDigest, ok := strings.Cut(d.Digest, ":")
	if !ok || algorithm != "sha256" {
		t.Fatalf("descriptor digest %q is not sha256", d.Digest)
	}
	data, err := os.ReadFile(filepath.Join(l.dir, "blobs", "sha256", hexDigest))
	if err != nil {
		t.Fatalf("blob %s: %v", d.Digest, err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != hexDigest || int64(len(data)) != d.Size {
		t.Fatalf("blob %s: %d bytes with sha256 %x, the descriptor says %d bytes", d.Digest, len(data), sum, d.Size)
	}
	return data
}

func decodeJSON(t *testing.T, what string, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// layerFile is the content of the file at name (no leading slash) in the layer, and
// the owner the layer gives it.
func layerFile(t *testing.T, layer []byte, mediaType, name string) (body []byte, uid int, found bool) {
	t.Helper()
	var r io.Reader = strings.NewReader(string(layer))
	if strings.HasSuffix(mediaType, "+gzip") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			t.Fatalf("layer: %v", err)
		}
		r = gz
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, 0, false
		}
		if err != nil {
			t.Fatalf("layer: %v", err)
		}
		if strings.TrimPrefix(path.Clean(h.Name), "/") != name {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		return data, h.Uid, true
	}
}

// checkImage unpacks the image archive of one linux platform and checks the parts a
// deployment relies on against the archive's binary of the same platform; it returns
// the image's manifest digest and the binary it carries (written to a file).
func checkImage(t *testing.T, archive, version, arch string, archiveBinary []byte) (manifestDigest, binary string) {
	t.Helper()
	l := unpackOCIArchive(t, archive)
	indexData, err := os.ReadFile(filepath.Join(l.dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index ociIndex
	decodeJSON(t, "index.json", indexData, &index)
	if index.SchemaVersion != 2 || len(index.Manifests) != 1 {
		t.Fatalf("index.json: schema %d with %d manifests, want schema 2 with one image", index.SchemaVersion, len(index.Manifests))
	}
	desc := index.Manifests[0]
	if desc.Platform == nil || desc.Platform.OS != "linux" || desc.Platform.Architecture != arch {
		t.Errorf("index.json: the image's platform is %+v, want linux/%s", desc.Platform, arch)
	}
	if ref := desc.Annotations["org.opencontainers.image.ref.name"]; !strings.HasSuffix(ref, ":v"+strings.ReplaceAll(version, "+", "-")) {
		t.Errorf("index.json: the image is named %q, want a tag of v%s", ref, version)
	}
	var manifest ociManifest
	decodeJSON(t, "manifest", l.blob(t, desc), &manifest)
	if manifest.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("manifest media type %q, want an OCI image manifest", manifest.MediaType)
	}
	var config ociConfig
	decodeJSON(t, "config", l.blob(t, manifest.Config), &config)
	if config.OS != "linux" || config.Architecture != arch {
		t.Errorf("config: platform %s/%s, want linux/%s", config.OS, config.Architecture, arch)
	}
	if config.Config.User != imageUser {
		t.Errorf("config: user %q, want the numeric %q (runAsNonRoot checks it without a name lookup)", config.Config.User, imageUser)
	}
	if want := []string{"/" + imageBinary}; !slices.Equal(config.Config.Entrypoint, want) {
		t.Errorf("config: entrypoint %q, want %q", config.Config.Entrypoint, want)
	}
	if want := []string{"serve"}; !slices.Equal(config.Config.Cmd, want) {
		t.Errorf("config: command %q, want %q", config.Config.Cmd, want)
	}
	if got := config.Config.Labels[imageVersionKey]; got != "v"+version {
		t.Errorf("config: label %s is %q, want %q", imageVersionKey, got, "v"+version)
	}
	if len(manifest.Layers) != 1 {
		t.Fatalf("manifest: %d layers, want the one layer mkimage writes", len(manifest.Layers))
	}
	body, uid, found := layerFile(t, l.blob(t, manifest.Layers[0]), manifest.Layers[0].MediaType, imageBinary)
	if !found {
		t.Fatalf("the image has no /%s", imageBinary)
	}
	if uid != 0 {
		t.Errorf("/%s is owned by uid %d, want root (the image's user must not be able to replace it)", imageBinary, uid)
	}
	if want := sha256.Sum256(archiveBinary); sha256.Sum256(body) != want {
		t.Errorf("/%s in the image has sha256 %x, the linux/%s archive's binary %x", imageBinary, sha256.Sum256(body), arch, want)
	}
	binary = filepath.Join(t.TempDir(), "mcpmesh")
	if err := os.WriteFile(binary, body, 0o755); err != nil {
		t.Fatal(err)
	}
	return desc.Digest, binary
}

// checkImageSBOM checks the image's CycloneDX SBOM: it describes the image by its
// manifest digest, names the binary with its SHA-256, and lists every Go module the
// binary was built from with the version `go version -m` shows.
func checkImageSBOM(t *testing.T, path, version, manifestDigest, binary string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(f, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("%s: not a CycloneDX JSON document: %v", path, err)
	}
	if bom.Metadata == nil || bom.Metadata.Component == nil {
		t.Fatalf("%s: no metadata.component (the image)", path)
	}
	image := bom.Metadata.Component
	if image.Type != cdx.ComponentTypeContainer || image.Version != "v"+version {
		t.Errorf("%s: the described component is a %q at %q, want a container at v%s", path, image.Type, image.Version, version)
	}
	if !strings.Contains(image.PackageURL, strings.ReplaceAll(manifestDigest, ":", "%3A")) {
		t.Errorf("%s: the image's package URL %q does not name its manifest digest %s", path, image.PackageURL, manifestDigest)
	}
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	binarySum := sha256.Sum256(data)
	want, mainPath := goVersionModules(t, binary, version)
	got := map[string]string{}
	binaryListed := false
	if bom.Components != nil {
		for _, c := range *bom.Components {
			if !strings.HasPrefix(c.PackageURL, "pkg:golang/") {
				continue
			}
			got[c.Name] = c.Version
			if c.Name == mainPath && c.Hashes != nil {
				for _, h := range *c.Hashes {
					binaryListed = binaryListed || (h.Algorithm == cdx.HashAlgoSHA256 && h.Value == hex.EncodeToString(binarySum[:]))
				}
			}
		}
	}
	if !binaryListed {
		t.Errorf("%s: no component %s with the binary's sha256 %x", path, mainPath, binarySum)
	}
	compareModules(t, path, want, got)
}
