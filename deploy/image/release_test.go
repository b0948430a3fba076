package image_test

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/mcpmesh/mcpmesh/deploy/image"
)

// releaseImage builds the image of one platform as the release does (the same binary
// for both platforms here: what is checked is the packaging, not the machine code).
func releaseImage(t *testing.T, arch string) (v1.Image, image.Options) {
	t.Helper()
	o := image.Options{
		Binary:         buildBinary(t),
		Dockerfile:     dockerfilePath(t),
		Version:        "v1.2.3",
		CACertificates: "/etc/ssl/certs/ca-certificates.crt",
		Arch:           arch,
		Created:        time.Unix(1700000000, 0).UTC(),
	}
	img, err := image.Build(o)
	if err != nil {
		t.Fatal(err)
	}
	return img, o
}

// TestOCIArchiveIsReproducibleAndReadsBack: the release artefact of one platform is the
// same bytes when written twice, and reads back as the image that was written.
func TestOCIArchiveIsReproducibleAndReadsBack(t *testing.T) {
	img, o := releaseImage(t, "amd64")
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first.oci.tar"), filepath.Join(dir, "second.oci.tar")
	for _, path := range []string{first, second} {
		if err := image.WriteOCIArchive(path, "ghcr.io/mcpmesh/mcpmesh:v1.2.3", img, o.Created); err != nil {
			t.Fatal(err)
		}
	}
	a, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("two archives of one image differ (%d and %d bytes)", len(a), len(b))
	}
	back, err := image.ReadOCIArchive(first, filepath.Join(dir, "unpacked"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	got, err := back.Digest()
	if err != nil || got != want {
		t.Errorf("the archive reads back as %s (%v), want %s", got, err, want)
	}
}

// TestPushArchivesMakesOneMultiPlatformImage pushes the two linux archives to a
// registry (go-containerregistry's, in process) as release.yml does, then pulls the
// index: one entry per platform, each the image of its archive.
func TestPushArchivesMakesOneMultiPlatformImage(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	dir := t.TempDir()
	want := map[string]v1.Hash{}
	var archives []string
	for _, arch := range []string{"amd64", "arm64"} {
		img, o := releaseImage(t, arch)
		path := filepath.Join(dir, arch+".oci.tar")
		if err := image.WriteOCIArchive(path, "mcpmesh:v1.2.3", img, o.Created); err != nil {
			t.Fatal(err)
		}
		archives = append(archives, path)
		want["linux/"+arch], _ = img.Digest()
	}
	ref := strings.TrimPrefix(srv.URL, "http://") + "/mcpmesh/mcpmesh:v1.2.3"
	pushed, err := image.PushArchives(ref, archives)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(tag)
	if err != nil {
		t.Fatal(err)
	}
	if digest, _ := idx.Digest(); digest.String() != pushed.DigestStr() {
		t.Errorf("the tag points at %s, PushArchives said %s", digest, pushed.DigestStr())
	}
	manifest, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]v1.Hash{}
	for _, m := range manifest.Manifests {
		if m.Platform == nil {
			t.Fatalf("index entry %s has no platform", m.Digest)
		}
		got[m.Platform.String()] = m.Digest
	}
	if len(got) != len(want) || got["linux/amd64"] != want["linux/amd64"] || got["linux/arm64"] != want["linux/arm64"] {
		t.Errorf("the pushed index holds %v, want %v", got, want)
	}
	if _, err := image.PushArchives(ref, []string{archives[0], archives[0]}); err == nil {
		t.Error("two archives of one platform were pushed as one index")
	}
}

// TestSBOMDescribesTheImage: the image's SBOM names the image by its digest, the binary
// by its SHA-256 and with the release version, every module the binary was linked
// from at its version, and the CA certificate bundle.
func TestSBOMDescribesTheImage(t *testing.T) {
	img, o := releaseImage(t, "amd64")
	bom, err := image.SBOM(o, img, "ghcr.io/mcpmesh/mcpmesh")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.cdx.json")
	if err := image.WriteSBOM(path, bom); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var back cdx.BOM
	if err := cdx.NewBOMDecoder(f, cdx.BOMFileFormatJSON).Decode(&back); err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()
	c := back.Metadata.Component
	if c.Type != cdx.ComponentTypeContainer || c.Version != "v1.2.3" || !strings.Contains(c.PackageURL, "sha256%3A"+digest.Hex) {
		t.Errorf("metadata.component: %s %s %s, want the container v1.2.3 named by %s", c.Type, c.Version, c.PackageURL, digest)
	}
	info, err := buildinfo.ReadFile(o.Binary)
	if err != nil {
		t.Fatal(err)
	}
	binary, err := os.ReadFile(o.Binary)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(binary)
	certs, err := os.ReadFile(o.CACertificates)
	if err != nil {
		t.Fatal(err)
	}
	certSum := sha256.Sum256(certs)
	listed := map[string]cdx.Component{}
	for _, c := range *back.Components {
		listed[c.Name] = c
	}
	main := listed[info.Main.Path]
	if main.Version != "v1.2.3" || main.Hashes == nil || (*main.Hashes)[0].Value != hex.EncodeToString(sum[:]) {
		t.Errorf("the binary's component %+v, want %s at v1.2.3 with sha256 %x", main, info.Main.Path, sum)
	}
	if cert := listed[image.CACertificatesPath]; cert.Hashes == nil || (*cert.Hashes)[0].Value != hex.EncodeToString(certSum[:]) {
		t.Errorf("the CA bundle's component %+v, want sha256 %x", cert, certSum)
	}
	if len(info.Deps) < 20 {
		t.Fatalf("the binary records only %d modules", len(info.Deps))
	}
	local := 0
	for _, dep := range info.Deps {
		want := dep.Version
		switch {
		case dep.Replace != nil && strings.HasPrefix(dep.Replace.Path, "../"):
			// One of the repository's own modules, built from its folder: listed
			// under its module path at the release's version, not as "../../gen".
			want = "v1.2.3"
			local++
		case dep.Replace != nil:
			dep = dep.Replace // what was compiled in, under its own path
			want = dep.Version
		}
		if c := listed[dep.Path]; c.Version != want || !strings.HasPrefix(c.PackageURL, "pkg:golang/"+dep.Path+"@") {
			t.Errorf("module %s: the SBOM says %q (%s), want %q", dep.Path, c.Version, c.PackageURL, want)
		}
	}
	if local == 0 {
		t.Error("the binary records none of the repository's own modules as replaced by a folder; the test checks nothing of them")
	}
	for _, c := range *back.Components {
		if strings.Contains(c.PackageURL, "/../") || c.Version == "(devel)" {
			t.Errorf("component %s %s (%s) names a folder, not a module", c.Name, c.Version, c.PackageURL)
		}
	}
	if want := len(info.Deps) + 2; len(*back.Components) != want {
		t.Errorf("%d components, want %d (the binary, the CA bundle and each module)", len(*back.Components), want)
	}
}

// TestBinarySBOMNamesEveryModule: a release archive's SBOM (deploy/cmd/mksbom) describes
// the binary by its SHA-256 at the release's version, and lists every module the binary
// records, for its platform; the repository's own modules, which the binary records as
// folders at "(devel)", under their module paths at the release's version.
func TestBinarySBOMNamesEveryModule(t *testing.T) {
	path := buildBinary(t)
	bom, err := image.BinarySBOM(path, "v1.2.3", time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	binary, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(binary)
	main := bom.Metadata.Component
	if main.Name != info.Main.Path || main.Version != "v1.2.3" || main.Hashes == nil || (*main.Hashes)[0].Value != hex.EncodeToString(sum[:]) {
		t.Errorf("metadata.component %+v, want %s at v1.2.3 with sha256 %x", main, info.Main.Path, sum)
	}
	if bom.Metadata.Timestamp != "2023-11-14T22:13:20Z" {
		t.Errorf("timestamp %s, want the given time", bom.Metadata.Timestamp)
	}
	platform := "goos=" + runtime.GOOS + "&goarch=" + runtime.GOARCH
	listed := map[string]string{}
	for _, c := range *bom.Components {
		listed[c.Name] = c.Version
		if !strings.HasPrefix(c.PackageURL, "pkg:golang/"+c.Name+"@") || !strings.HasSuffix(c.PackageURL, platform) {
			t.Errorf("component %s: package URL %s, want pkg:golang/%s@... for %s", c.Name, c.PackageURL, c.Name, platform)
		}
	}
	own := 0
	for _, dep := range info.Deps {
		want := dep.Version
		switch {
		case dep.Replace != nil && strings.HasPrefix(dep.Replace.Path, "../"):
			want = "v1.2.3"
			own++
		case dep.Replace != nil:
			dep = dep.Replace
			want = dep.Version
		}
		if listed[dep.Path] != want {
			t.Errorf("module %s: the SBOM says %q, want %q", dep.Path, listed[dep.Path], want)
		}
	}
	if own < 5 || len(*bom.Components) != len(info.Deps) {
		t.Errorf("%d components for %d modules, %d of them the repository's own", len(*bom.Components), len(info.Deps), own)
	}
	deps := (*bom.Dependencies)[0]
	if deps.Ref != main.BOMRef || len(*deps.Dependencies) != len(info.Deps) {
		t.Errorf("dependencies: %s -> %d modules, want the binary -> %d", deps.Ref, len(*deps.Dependencies), len(info.Deps))
	}
}
