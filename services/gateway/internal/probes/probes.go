// Package probes serves the gateway's Kubernetes-style probes: /healthz (liveness),
// /readyz (readiness, including the process's other components) and /startupz.
package probes

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// readyTimeout bounds the readiness check of the other components.
const readyTimeout = 2 * time.Second

// State is the gateway's own lifecycle as the probes report it.
type State struct {
	started  atomic.Bool
	stopping atomic.Bool
	ready    func(context.Context) error
}

// New returns a State. ready checks the rest of the process; nil means always ready.
func New(ready func(context.Context) error) *State {
	return &State{ready: ready}
}

// MarkStarted records that the server accepts connections.
func (s *State) MarkStarted() { s.started.Store(true) }

// MarkStopping records that shutdown began: readiness and liveness turn 503 so load
// balancers stop routing here while in-flight requests drain.
func (s *State) MarkStopping() { s.stopping.Store(true) }

// Stopping reports whether shutdown began.
func (s *State) Stopping() bool { return s.stopping.Load() }

// Healthz answers 200 while the process serves, 503 once shutdown began.
func (s *State) Healthz(w http.ResponseWriter, _ *http.Request) {
	if s.stopping.Load() {
		writeText(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	writeText(w, http.StatusOK, "ok")
}

// Readyz answers 200 when not stopping and the ready check passes, else 503 with the
// reason.
func (s *State) Readyz(w http.ResponseWriter, r *http.Request) {
	if s.stopping.Load() {
		writeText(w, http.StatusServiceUnavailable, "not ready: shutting down")
		return
	}
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
	}
	writeText(w, http.StatusOK, "ok")
}

// Startupz answers 200 once the server accepts connections.
func (s *State) Startupz(w http.ResponseWriter, _ *http.Request) {
	if !s.started.Load() {
		writeText(w, http.StatusServiceUnavailable, "starting")
		return
	}
	writeText(w, http.StatusOK, "ok")
}

func writeText(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}
