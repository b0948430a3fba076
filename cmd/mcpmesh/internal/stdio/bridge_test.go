package stdio

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

func TestForwardsJSONAndEventStreamLineByLine(t *testing.T) {
	mesh := newFakeMesh(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch rpcID(body) {
		case "1": // pretty-printed JSON: must arrive as one line
			writeJSON(w, http.StatusOK, "{\n  \"jsonrpc\": \"2.0\",\n  \"id\": 1,\n  \"result\": {\"tools\": []}\n}\n")
		case `"two"`:
			writeEvents(w,
				"id: s_1\ndata:\n\n", // priming event
				": keep-alive\n\n",
				"retry: 1000\n\n",
				// One message split over two data lines.
				"id: s_2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\n"+
					"data: \"params\":{\"progressToken\":\"p\",\"progress\":1}}\n\n",
				"id: s_3\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"a\\nb\"}}\r\n\r\n",
				"id: s_4\ndata: "+result(body, `{"content":[]}`)+"\n\n")
		}
	})
	h := startBridge(t, mesh.url())

	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	if got, want := h.next(), `{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}`; got != want {
		t.Errorf("JSON answer: got %s, want %s", got, want)
	}
	h.send(`{"jsonrpc":"2.0","id":"two","method":"tools/call","params":{"name":"slow"}}`)
	want := []string{
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":1}}`,
		`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"a\nb"}}`,
		`{"jsonrpc":"2.0","id":"two","result":{"content":[]}}`,
	}
	for i, w := range want {
		if got := h.next(); got != w {
			t.Errorf("event %d: got %s, want %s", i, got, w)
		}
	}
	if rest, err := h.closeStdin(); err != nil || len(rest) != 0 {
		t.Errorf("exit: %v, extra lines %q", err, rest)
	}
}

func TestConcurrentRequests(t *testing.T) {
	const streams, eventsPerStream = 16, 40
	slowMayFinish := make(chan struct{})
	payload := strings.Repeat("x", 8<<10)
	mesh := newFakeMesh(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch methodOf(body) {
		case "ping":
			writeJSON(w, http.StatusOK, result(body, `{}`))
		case "slow":
			<-slowMayFinish
			writeJSON(w, http.StatusOK, result(body, `{"slow":true}`))
		case "bulk":
			w.Header().Set("Content-Type", "text/event-stream")
			for i := range eventsPerStream {
				fmt.Fprintf(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"from\":%s,\"seq\":%d,\"data\":%q}}\n\n", rpcID(body), i, payload)
				w.(http.Flusher).Flush()
			}
			fmt.Fprintf(w, "data: %s\n\n", result(body, `{}`))
		}
	})
	h := startBridge(t, mesh.url())

	t.Run("a slow request does not block a ping", func(t *testing.T) {
		h.send(`{"jsonrpc":"2.0","id":"slow","method":"slow"}`)
		h.send(`{"jsonrpc":"2.0","id":"ping","method":"ping"}`)
		if l := decodeLine(t, h.next()); string(l.ID) != `"ping"` {
			t.Fatalf("first answer is for %s, want the ping's", l.ID)
		}
		close(slowMayFinish)
		if l := decodeLine(t, h.next()); string(l.ID) != `"slow"` {
			t.Fatalf("second answer is for %s, want the slow request's", l.ID)
		}
	})

	t.Run("concurrent streams never interleave lines", func(t *testing.T) {
		for i := range streams {
			h.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"bulk"}`, i))
		}
		next := map[int]int{} // per stream: next expected sequence number
		answered := 0
		for answered < streams {
			line := h.next()
			var m struct {
				ID     *int `json:"id"`
				Params struct {
					From int    `json:"from"`
					Seq  int    `json:"seq"`
					Data string `json:"data"`
				} `json:"params"`
			}
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("line is not one JSON message (interleaved?): %.200q: %v", line, err)
			}
			if m.ID != nil {
				if next[*m.ID] != eventsPerStream {
					t.Fatalf("stream %d answered after %d of %d events", *m.ID, next[*m.ID], eventsPerStream)
				}
				answered++
				continue
			}
			if m.Params.Seq != next[m.Params.From] || m.Params.Data != payload {
				t.Fatalf("stream %d: event %d out of order (want %d) or damaged", m.Params.From, m.Params.Seq, next[m.Params.From])
			}
			next[m.Params.From]++
		}
	})
	if rest, err := h.closeStdin(); err != nil || len(rest) != 0 {
		t.Errorf("exit: %v, extra lines %q", err, rest)
	}
}

func TestHTTPFailures(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		ctype   string
		body    string
		request string
		want    string // exact line; empty: check code and message instead
		wantMsg []string
	}{
		{name: "503 without a body", status: 503, request: `{"jsonrpc":"2.0","id":7,"method":"tools/list"}`,
			wantMsg: []string{"503 Service Unavailable"}},
		{name: "502 with an HTML body", status: 502, ctype: "text/html", body: "<html>\n<h1>Bad gateway</h1></html>",
			request: `{"jsonrpc":"2.0","id":"a","method":"tools/list"}`, wantMsg: []string{"HTTP 502 Bad Gateway", "Bad gateway"}},
		{name: "JSON-RPC error body goes through as it is", status: 400, ctype: "application/json",
			body:    `{"jsonrpc":"2.0","id":3,"error":{"code":-32020,"message":"Header mismatch","data":{"x":1}}}`,
			request: `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"x"}}`,
			want:    `{"jsonrpc":"2.0","id":3,"error":{"code":-32020,"message":"Header mismatch","data":{"x":1}}}`},
		{name: "id-less JSON-RPC error body gets the request's id", status: 403, ctype: "application/json",
			body:    `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Forbidden: Origin not allowed"}}`,
			request: `{"jsonrpc":"2.0","id":"r9","method":"ping"}`,
			want:    `{"jsonrpc":"2.0","id":"r9","error":{"code":-32600,"message":"Forbidden: Origin not allowed"}}`},
		{name: "202 for a request", status: 202, request: `{"jsonrpc":"2.0","id":4,"method":"ping"}`,
			wantMsg: []string{"202 Accepted", "without a response"}},
		{name: "a request before initialize is told to initialize, not about HTTP headers", status: 400, ctype: "application/json",
			body:    `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Bad Request: Mcp-Session-Id header is required"}}`,
			request: `{"jsonrpc":"2.0","id":5,"method":"tools/list"}`,
			want:    `{"jsonrpc":"2.0","id":5,"error":{"code":-32600,"message":"mcpmesh stdio: tools/list before initialize: send initialize first (or name a stateless protocol version in _meta)"}}`},
		{name: "invalid JSON from the client gets the mesh's parse error", status: 400, ctype: "application/json",
			body:    `{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"}}`,
			request: `{"jsonrpc":`,
			want:    `{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mesh := newFakeMesh(t, func(w http.ResponseWriter, r *http.Request, body string) {
				if rpcID(body) == `"again"` {
					writeJSON(w, http.StatusOK, result(body, `{}`))
					return
				}
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			h := startBridge(t, mesh.url())
			h.send(tt.request)
			line := h.next()
			if tt.want != "" {
				if line != tt.want {
					t.Errorf("got %s, want %s", line, tt.want)
				}
			} else {
				l := decodeLine(t, line)
				if string(l.ID) != rpcID(tt.request) || l.Error == nil || l.Error.Code != mcpproto.CodeInternalError {
					t.Fatalf("want a -32603 error with id %s, got %s", rpcID(tt.request), line)
				}
				for _, w := range tt.wantMsg {
					if !strings.Contains(l.Error.Message, w) {
						t.Errorf("message %q does not mention %q", l.Error.Message, w)
					}
				}
			}
			// The bridge keeps running after a failure.
			h.send(`{"jsonrpc":"2.0","id":"again","method":"ping"}`)
			if l := decodeLine(t, h.next()); string(l.ID) != `"again"` {
				t.Errorf("after the failure: answer for %s", l.ID)
			}
			if rest, err := h.closeStdin(); err != nil || len(rest) != 0 {
				t.Errorf("exit: %v, extra lines %q", err, rest)
			}
		})
	}
}

func TestFailedNotificationIsLoggedNotAnswered(t *testing.T) {
	mesh := newFakeMesh(t, func(w http.ResponseWriter, r *http.Request, body string) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	h := startBridge(t, mesh.url())
	h.send(`{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}`)
	h.send(`{"jsonrpc":"2.0","id":"s1","result":{}}`) // an answer to a server request
	rest, err := h.closeStdin()
	if err != nil || len(rest) != 0 {
		t.Errorf("exit: %v; stdout got %q, want nothing", err, rest)
	}
	logs := h.stderr.String()
	if strings.Count(logs, "http_status=503") != 2 || !strings.Contains(logs, "method=notifications/roots/list_changed") {
		t.Errorf("want both failures logged with their status, got:\n%s", logs)
	}
}

// statefulMesh answers like a 2025-11-25 mesh: initialize opens session "s-1", GET is
// served by get (405 when nil), DELETE answers 204.
func statefulMesh(t *testing.T, get func(w http.ResponseWriter, r *http.Request), other func(w http.ResponseWriter, r *http.Request, body string)) *fakeMesh {
	return newFakeMesh(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch {
		case r.Method == http.MethodGet && get != nil:
			get(w, r)
		case r.Method == http.MethodGet:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case methodOf(body) == "initialize":
			w.Header().Set("Mcp-Session-Id", "s-1")
			writeJSON(w, http.StatusOK, result(body, `{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"m","version":"1"}}`))
		case rpcID(body) == "" || methodOf(body) == "": // notifications and responses
			w.WriteHeader(http.StatusAccepted)
		case other != nil:
			other(w, r, body)
		default:
			writeJSON(w, http.StatusOK, result(body, `{}`))
		}
	})
}

const initializeLine = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`

func TestStatefulSessionAndEOF(t *testing.T) {
	mesh := statefulMesh(t, nil, nil)
	h := startBridge(t, mesh.url())
	h.send(initializeLine)
	h.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`) // waits for the session
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	if l := decodeLine(t, h.next()); string(l.ID) != "0" {
		t.Fatalf("first answer for %s, want initialize's", l.ID)
	}
	if l := decodeLine(t, h.next()); string(l.ID) != "1" {
		t.Fatalf("second answer for %s, want tools/list's", l.ID)
	}
	mesh.awaitRequest(t, func(s seen) bool { return s.method == http.MethodGet }) // 405: no stream
	rest, err := h.closeStdin()
	if err != nil || len(rest) != 0 {
		t.Fatalf("exit: %v, extra lines %q", err, rest)
	}

	var sawDelete bool
	for _, r := range mesh.requests() {
		sid, ver := r.header.Get("Mcp-Session-Id"), r.header.Get("Mcp-Protocol-Version")
		switch {
		case r.method == http.MethodPost && methodOf(r.body) == "initialize":
			if sid != "" || ver != "" {
				t.Errorf("initialize carried session %q, version %q", sid, ver)
			}
			if a := r.header.Get("Accept"); a != "application/json, text/event-stream" || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("initialize: Accept %q, Content-Type %q", a, r.header.Get("Content-Type"))
			}
		case r.method == http.MethodGet:
			if sid != "s-1" || ver != "2025-06-18" || r.header.Get("Accept") != "text/event-stream" {
				t.Errorf("GET: session %q, version %q, Accept %q", sid, ver, r.header.Get("Accept"))
			}
		default:
			if sid != "s-1" || ver != "2025-06-18" {
				t.Errorf("%s %s: session %q, version %q, want s-1 and 2025-06-18", r.method, methodOf(r.body), sid, ver)
			}
			sawDelete = sawDelete || r.method == http.MethodDelete
		}
	}
	if !sawDelete {
		t.Error("no DELETE of the session at EOF")
	}
}

func TestServerToClientRequestsOnTheGETStream(t *testing.T) {
	var mu sync.Mutex
	gets := 0
	mesh := statefulMesh(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gets++
		n := gets
		mu.Unlock()
		switch n {
		case 1: // a sampling request, then the connection drops
			writeEvents(w, "id: g_1\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"method\":\"sampling/createMessage\",\"params\":{\"messages\":[],\"maxTokens\":5}}\n\n")
		case 2: // resumed: a notification, then hold the stream open
			if r.Header.Get("Last-Event-ID") != "g_1" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			writeEvents(w, "id: g_2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n")
			<-r.Context().Done()
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}, nil)
	h := startBridge(t, mesh.url())
	h.send(initializeLine)
	h.next()
	h.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)

	if l := decodeLine(t, h.next()); l.Method != "sampling/createMessage" || string(l.ID) != `"srv-1"` {
		t.Fatalf("want the server's sampling request, got %+v", l)
	}
	answer := `{"jsonrpc":"2.0","id":"srv-1","result":{"role":"assistant","content":{"type":"text","text":"hi"},"model":"m"}}`
	h.send(answer)
	post := mesh.awaitRequest(t, func(s seen) bool { return s.method == http.MethodPost && rpcID(s.body) == `"srv-1"` })
	if post.body != answer || post.header.Get("Mcp-Session-Id") != "s-1" {
		t.Errorf("the client's answer reached the mesh as %q with session %q", post.body, post.header.Get("Mcp-Session-Id"))
	}
	if l := decodeLine(t, h.next()); l.Method != "notifications/tools/list_changed" {
		t.Fatalf("after reconnecting with Last-Event-ID: got %+v", l)
	}
	if rest, err := h.closeStdin(); err != nil || len(rest) != 0 {
		t.Errorf("exit: %v, extra lines %q", err, rest)
	}
}

func TestResumesABrokenRequestStream(t *testing.T) {
	mesh := statefulMesh(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Last-Event-ID") != "p_1" {
			w.WriteHeader(http.StatusMethodNotAllowed) // the standalone stream: none
			return
		}
		writeEvents(w, "id: p_2\ndata: {\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"resumed\":true}}\n\n")
	}, func(w http.ResponseWriter, r *http.Request, body string) {
		// The stream breaks off after a progress notification.
		writeEvents(w, "retry: 1\nid: p_1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1}}\n\n")
	})
	h := startBridge(t, mesh.url())
	h.send(initializeLine)
	h.next()
	h.send(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"slow"}}`)
	if l := decodeLine(t, h.next()); l.Method != "notifications/progress" {
		t.Fatalf("want the progress first, got %+v", l)
	}
	if got := h.next(); got != `{"jsonrpc":"2.0","id":9,"result":{"resumed":true}}` {
		t.Fatalf("want the resumed answer, got %s", got)
	}
	if rest, err := h.closeStdin(); err != nil || len(rest) != 0 {
		t.Errorf("exit: %v, extra lines %q", err, rest)
	}
}

func TestSessionGoneEndsTheBridge(t *testing.T) {
	mesh := statefulMesh(t, nil, func(w http.ResponseWriter, r *http.Request, body string) {
		writeJSON(w, http.StatusNotFound, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Session not found: re-initialize"}}`)
	})
	h := startBridge(t, mesh.url())
	h.send(initializeLine)
	h.next()
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if got := h.next(); got != `{"jsonrpc":"2.0","id":2,"error":{"code":-32600,"message":"Session not found: re-initialize"}}` {
		t.Errorf("got %s", got)
	}
	// stdin stays open: the bridge ends because the mesh ended the session.
	if rest, err := h.wait(); err != nil || len(rest) != 0 {
		t.Errorf("exit: %v, extra lines %q", err, rest)
	}
	for _, r := range mesh.requests() {
		if r.method == http.MethodDelete {
			t.Error("DELETE sent for a session the mesh no longer knows")
		}
	}
}

func TestCancelExitsCleanly(t *testing.T) {
	started := make(chan struct{})
	mesh := statefulMesh(t, nil, func(w http.ResponseWriter, r *http.Request, body string) {
		close(started)
		<-r.Context().Done() // never answers: the bridge abandons it after the drain time
	})
	h := startBridge(t, mesh.url())
	h.send(initializeLine)
	h.next()
	h.send(`{"jsonrpc":"2.0","id":"stuck","method":"tools/call","params":{"name":"slow"}}`)
	<-started
	h.cancel() // SIGINT / SIGTERM
	rest, err := h.wait()
	if err != nil {
		t.Errorf("exit: %v", err)
	}
	if len(rest) != 1 || !strings.Contains(rest[0], `"id":"stuck"`) || !strings.Contains(rest[0], "shutting down") {
		t.Errorf("want the stuck request answered with a shutdown error, got %q", rest)
	}
	deleted := false
	for _, r := range mesh.requests() {
		deleted = deleted || (r.method == http.MethodDelete && r.header.Get("Mcp-Session-Id") == "s-1")
	}
	if !deleted {
		t.Error("no DELETE of the session on cancel")
	}
}

func TestUnreachableMeshAtStart(t *testing.T) {
	// Take a free port and let it go: nothing listens there when the bridge starts.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	url := "http://" + addr + "/mcp"
	h := startBridge(t, url)

	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	l := decodeLine(t, h.next())
	if string(l.ID) != "1" || l.Error == nil || l.Error.Code != mcpproto.CodeInternalError ||
		!strings.Contains(l.Error.Message, "cannot reach the mesh at "+url) || !strings.Contains(l.Error.Message, "connection refused") {
		t.Fatalf("want a -32603 naming the unreachable mesh, got %+v", l)
	}

	// The mesh comes up on that address; the bridge, still running, reaches it.
	lis, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s was taken meanwhile: %v", addr, err)
	}
	mesh := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		writeJSON(w, http.StatusOK, result(string(b), `{"tools":[]}`))
	}))
	mesh.Listener = lis
	mesh.Start()
	t.Cleanup(mesh.Close)
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if got := h.next(); got != `{"jsonrpc":"2.0","id":2,"result":{"tools":[]}}` {
		t.Errorf("once the mesh is up: got %s", got)
	}
	if rest, err := h.closeStdin(); err != nil || len(rest) != 0 {
		t.Errorf("exit: %v, extra lines %q", err, rest)
	}
}

func TestTimeoutPerRequest(t *testing.T) {
	mesh := newFakeMesh(t, func(w http.ResponseWriter, r *http.Request, body string) {
		if methodOf(body) == "ping" {
			writeJSON(w, http.StatusOK, result(body, `{}`))
			return
		}
		writeEvents(w, ": working\n\n")
		<-r.Context().Done()
	})
	h := startBridge(t, mesh.url(), "-timeout", "100ms")
	h.send(`{"jsonrpc":"2.0","id":"t","method":"tools/call","params":{"name":"slow"}}`)
	l := decodeLine(t, h.next())
	if string(l.ID) != `"t"` || l.Error == nil || !strings.Contains(l.Error.Message, "no answer from the mesh within 100ms (-timeout)") {
		t.Fatalf("want a timeout error for the request, got %+v", l)
	}
	h.send(`{"jsonrpc":"2.0","id":"p","method":"ping"}`)
	if l := decodeLine(t, h.next()); string(l.ID) != `"p"` || l.Error != nil {
		t.Errorf("a quick request after the timeout: %+v", l)
	}
	if rest, err := h.closeStdin(); err != nil || len(rest) != 0 {
		t.Errorf("exit: %v, extra lines %q", err, rest)
	}
}

func TestBatchFailureAnswersEachRequest(t *testing.T) {
	mesh := newFakeMesh(t, func(w http.ResponseWriter, r *http.Request, body string) {
		w.WriteHeader(http.StatusBadGateway)
	})
	h := startBridge(t, mesh.url())
	h.send(`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":"b","method":"ping"}]`)
	for _, id := range []string{"1", `"b"`} {
		if l := decodeLine(t, h.next()); string(l.ID) != id || l.Error == nil || !strings.Contains(l.Error.Message, "502") {
			t.Errorf("want a 502 error for %s, got %+v", id, l)
		}
	}
	if rest, err := h.closeStdin(); err != nil || len(rest) != 0 {
		t.Errorf("exit: %v, extra lines %q", err, rest)
	}
}

func TestClosedStdoutEndsTheBridge(t *testing.T) {
	mesh := statefulMesh(t, nil, nil)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	_ = outR.Close() // the client stopped reading
	done := make(chan error, 1)
	go func() {
		done <- Main(t.Context(), []string{"-url", mesh.url()}, inR, outW, io.Discard)
	}()
	if _, err := io.WriteString(inW, initializeLine+"\n"); err != nil {
		t.Fatal(err)
	}
	mesh.awaitRequest(t, func(s seen) bool { return s.method == http.MethodDelete })
	if err := <-done; err != nil {
		t.Errorf("exit: %v", err)
	}
	_ = inW.Close()
}
