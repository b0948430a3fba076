package main

import (
	"io"

	"github.com/mcpmesh/mcpmesh/services/kit/buildinfo"
)

// Stamped at link time by `make build`, GoReleaser and the image build:
//
//	-X main.buildVersion=v1.2.3 -X main.commit=<sha> -X main.commitDate=<RFC 3339, UTC>
//
// Left empty, buildinfo.Resolve falls back to what the Go toolchain recorded.
var (
	buildVersion string
	commit       string
	commitDate   string
)

// build describes this binary's build.
func build() buildinfo.Info {
	return buildinfo.Resolve(buildinfo.Stamp{Version: buildVersion, Commit: commit, CommitDate: commitDate})
}

// printVersion writes what `mcpmesh version` and `mcpmesh --version` print.
func printVersion(stdout io.Writer) error {
	_, err := io.WriteString(stdout, build().String())
	return err
}

// isVersionFlag reports whether arg asks for the version as a flag (mcpmesh --version).
func isVersionFlag(arg string) bool { return arg == "--version" || arg == "-version" }
