package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestWatchReload: rewriting the configuration file (in place, or by replacing it as
// editors do) and SIGHUP each cause a reload; a file beside it does not.
func TestWatchReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mcpmesh.yaml")
	if err := os.WriteFile(file, []byte("auth: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reloads := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := watchReload(ctx, file, slog.New(slog.DiscardHandler), func() { reloads <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	expect := func(what string) {
		t.Helper()
		select {
		case <-reloads:
		case <-time.After(10 * time.Second):
			t.Fatalf("no reload after %s", what)
		}
	}
	if err := os.WriteFile(file, []byte("auth:\n  policy: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	expect("a write")
	tmp := filepath.Join(dir, "new.yaml")
	if err := os.WriteFile(tmp, []byte("auth: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	expect("a replacement")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	expect("SIGHUP")
	// Let events of the steps above settle, then drain their reloads.
	time.Sleep(3 * reloadDebounce)
	for len(reloads) > 0 {
		<-reloads
	}
	if err := os.WriteFile(filepath.Join(dir, "other.yaml"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reloads:
		t.Fatal("a change of another file reloaded")
	case <-time.After(3 * reloadDebounce):
	}
}
