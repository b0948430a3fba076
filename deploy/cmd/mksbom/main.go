// Command mksbom writes the CycloneDX SBOM of a release archive's binary (GoReleaser's
// sboms step, through tools/release/sbom.sh): the binary and every Go module it was
// linked from, the repository's own modules under their module paths at the release's
// version (deploy/image.ReadGoModules).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/mcpmesh/mcpmesh/deploy/image"
)

func main() {
	binary := flag.String("binary", "", "Go binary to describe")
	version := flag.String("version", "", "release version of the binary and of the repository's own modules (v1.2.3)")
	output := flag.String("output", "", "where to write the SBOM (CycloneDX JSON)")
	flag.Parse()
	if *binary == "" || *version == "" || *output == "" {
		fmt.Fprintln(os.Stderr, "mksbom: set -binary, -version and -output")
		os.Exit(2)
	}
	created, err := image.SourceDateEpoch()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mksbom:", err)
		os.Exit(2)
	}
	bom, err := image.BinarySBOM(*binary, *version, created)
	if err == nil {
		err = image.WriteSBOM(*output, bom)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mksbom:", err)
		os.Exit(1)
	}
}
