// Command manifests renders the Helm chart into plain Kubernetes manifests for users
// without Helm (make manifests writes deploy/kubernetes/mcpmesh.yaml).
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/mcpmesh/mcpmesh/deploy/chart"
)

func main() {
	chartDir := flag.String("chart", "helm/mcpmesh", "chart directory")
	values := flag.String("values", "kubernetes/values.yaml", "values file")
	namespace := flag.String("namespace", "mcpmesh", "namespace of every object")
	out := flag.String("out", "kubernetes/mcpmesh.yaml", "file to write")
	flag.Parse()
	log.SetOutput(io.Discard) // Helm's loader logs each symlink it follows
	manifest, err := chart.PlainManifest(*chartDir, *values, *namespace)
	if err != nil {
		fmt.Fprintln(os.Stderr, "manifests:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, []byte(manifest), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "manifests:", err)
		os.Exit(1)
	}
}
