package image

import (
	"crypto/sha256"
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
// recorded in it (what `go version -m` prints, the repository's own modules named as
// ReadGoModules says), and the CA certificate bundle. repository is where the image is
// published, such as ghcr.io/mcpmesh/mcpmesh.
func SBOM(o Options, img v1.Image, repository string) (*cdx.BOM, error) {
	digest, err := img.Digest()
	if err != nil {
		return nil, err
	}
	modules, err := ReadGoModules(o.Binary, o.Version)
	if err != nil {
		return nil, err
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
	mainModule := modules.Main
	*mainModule.Properties = append(*mainModule.Properties, cdx.Property{Name: "path", Value: BinaryPath})
	certFile := cdx.Component{
		BOMRef: "file:" + CACertificatesPath,
		Type:   cdx.ComponentTypeFile,
		Name:   CACertificatesPath,
		Hashes: &[]cdx.Hash{sha256Hash(certs)},
	}

	components := append([]cdx.Component{mainModule, certFile}, modules.Deps...)
	moduleRefs := modules.depRefs()
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
