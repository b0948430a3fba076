// Command pushimage pushes the release's per-platform OCI archives (mkimage
// -oci-archive, dist/mcpmesh_*_linux_*.oci.tar) as one multi-platform image and
// prints its reference by digest, for signing and attestation (release.yml).
// Credentials: the Docker configuration (docker login), and for ghcr.io the
// environment's GITHUB_ACTOR and GITHUB_TOKEN (the workflow's token, never on disk).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/authn/github"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/mcpmesh/mcpmesh/deploy/image"
)

func main() {
	ref := flag.String("ref", "", "where to push, such as ghcr.io/mcpmesh/mcpmesh:v1.2.3")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: pushimage -ref REGISTRY/REPOSITORY:TAG ARCHIVE.oci.tar...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *ref == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	auth := remote.WithAuthFromKeychain(authn.NewMultiKeychain(authn.DefaultKeychain, github.Keychain))
	digest, err := image.PushArchives(*ref, flag.Args(), auth)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pushimage:", err)
		os.Exit(1)
	}
	fmt.Println(digest)
}
