package federation

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// The SDK client hands notifications to their handlers on another goroutine than the
// one that completes requests, so a tool's last progress or log message may reach a
// handler after the call has returned, too late for the call's stream. The tap reads
// them where they arrive instead, in the upstream's byte stream (a stdio upstream's
// stdout, an HTTP upstream's SSE bodies): a notification is forwarded before the
// bytes that follow it, the call's result among them, reach the SDK.

// maxTappedLine bounds the line the tap keeps while it waits for the line's end;
// longer lines (large results) pass through unexamined.
const maxTappedLine = 1 << 20

// lineTap passes reads through and gives each complete line to onLine first.
type lineTap struct {
	r       io.ReadCloser
	onLine  func(line []byte)
	partial []byte
	skip    bool // the current line is longer than maxTappedLine
}

func (t *lineTap) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	chunk := p[:n]
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 {
			t.keep(chunk)
			break
		}
		t.keep(chunk[:i])
		if !t.skip {
			t.onLine(t.partial)
		}
		t.partial, t.skip = t.partial[:0], false
		chunk = chunk[i+1:]
	}
	return n, err
}

func (t *lineTap) keep(b []byte) {
	if t.skip {
		return
	}
	if len(t.partial)+len(b) > maxTappedLine {
		t.partial, t.skip = t.partial[:0], true
		return
	}
	t.partial = append(t.partial, b...)
}

func (t *lineTap) Close() error { return t.r.Close() }

// notificationLine returns the method and params of a JSON-RPC notification of
// interest in one line of a stdio stream or of an SSE body ("data: {...}").
func notificationLine(line []byte) (method string, params json.RawMessage, ok bool) {
	line = bytes.TrimPrefix(bytes.TrimSpace(line), []byte("data:"))
	// Most lines are results and requests: a cheap look first.
	if !bytes.Contains(line, []byte(`"notifications/progress"`)) && !bytes.Contains(line, []byte(`"notifications/message"`)) {
		return "", nil, false
	}
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(line), &msg); err != nil || msg.ID != nil {
		return "", nil, false
	}
	return msg.Method, msg.Params, true
}

// tapTransport taps the SSE bodies of an HTTP upstream's responses.
type tapTransport struct {
	next   http.RoundTripper
	onLine func([]byte)
	// forCall, when set, returns a further tap for the response to a POST whose body
	// it recognises (nil for others).
	forCall func(body []byte) func([]byte)
}

func (t tapTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var perCall func([]byte)
	if t.forCall != nil && req.Method == http.MethodPost && req.GetBody != nil {
		// The SDK's request bodies are in memory; GetBody reads them again.
		if body, err := req.GetBody(); err == nil {
			b, err := io.ReadAll(body)
			_ = body.Close()
			if err == nil {
				perCall = t.forCall(b)
			}
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err == nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		onLine := t.onLine
		if perCall != nil {
			onLine = func(line []byte) { t.onLine(line); perCall(line) }
		}
		resp.Body = &lineTap{r: resp.Body, onLine: onLine}
	}
	return resp, err
}
