// Command mkimage builds the mcpmesh image without a container engine (make image, and
// the release through tools/release/image.sh): a static binary on an empty base,
// configured as deploy/Dockerfile's runtime stage, written as an OCI image layout, an
// OCI layout archive, a `docker load` tarball, and its CycloneDX SBOM.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/mcpmesh/mcpmesh/deploy/image"
)

func main() {
	o := image.Options{}
	flag.StringVar(&o.Binary, "binary", "", "static mcpmesh binary to put in the image")
	flag.StringVar(&o.Dockerfile, "dockerfile", "deploy/Dockerfile", "Dockerfile whose runtime stage configures the image")
	flag.StringVar(&o.Version, "version", "dev", "image version (the VERSION build argument)")
	flag.StringVar(&o.CACertificates, "ca-certificates", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle of CA certificates")
	flag.StringVar(&o.Arch, "arch", runtime.GOARCH, "GOARCH of the binary")
	ref := flag.String("name", "mcpmesh:dev", "image name and tag")
	layoutDir := flag.String("oci-layout", "", "write an OCI image layout to this directory")
	tarPath := flag.String("tarball", "", "write a docker-loadable tarball to this file")
	archivePath := flag.String("oci-archive", "", "write the OCI image layout as one tar file (a release artefact)")
	sbomPath := flag.String("sbom", "", "write the image's CycloneDX SBOM (JSON) to this file")
	repository := flag.String("repository", "ghcr.io/mcpmesh/mcpmesh", "where the image is published (named in the SBOM)")
	flag.Parse()
	out := outputs{layout: *layoutDir, tarball: *tarPath, archive: *archivePath, sbom: *sbomPath, repository: *repository}
	if o.Binary == "" || (out.layout == "" && out.tarball == "" && out.archive == "") {
		fmt.Fprintln(os.Stderr, "mkimage: set -binary and at least one of -oci-layout, -oci-archive, -tarball")
		os.Exit(2)
	}
	created, err := image.SourceDateEpoch()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(2)
	}
	o.Created = created
	if err := build(o, *ref, out); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

// outputs are the files and folders mkimage writes; empty ones are left out.
type outputs struct {
	layout, tarball, archive, sbom string
	repository                     string
}

func build(o image.Options, ref string, out outputs) error {
	img, err := image.Build(o)
	if err != nil {
		return err
	}
	if out.layout != "" {
		if err := image.WriteLayout(out.layout, ref, img); err != nil {
			return err
		}
	}
	if out.tarball != "" {
		if err := image.WriteTarball(out.tarball, ref, img); err != nil {
			return err
		}
	}
	if out.archive != "" {
		if err := image.WriteOCIArchive(out.archive, ref, img, o.Created); err != nil {
			return err
		}
	}
	if out.sbom != "" {
		bom, err := image.SBOM(o, img, out.repository)
		if err != nil {
			return err
		}
		if err := image.WriteSBOM(out.sbom, bom); err != nil {
			return err
		}
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s %s\n", ref, digest)
	return nil
}
