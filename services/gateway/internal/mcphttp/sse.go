package mcphttp

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// errStreamClosed is returned by writes after close.
var errStreamClosed = errors.New("event stream closed")

// sseWriter writes server-sent events. A timer (not a goroutine) writes a keepalive
// comment when the stream has been quiet for the keepalive interval; the mutex keeps
// it from interleaving with events.
type sseWriter struct {
	w         http.ResponseWriter
	flusher   http.Flusher
	keepalive time.Duration

	mu     sync.Mutex
	timer  *time.Timer
	closed bool
	err    error // first write error; the stream is dead after it
	// retryMs, when > 0, is written as the retry field of the next event (the
	// transport's priming event), then cleared.
	retryMs int32
}

func newSSEWriter(w http.ResponseWriter, keepalive time.Duration) *sseWriter {
	s := &sseWriter{w: w, keepalive: keepalive}
	s.flusher, _ = w.(http.Flusher)
	if keepalive > 0 {
		s.timer = time.AfterFunc(keepalive, s.ping)
	}
	return s
}

// event writes one message. Lines of data that contain line breaks become several
// data: fields, so any JSON formatting survives; an id with a line break is dropped
// (it would end the field early). Empty data is the priming event of a resumable
// stream: "id: X\ndata:\n\n", which clients skip after noting its id.
func (s *sseWriter) event(id string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.err != nil {
		return s.fail(errStreamClosed)
	}
	if id != "" && !strings.ContainsAny(id, "\r\n") {
		s.write("id: ")
		s.write(id)
		s.write("\n")
	}
	if s.retryMs > 0 {
		var buf [32]byte
		b := append(buf[:0], "retry: "...)
		b = strconv.AppendInt(b, int64(s.retryMs), 10)
		s.writeBytes(append(b, '\n'))
		s.retryMs = 0
	}
	if len(data) == 0 {
		s.write("data:\n")
	}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexAny(data, "\r\n"); i < 0 {
			data = nil
		} else {
			line = data[:i]
			skip := 1
			if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
				skip = 2
			}
			data = data[i+skip:]
		}
		s.write("data: ")
		s.writeBytes(line)
		s.write("\n")
	}
	s.write("\n")
	return s.flushLocked()
}

// named writes an event with an event name (the 2024-11-05 transport's "endpoint" and
// "message" events) and one line of data.
func (s *sseWriter) named(name string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.err != nil {
		return s.fail(errStreamClosed)
	}
	if bytes.ContainsAny(data, "\r\n") {
		return errors.New("event data must be one line")
	}
	s.write("event: ")
	s.write(name)
	s.write("\ndata: ")
	s.writeBytes(data)
	s.write("\n\n")
	return s.flushLocked()
}

// retryWithNextEvent sets the reconnection delay hint (ms) that the next event
// carries; the transport's priming event comes first on stateful streams, so the hint
// arrives with the first event id, as MCP asks (SEP-1699).
func (s *sseWriter) retryWithNextEvent(ms int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryMs = ms
}

// flush sends whatever is buffered (the headers, at the start).
func (s *sseWriter) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked()
}

// ping is the keepalive timer's callback.
func (s *sseWriter) ping() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.err != nil {
		return
	}
	s.write(": keepalive\n\n")
	_ = s.flushLocked()
}

// close stops the keepalive; after it returns no write touches the ResponseWriter.
func (s *sseWriter) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
}

func (s *sseWriter) write(str string) {
	if s.err == nil {
		_, s.err = io.WriteString(s.w, str)
	}
}

func (s *sseWriter) writeBytes(b []byte) {
	if s.err == nil {
		_, s.err = s.w.Write(b)
	}
}

// flushLocked flushes and re-arms the keepalive: it is due after a quiet interval.
func (s *sseWriter) flushLocked() error {
	if s.err == nil && s.flusher != nil {
		s.flusher.Flush()
	}
	if s.timer != nil && s.err == nil {
		s.timer.Reset(s.keepalive)
	}
	return s.err
}

func (s *sseWriter) fail(err error) error {
	if s.err != nil {
		return s.err
	}
	return err
}
