package mcptest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// resultDefinitions names, per request method, the schema definition its result must
// satisfy. Methods missing here are checked at the envelope level only.
var resultDefinitions = map[string]string{
	"initialize":               "InitializeResult",
	"server/discover":          "DiscoverResult",
	"tools/list":               "ListToolsResult",
	"tools/call":               "CallToolResult",
	"resources/list":           "ListResourcesResult",
	"resources/templates/list": "ListResourceTemplatesResult",
	"resources/read":           "ReadResourceResult",
	"prompts/list":             "ListPromptsResult",
	"prompts/get":              "GetPromptResult",
	"completion/complete":      "CompleteResult",
}

// Recorder validates every JSON-RPC message that HTTP responses carry (JSON bodies and
// server-sent events) against the schema of the protocol version of its request.
type Recorder struct {
	schemas *Schemas
	readers sync.WaitGroup // event-stream readers still running

	mu       sync.Mutex
	checked  int
	problems []string
	methods  map[string]string // JSON-RPC id -> method, to pick the result definition
}

// NewRecorder returns a Recorder over schemas.
func NewRecorder(schemas *Schemas) *Recorder {
	return &Recorder{schemas: schemas, methods: map[string]string{}}
}

// Client returns an HTTP client whose responses are recorded.
func (r *Recorder) Client() *http.Client {
	return &http.Client{Transport: r.Transport(http.DefaultTransport)}
}

// Transport wraps base so that responses are recorded.
func (r *Recorder) Transport(base http.RoundTripper) http.RoundTripper {
	return roundTripper{r: r, base: base}
}

// ClientAt is Client for a transport that sends no MCP-Protocol-Version header (the
// 2024-11-05 HTTP+SSE transport): messages are checked against version's schema.
func (r *Recorder) ClientAt(version string) *http.Client {
	return &http.Client{Transport: roundTripper{r: r, base: http.DefaultTransport, version: version}}
}

type roundTripper struct {
	r    *Recorder
	base http.RoundTripper
	// version applies when a request carries no MCP-Protocol-Version header.
	version string
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	version := req.Header.Get("Mcp-Protocol-Version")
	if version == "" {
		version = rt.version
	}
	if req.Body != nil && req.Method == http.MethodPost {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		rt.r.noteRequest(body)
	}
	resp, err := rt.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	ct := resp.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "text/event-stream"):
		pr, pw := io.Pipe()
		body := resp.Body
		resp.Body = readCloser{Reader: io.TeeReader(body, pw), close: func() error { _ = pw.Close(); return body.Close() }}
		rt.r.readers.Add(1)
		go func() {
			defer rt.r.readers.Done()
			rt.r.readEvents(pr, version)
		}()
	case strings.HasPrefix(ct, "application/json"):
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		if len(bytes.TrimSpace(b)) > 0 && !strings.HasPrefix(req.URL.Path, "/v1/") {
			rt.r.Check(b, version)
		}
	}
	return resp, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (rc readCloser) Close() error { return rc.close() }

func (r *Recorder) noteRequest(body []byte) {
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	if json.Unmarshal(body, &msg) == nil && len(msg.ID) > 0 && msg.Method != "" {
		r.mu.Lock()
		r.methods[string(msg.ID)] = msg.Method
		r.mu.Unlock()
	}
}

// readEvents parses server-sent events and checks the data of each. Named events other
// than "message" (the 2024-11-05 transport's "endpoint") carry no JSON-RPC message.
func (r *Recorder) readEvents(rd io.Reader, version string) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var data []string
	name := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if joined := strings.Join(data, "\n"); strings.TrimSpace(joined) != "" && (name == "" || name == "message") {
				r.Check([]byte(joined), version)
			}
			data = data[:0]
			name = ""
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	_, _ = io.Copy(io.Discard, rd)
}

// Check validates one JSON-RPC message emitted by the server. An empty version means
// the message answers initialize: the negotiated version in its result is used.
func (r *Recorder) Check(msg []byte, version string) {
	var envelope struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(msg, &envelope); err != nil {
		r.fail("not JSON: %v: %s", err, msg)
		return
	}
	r.mu.Lock()
	method := r.methods[string(envelope.ID)]
	r.mu.Unlock()
	if version == "" {
		var init struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		_ = json.Unmarshal(envelope.Result, &init)
		version = init.ProtocolVersion
	}
	if version == "" {
		r.fail("cannot tell the protocol version of %s", msg)
		return
	}
	version = schemaVersion(version)
	r.validate(version, "JSONRPCMessage", msg, msg)
	switch {
	case envelope.Method != "" && len(envelope.ID) == 0:
		r.validate(version, "ServerNotification", msg, msg)
	case len(envelope.Result) > 0:
		def, ok := resultDefinitions[method]
		if inputRequired(envelope.Result) {
			// A multi round-trip answer (2026-07-28): only these three requests may
			// end with one (MRTR "Supported Requests").
			if !mrtrMethods[method] {
				r.fail("%s answered with input_required: %s", method, msg)
			}
			def, ok = "InputRequiredResult", true
		}
		if ok {
			r.validate(version, def, envelope.Result, msg)
		}
	}
	r.mu.Lock()
	r.checked++
	r.mu.Unlock()
}

// mrtrMethods may answer with an InputRequiredResult.
var mrtrMethods = map[string]bool{"tools/call": true, "prompts/get": true, "resources/read": true}

func inputRequired(result json.RawMessage) bool {
	var r struct {
		ResultType string `json:"resultType"`
	}
	return json.Unmarshal(result, &r) == nil && r.ResultType == "input_required"
}

// schemaVersion maps a version without a schema (an unsupported one a test sent on
// purpose) to the newest schema of the generation it belongs to: the server's error
// answer must still be a valid message of that generation.
func schemaVersion(v string) string {
	if knownVersions[v] {
		return v
	}
	if v >= "2026-07-28" {
		return "2026-07-28"
	}
	return "2025-11-25"
}

var knownVersions = map[string]bool{"2024-11-05": true, "2025-03-26": true, "2025-06-18": true, "2025-11-25": true, "2026-07-28": true}

func (r *Recorder) validate(version, def string, doc, whole []byte) {
	sch, err := r.schemas.Definition(version, def)
	if err != nil {
		r.fail("%v", err)
		return
	}
	if sch == nil {
		return // this version has no such definition
	}
	v, err := decode(doc)
	if err != nil {
		r.fail("decode %s: %v", whole, err)
		return
	}
	if err := sch.Validate(v); err != nil {
		r.fail("%s message does not satisfy %s: %v\nmessage: %s", version, def, err, whole)
	}
}

func decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

func (r *Recorder) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// Verify fails t for every invalid message, and when no message was checked at all.
// Call it after closing the clients, so that every event stream has ended.
func (r *Recorder) Verify(t testing.TB) {
	t.Helper()
	r.readers.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		t.Error(p)
	}
	if r.checked == 0 {
		t.Error("no JSON-RPC message was recorded: the schema check checked nothing")
	}
	t.Logf("schema-checked %d server messages", r.checked)
}
