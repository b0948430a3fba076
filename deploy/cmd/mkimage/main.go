// Command mkimage builds the mcpmesh image without a container engine (make image): a
// static binary on an empty base, configured as deploy/Dockerfile's runtime stage,
// written as an OCI image layout and a `docker load` tarball.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

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
	flag.Parse()
	if o.Binary == "" || (*layoutDir == "" && *tarPath == "") {
		fmt.Fprintln(os.Stderr, "mkimage: set -binary and at least one of -oci-layout, -tarball")
		os.Exit(2)
	}
	// SOURCE_DATE_EPOCH (reproducible-builds.org) fixes every timestamp.
	o.Created = time.Unix(0, 0).UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mkimage: SOURCE_DATE_EPOCH:", err)
			os.Exit(2)
		}
		o.Created = time.Unix(sec, 0).UTC()
	}
	if err := build(o, *ref, *layoutDir, *tarPath); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func build(o image.Options, ref, layoutDir, tarPath string) error {
	img, err := image.Build(o)
	if err != nil {
		return err
	}
	if layoutDir != "" {
		if err := image.WriteLayout(layoutDir, ref, img); err != nil {
			return err
		}
	}
	if tarPath != "" {
		if err := image.WriteTarball(tarPath, ref, img); err != nil {
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
