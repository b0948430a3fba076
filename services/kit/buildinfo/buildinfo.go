// Package buildinfo describes the build of the running binary: its version, the commit
// it was built from and that commit's date, the Go version and the platform. The
// release build stamps version, commit and date with -ldflags (see the Makefile and
// .goreleaser.yaml); a plain `go build` or `go install` falls back to what the Go
// toolchain recorded in the binary (debug.ReadBuildInfo).
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// DevVersion is the version of a build that was not stamped and carries no module
// version (a local `go build` of a checkout).
const DevVersion = "dev"

// unknown stands for a commit or date that neither the stamp nor the toolchain knows.
const unknown = "unknown"

// Info is what a binary knows about its own build.
type Info struct {
	// Version is the release version (v1.2.3), a pre-release or development version
	// derived from git (v1.2.3-4-gabcdef0, v0.0.0-dev+abcdef0), the module version of a
	// `go install`, or "dev".
	Version string
	// Commit is the full git commit hash, or "unknown".
	Commit string
	// CommitDate is the commit's date in RFC 3339 (UTC), or "unknown". Builds record
	// the commit date, never the time of the build, so that they are reproducible.
	CommitDate string
	// GoVersion is the Go toolchain that built the binary (runtime.Version()).
	GoVersion string
	// Platform is GOOS/GOARCH.
	Platform string
}

// Stamp is what the build passes with -ldflags -X; empty fields are filled from the
// toolchain's record.
type Stamp struct {
	Version    string
	Commit     string
	CommitDate string
}

// Resolve combines the stamp with the build information the Go toolchain embedded in
// the running binary.
func Resolve(s Stamp) Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(s, bi)
}

// resolve is Resolve with the toolchain's record passed in (nil when there is none).
func resolve(s Stamp, bi *debug.BuildInfo) Info {
	info := Info{
		Version:    s.Version,
		Commit:     s.Commit,
		CommitDate: s.CommitDate,
		GoVersion:  runtime.Version(),
		Platform:   runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi != nil {
		var revision, revTime string
		modified := false
		for _, setting := range bi.Settings {
			switch setting.Key {
			case "vcs.revision":
				revision = setting.Value
			case "vcs.time":
				revTime = setting.Value
			case "vcs.modified":
				modified = setting.Value == "true"
			}
		}
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		if info.Commit == "" && revision != "" {
			info.Commit = revision
			if modified {
				info.Commit += "-dirty"
			}
		}
		if info.CommitDate == "" {
			info.CommitDate = revTime
		}
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
	}
	if info.Version == "" {
		info.Version = DevVersion
	}
	if info.Commit == "" {
		info.Commit = unknown
	}
	if info.CommitDate == "" {
		info.CommitDate = unknown
	}
	return info
}

// String is the multi-line report of `mcpmesh version`.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mcpmesh %s\n", i.Version)
	fmt.Fprintf(&b, "  commit:      %s\n", i.Commit)
	fmt.Fprintf(&b, "  commit date: %s\n", i.CommitDate)
	fmt.Fprintf(&b, "  go:          %s\n", i.GoVersion)
	fmt.Fprintf(&b, "  platform:    %s\n", i.Platform)
	return b.String()
}

// Labels are the labels of the mcpmesh_build_info metric, named as Prometheus's own
// build_info metrics name them.
func (i Info) Labels() map[string]string {
	return map[string]string{
		"version":     i.Version,
		"revision":    i.Commit,
		"commit_date": i.CommitDate,
		"goversion":   i.GoVersion,
		"platform":    i.Platform,
	}
}
