package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// reloadDebounce gathers the several events one save makes (write, chmod, rename)
// into one reload.
const reloadDebounce = 200 * time.Millisecond

// watchReload calls reload when the configuration file changes and on SIGHUP, until
// ctx ends. It watches the file's directory rather than the file: editors replace
// files, and Kubernetes swaps a ConfigMap's symlink, and both would end a watch on the
// file itself. An empty file means SIGHUP only. It returns once watching has begun.
func watchReload(ctx context.Context, file string, logger *slog.Logger, reload func()) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var events chan fsnotify.Event
	var errs chan error
	var w *fsnotify.Watcher
	if file != "" {
		var err error
		if w, err = fsnotify.NewWatcher(); err != nil {
			signal.Stop(hup)
			return err
		}
		if err := w.Add(filepath.Dir(file)); err != nil {
			signal.Stop(hup)
			return errors.Join(err, w.Close())
		}
		events, errs = w.Events, w.Errors
	}
	name := filepath.Clean(file)
	go func() {
		defer signal.Stop(hup)
		if w != nil {
			defer func() { _ = w.Close() }()
		}
		var debounce <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				logger.Info("SIGHUP: reloading auth.policy")
				reload()
			case ev := <-events:
				// The file itself, or (for a ConfigMap) the ..data symlink beside it.
				if filepath.Clean(ev.Name) == name || filepath.Base(ev.Name) == "..data" {
					debounce = time.After(reloadDebounce)
				}
			case <-debounce:
				debounce = nil
				logger.Info("configuration file changed: reloading auth.policy", "file", file)
				reload()
			case err := <-errs:
				logger.Warn("watching the configuration file", "file", file, "error", err)
			}
		}
	}()
	return nil
}
