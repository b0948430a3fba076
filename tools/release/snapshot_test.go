package release

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// platforms are the operating systems and architectures a release ships for.
var platforms = []struct{ os, arch string }{
	{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"},
}

// TestReleaseSnapshot runs `make release-snapshot`'s script with a throwaway cosign key
// and checks what it made: an archive and an SBOM per platform, every one listed in
// checksums.txt with its true SHA-256, a signature of checksums.txt that the key's
// public half verifies (and that a changed file fails), and SBOMs that list every
// module compiled into the archive's binary with the version `go version -m` shows.
func TestReleaseSnapshot(t *testing.T) {
	requireTools(t, "goreleaser", "cosign")
	root := repoRoot(t)

	keys := t.TempDir()
	keyEnv := []string{"COSIGN_PASSWORD=throwaway-test-key"}
	runIn(t, keys, keyEnv, "cosign", "generate-key-pair")
	runIn(t, root, append(keyEnv, "COSIGN_KEY="+filepath.Join(keys, "cosign.key")), filepath.Join(root, "tools/release/snapshot.sh"))

	dist := filepath.Join(root, "dist")
	version := snapshotVersion(t, dist)
	sums := readChecksums(t, filepath.Join(dist, "checksums.txt"))

	t.Run("checksums", func(t *testing.T) {
		var want []string
		for _, p := range platforms {
			base := "mcpmesh_" + version + "_" + p.os + "_" + p.arch
			want = append(want, base+".tar.gz", base+".cdx.json")
			if p.os == "linux" {
				want = append(want, base+".oci.tar", base+".oci.cdx.json")
			}
		}
		for _, name := range want {
			if _, ok := sums[name]; !ok {
				t.Errorf("checksums.txt does not list %s (it lists %v)", name, slices.Sorted(mapsKeys(sums)))
			}
		}
		for name, sum := range sums {
			data, err := os.ReadFile(filepath.Join(dist, name))
			if err != nil {
				t.Errorf("checksums.txt lists %s: %v", name, err)
				continue
			}
			got := sha256.Sum256(data)
			if hex.EncodeToString(got[:]) != sum {
				t.Errorf("%s: sha256 %x, checksums.txt says %s", name, got, sum)
			}
		}
	})

	t.Run("signature", func(t *testing.T) {
		checksums := filepath.Join(dist, "checksums.txt")
		signature := checksums + ".sig"
		public := filepath.Join(keys, "cosign.pub")
		data, err := os.ReadFile(checksums)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyBlob(t, public, signature, data); err != nil {
			t.Errorf("signature of checksums.txt does not verify with the key's public half: %v", err)
		}
		if _, ok := sums[filepath.Base(signature)]; ok {
			t.Error("checksums.txt lists its own signature: it was rewritten after it was signed")
		}
		tampered := append(bytes.Clone(data), []byte("0000  mcpmesh_evil.tar.gz\n")...)
		if verifyBlob(t, public, signature, tampered) == nil {
			t.Error("the signature also verifies a changed checksums.txt")
		}
		// cosign itself agrees (offline: the key-signed blob has no transparency-log entry).
		runIn(t, dist, nil, "cosign", "verify-blob", "--key", public, "--signature", signature, "--insecure-ignore-tlog=true", checksums)
		changed := filepath.Join(t.TempDir(), "checksums.txt")
		if err := os.WriteFile(changed, tampered, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("cosign", "verify-blob", "--key", public, "--signature", signature, "--insecure-ignore-tlog=true", changed).CombinedOutput(); err == nil {
			t.Errorf("cosign verify-blob accepted a changed checksums.txt:\n%s", out)
		}
	})

	for _, p := range platforms {
		base := "mcpmesh_" + version + "_" + p.os + "_" + p.arch
		t.Run("sbom "+p.os+"/"+p.arch, func(t *testing.T) {
			binary := extractBinary(t, filepath.Join(dist, base+".tar.gz"))
			want, _ := goVersionModules(t, binary, version)
			compareModules(t, base+".cdx.json", want, sbomModules(t, filepath.Join(dist, base+".cdx.json")))
		})
	}

	// The image of each linux platform: its configuration, the binary it carries (the
	// archive's, byte for byte) and its SBOM.
	for _, p := range platforms {
		if p.os != "linux" {
			continue
		}
		base := "mcpmesh_" + version + "_" + p.os + "_" + p.arch
		t.Run("image "+p.os+"/"+p.arch, func(t *testing.T) {
			archived, err := os.ReadFile(extractBinary(t, filepath.Join(dist, base+".tar.gz")))
			if err != nil {
				t.Fatal(err)
			}
			digest, binary := checkImage(t, filepath.Join(dist, base+".oci.tar"), version, p.arch, archived)
			checkImageSBOM(t, filepath.Join(dist, base+".oci.cdx.json"), version, digest, binary)
		})
	}
}

// compareModules fails the test for every module whose version differs between want
// (what `go version -m` says) and got (what an SBOM lists), or that only one lists.
func compareModules(t *testing.T, sbom string, want, got map[string]string) {
	t.Helper()
	if len(want) < 20 {
		t.Fatalf("go version -m lists only %d modules: %v", len(want), want)
	}
	for path, v := range want {
		if got[path] != v {
			t.Errorf("%s lists %s at %q, the binary was built with %q", sbom, path, got[path], v)
		}
	}
	for path := range got {
		if _, ok := want[path]; !ok {
			t.Errorf("%s lists %s, which is not in the binary", sbom, path)
		}
	}
}

// snapshotVersion is the version GoReleaser gave the snapshot (dist/metadata.json).
func snapshotVersion(t *testing.T, dist string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dist, "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct{ Version string }
	if err := json.Unmarshal(data, &meta); err != nil || meta.Version == "" {
		t.Fatalf("dist/metadata.json: version %q, %v", meta.Version, err)
	}
	return meta.Version
}

// readChecksums parses a sha256sum file: "<hex>  <name>" per line.
func readChecksums(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != sha256.Size*2 {
			t.Fatalf("checksums.txt: malformed line %q", sc.Text())
		}
		sums[name] = sum
	}
	return sums
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// verifyBlob checks a cosign blob signature (base64 ASN.1 ECDSA over the SHA-256 of
// the blob) with the PEM public key cosign generate-key-pair wrote.
func verifyBlob(t *testing.T, publicPath, signaturePath string, blob []byte) error {
	t.Helper()
	pemData, err := os.ReadFile(publicPath)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemData)
	if block == nil {
		t.Fatalf("%s: no PEM block", publicPath)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", publicPath, err)
	}
	ecKey, ok := key.(*ecdsa.PublicKey)
	if !ok {
		t.Fatalf("%s: %T, want an ECDSA key", publicPath, key)
	}
	encoded, err := os.ReadFile(signaturePath)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(encoded)))
	if err != nil {
		t.Fatalf("%s: not base64: %v", signaturePath, err)
	}
	digest := sha256.Sum256(blob)
	if !ecdsa.VerifyASN1(ecKey, digest[:], sig) {
		return errBadSignature
	}
	return nil
}

type signatureError string

func (e signatureError) Error() string { return string(e) }

const errBadSignature = signatureError("ECDSA signature does not match")

// extractBinary writes the archive's mcpmesh binary into a temporary folder.
func extractBinary(t *testing.T, archive string) string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", archive, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s holds no mcpmesh binary", archive)
		}
		if err != nil {
			t.Fatalf("%s: %v", archive, err)
		}
		if filepath.Base(h.Name) != "mcpmesh" {
			continue
		}
		out := filepath.Join(t.TempDir(), "mcpmesh")
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// goVersionModules is path → version of every module `go version -m` says the binary
// was built from, and the main module's path. The main module and the repository's
// own modules (replaced by their folders: "=> ../../gen (devel)") are at the release's
// version, v<version>: the binary has no VCS stamp, and the folders were built from
// the release's commit. Any other replaced module counts as its replacement, path and
// version, the code compiled in.
func goVersionModules(t *testing.T, binary, version string) (modules map[string]string, mainPath string) {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", binary).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, out)
	}
	modules = map[string]string{}
	last := ""
	for line := range strings.SplitSeq(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 {
			continue
		}
		switch fields[0] {
		case "mod":
			mainPath = fields[1]
			last = fields[1]
			modules[last] = "v" + version
		case "dep":
			last = fields[1]
			modules[last] = fields[2]
		case "=>":
			if strings.HasPrefix(fields[1], "../") || strings.HasPrefix(fields[1], "./") {
				modules[last] = "v" + version
				continue
			}
			delete(modules, last)
			modules[fields[1]] = fields[2]
		}
	}
	if mainPath == "" {
		t.Fatalf("go version -m %s names no main module:\n%s", binary, out)
	}
	return modules, mainPath
}

// sbomModules is path → version of every Go module component of a CycloneDX SBOM,
// the described main component included.
func sbomModules(t *testing.T, path string) map[string]string {
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
	modules := map[string]string{}
	add := func(c cdx.Component) {
		if !strings.HasPrefix(c.PackageURL, "pkg:golang/") {
			return
		}
		modules[c.Name] = c.Version
	}
	if bom.Metadata == nil || bom.Metadata.Component == nil {
		t.Fatalf("%s: no metadata.component (the binary's main module)", path)
	}
	add(*bom.Metadata.Component)
	if bom.Components != nil {
		for _, c := range *bom.Components {
			add(c)
		}
	}
	return modules
}
