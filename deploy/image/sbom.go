package image

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-containerregistry/pkg/v1"
)

// CACertificatesPath is where the image carries the CA certificate bundle.
const CACertificatesPath = "/etc/ssl/certs/ca-certificates.crt"

// SBOM describes the image built from o as a CycloneDX document: the image itself
// (its manifest digest in the package URL), the binary with the Go modules the linker
// recorded in it (what `go version -m` prints), and the CA certificate bundle. The
// main module's version is the image's (a release build has no VCS stamp, so the
// binary itself says "(devel)"). repository is where the image is published, such as
// ghcr.io/mcpmesh/mcpmesh.
func SBOM(o Options, img v1.Image, repository string) (*cdx.BOM, error) {
	digest, err := img.Digest()
	if err != nil {
		return nil, err
	}
	binary, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	info, err := buildinfo.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("%s: no Go build information: %w", o.Binary, err)
	}
	certs, err := os.ReadFile(o.CACertificates)
	if err != nil {
		return nil, fmt.Errorf("read CA certificates: %w", err)
	}

	name := repository[strings.LastIndex(repository, "/")+1:]
	q := url.Values{"arch": {o.Arch}, "repository_url": {repository}}
	container := cdx.Component{
		BOMRef:     "pkg:oci/" + name + "@" + url.QueryEscape(digest.String()) + "?" + q.Encode(),
		Type:       cdx.ComponentTypeContainer,
		Name:       repository,
		Version:    o.Version,
		PackageURL: "pkg:oci/" + name + "@" + url.QueryEscape(digest.String()) + "?" + q.Encode(),
		Properties: &[]cdx.Property{
			{Name: "oci:image:digest", Value: digest.String()},
			{Name: "oci:image:platform", Value: "linux/" + o.Arch},
		},
	}
	mainModule := goModule(info.Main.Path, o.Version, "", info.GoVersion, o.Arch)
	mainModule.Type = cdx.ComponentTypeApplication
	mainModule.Hashes = &[]cdx.Hash{sha256Hash(binary)}
	mainModule.Properties = &[]cdx.Property{{Name: "path", Value: BinaryPath}}
	certFile := cdx.Component{
		BOMRef: "file:" + CACertificatesPath,
		Type:   cdx.ComponentTypeFile,
		Name:   CACertificatesPath,
		Hashes: &[]cdx.Hash{sha256Hash(certs)},
	}

	components := []cdx.Component{mainModule, certFile}
	var moduleRefs []string
	for _, dep := range info.Deps {
		// The module compiled in is the replacement, listed under its own path as
		// the binary records it and cyclonedx-gomod lists it in the archives' SBOMs:
		// a directory of the repository (../../gen) at "(devel)".
		m := dep
		if dep.Replace != nil {
			m = dep.Replace
		}
		c := goModule(m.Path, m.Version, m.Sum, info.GoVersion, o.Arch)
		components = append(components, c)
		moduleRefs = append(moduleRefs, c.BOMRef)
	}

	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Timestamp: o.Created.UTC().Format("2006-01-02T15:04:05Z"),
		Component: &container,
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{
			{Type: cdx.ComponentTypeApplication, Name: "mcpmesh mkimage"},
		}},
	}
	bom.Components = &components
	bom.Dependencies = &[]cdx.Dependency{
		{Ref: container.BOMRef, Dependencies: &[]string{mainModule.BOMRef, certFile.BOMRef}},
		{Ref: mainModule.BOMRef, Dependencies: &moduleRefs},
	}
	return bom, nil
}

// goModule is a Go module as cyclonedx-gomod lists it: a pkg:golang package URL and,
// when the module has a go.sum hash (h1:, base64 SHA-256), that hash in hex.
func goModule(path, version, sum, goVersion, arch string) cdx.Component {
	purl := "pkg:golang/" + path + "@" + url.PathEscape(version) + "?type=module&goos=linux&goarch=" + arch
	c := cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: path, Version: version, PackageURL: purl}
	if h, ok := strings.CutPrefix(sum, "h1:"); ok {
		if raw, err := base64.StdEncoding.DecodeString(h); err == nil {
			c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hex.EncodeToString(raw)}}
		}
	}
	c.Properties = &[]cdx.Property{{Name: "go:toolchain", Value: goVersion}}
	return c
}

func sha256Hash(data []byte) cdx.Hash {
	sum := sha256.Sum256(data)
	return cdx.Hash{Algorithm: cdx.HashAlgoSHA256, Value: hex.EncodeToString(sum[:])}
}

// WriteSBOM writes bom as indented CycloneDX JSON.
func WriteSBOM(path string, bom *cdx.BOM) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := cdx.NewBOMEncoder(f, cdx.BOMFileFormatJSON).SetPretty(true)
	if err := enc.Encode(bom); err != nil {
		_ = f.Close()
		return fmt.Errorf("SBOM %s: %w", path, err)
	}
	return f.Close()
}
