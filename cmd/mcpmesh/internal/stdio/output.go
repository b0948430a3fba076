package stdio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// errInvalidJSON is a message from the mesh that is not JSON; it is not forwarded.
var errInvalidJSON = errors.New("not valid JSON")

// lineWriter writes JSON-RPC messages to the client, one compact line each. Whole
// lines are written under a lock, so concurrent answers never interleave.
type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	err    error
	failed chan struct{} // closed at the first write error: the client is gone
}

func newLineWriter(w io.Writer) *lineWriter {
	return &lineWriter{w: w, failed: make(chan struct{})}
}

// write sends msg as one line. JSON strings cannot hold raw newlines, so compacting
// removes every newline a pretty-printed message had.
func (l *lineWriter) write(msg []byte) error {
	var buf bytes.Buffer
	buf.Grow(len(msg) + 1)
	if err := json.Compact(&buf, msg); err != nil {
		return fmt.Errorf("%w: %w", errInvalidJSON, err)
	}
	buf.WriteByte('\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if _, err := l.w.Write(buf.Bytes()); err != nil {
		l.err = fmt.Errorf("write to stdout: %w", err)
		close(l.failed)
		return l.err
	}
	return nil
}
