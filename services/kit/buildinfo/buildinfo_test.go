package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	vcs := &debug.BuildInfo{
		GoVersion: "go1.99.1",
		Main:      debug.Module{Path: "github.com/mcpmesh/mcpmesh/cmd/mcpmesh", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-01T09:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	installed := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "v1.4.2"}}
	tests := []struct {
		name  string
		stamp Stamp
		bi    *debug.BuildInfo
		want  Info
	}{
		{
			name:  "stamped by the Makefile: the stamp wins over the toolchain's record",
			stamp: Stamp{Version: "v1.2.3", Commit: "fedcba9876543210fedcba9876543210fedcba98", CommitDate: "2026-11-30T08:00:00Z"},
			bi:    vcs,
			want:  Info{Version: "v1.2.3", Commit: "fedcba9876543210fedcba9876543210fedcba98", CommitDate: "2026-11-30T08:00:00Z", GoVersion: "go1.99.1"},
		},
		{
			name: "go build with VCS stamping: commit and date from git, version dev",
			bi:   vcs,
			want: Info{Version: DevVersion, Commit: "0123456789abcdef0123456789abcdef01234567-dirty", CommitDate: "2026-12-01T09:00:00Z", GoVersion: "go1.99.1"},
		},
		{
			name: "go install of a tagged module: its module version",
			bi:   installed,
			want: Info{Version: "v1.4.2", Commit: unknown, CommitDate: unknown, GoVersion: "go1.99.1"},
		},
		{
			name: "nothing recorded",
			want: Info{Version: DevVersion, Commit: unknown, CommitDate: unknown, GoVersion: runtime.Version()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Platform = runtime.GOOS + "/" + runtime.GOARCH
			if got := resolve(tt.stamp, tt.bi); got != tt.want {
				t.Errorf("resolve() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestInfoString(t *testing.T) {
	got := Info{Version: "v1.2.3", Commit: "abc", CommitDate: "2026-11-30T08:00:00Z", GoVersion: "go1.26.8", Platform: "linux/arm64"}.String()
	for _, want := range []string{"mcpmesh v1.2.3\n", "commit:      abc\n", "commit date: 2026-11-30T08:00:00Z\n", "go:          go1.26.8\n", "platform:    linux/arm64\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("String() = %q, missing %q", got, want)
		}
	}
}
