package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
)

func TestVersionCommandAndFlag(t *testing.T) {
	buildVersion, commit, commitDate = "v1.2.3", "0123456789abcdef0123456789abcdef01234567", "2026-11-30T08:00:00Z"
	t.Cleanup(func() { buildVersion, commit, commitDate = "", "", "" })
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), args, nil, &stdout, &stderr); err != nil {
				t.Fatalf("run %v: %v (stderr %q)", args, err, stderr.String())
			}
			for _, want := range []string{
				"mcpmesh v1.2.3\n",
				"commit:      0123456789abcdef0123456789abcdef01234567\n",
				"commit date: 2026-11-30T08:00:00Z\n",
				"go:          " + runtime.Version() + "\n",
				"platform:    " + runtime.GOOS + "/" + runtime.GOARCH + "\n",
			} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("output %q lacks %q", stdout.String(), want)
				}
			}
		})
	}
}
