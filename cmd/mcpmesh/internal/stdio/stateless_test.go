package stdio

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/paramheader"
)

const meta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`

func TestStatelessHeaders(t *testing.T) {
	tests := []struct {
		name     string
		line     string
		wantName string // "" = no Mcp-Name header
	}{
		{"tools/call", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{` + meta + `,"name":"echo","arguments":{}}}`, "echo"},
		{"prompts/get", `{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"greet",` + meta + `}}`, "greet"},
		{"resources/read", `{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{` + meta + `,"uri":"file:///a b.txt"}}`, "file:///a b.txt"},
		{"non-ASCII name", `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{` + meta + `,"name":"héllo"}}`, "=?base64?aMOpbGxv?="},
		{"name that looks encoded", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{` + meta + `,"name":"=?base64?x?="}}`, "=?base64?PT9iYXNlNjQ/eD89?="},
		{"tools/list", `{"jsonrpc":"2.0","id":6,"method":"tools/list","params":{` + meta + `}}`, ""},
		{"server/discover", `{"jsonrpc":"2.0","id":7,"method":"server/discover","params":{` + meta + `}}`, ""},
	}
	mesh := statefulMesh(t, nil, nil)
	h := startBridge(t, mesh.url())
	// A stateful session is open too: stateless messages must not carry it.
	h.send(initializeLine)
	h.next()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.send(tt.line)
			if l := decodeLine(t, h.next()); string(l.ID) != rpcID(tt.line) {
				t.Fatalf("answer for %s, want %s", l.ID, rpcID(tt.line))
			}
			r := mesh.awaitRequest(t, func(s seen) bool { return rpcID(s.body) == rpcID(tt.line) })
			want := map[string]string{
				"Mcp-Protocol-Version": "2026-07-28",
				"Mcp-Method":           methodOf(tt.line),
				"Mcp-Name":             tt.wantName,
				"Mcp-Session-Id":       "",
				"Accept":               "application/json, text/event-stream",
			}
			for k, v := range want {
				if got := r.header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if r.body != tt.line {
				t.Errorf("body changed on the way: %s", r.body)
			}
		})
	}
	if _, err := h.closeStdin(); err != nil {
		t.Error(err)
	}
}

func TestCancellingAStatelessRequestClosesItsStream(t *testing.T) {
	closed := make(chan struct{})
	mesh := newFakeMesh(t, func(w http.ResponseWriter, r *http.Request, body string) {
		if methodOf(body) == "tools/call" {
			writeEvents(w, ": started\n\n")
			<-r.Context().Done()
			close(closed)
			return
		}
		writeJSON(w, http.StatusOK, result(body, `{"resultType":"complete"}`))
	})
	h := startBridge(t, mesh.url())
	h.send(`{"jsonrpc":"2.0","id":"long","method":"tools/call","params":{` + meta + `,"name":"slow"}}`)
	mesh.awaitRequest(t, func(s seen) bool { return rpcID(s.body) == `"long"` })
	h.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"long","reason":"user"}}`)
	<-closed
	h.send(`{"jsonrpc":"2.0","id":"after","method":"tools/list","params":{` + meta + `}}`)
	if l := decodeLine(t, h.next()); string(l.ID) != `"after"` {
		t.Fatalf("want only the later request's answer, got %+v", l)
	}
	rest, err := h.closeStdin()
	if err != nil || len(rest) != 0 {
		t.Errorf("exit: %v; a cancelled request must not be answered, got %q", err, rest)
	}
	for _, r := range mesh.requests() {
		if methodOf(r.body) == "notifications/cancelled" {
			t.Error("notifications/cancelled was POSTed; the 2026-07-28 transport cancels by closing the stream")
		}
	}
}

func TestCancellingAStatefulRequestForwardsTheNotification(t *testing.T) {
	mesh := statefulMesh(t, nil, func(w http.ResponseWriter, r *http.Request, body string) {
		writeEvents(w, "id: c_1\ndata:\n\n")
		<-r.Context().Done()
	})
	h := startBridge(t, mesh.url())
	h.send(initializeLine)
	h.next()
	h.send(`{"jsonrpc":"2.0","id":"long","method":"tools/call","params":{"name":"slow"}}`)
	mesh.awaitRequest(t, func(s seen) bool { return rpcID(s.body) == `"long"` })
	h.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"long"}}`)
	n := mesh.awaitRequest(t, func(s seen) bool { return methodOf(s.body) == "notifications/cancelled" })
	if n.header.Get("Mcp-Session-Id") != "s-1" {
		t.Errorf("cancellation sent without the session: %v", n.header)
	}
	// The mesh sends no answer for a cancelled request; neither does the bridge.
	rest, err := h.closeStdin()
	if err != nil || len(rest) != 0 {
		t.Errorf("exit: %v; got %q, want no answer for the cancelled request", err, rest)
	}
}

func TestEncodeHeaderValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"us-west1", "us-west1"},
		{"get_weather", "get_weather"},
		{"file:///projects/myapp/config.json", "file:///projects/myapp/config.json"},
		{"a b", "a b"},
		{"", ""},
		// The spec's examples (2026-07-28 streamable-http, Value Encoding).
		{"Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="},
		{" padded ", "=?base64?IHBhZGRlZCA=?="},
		{"line1\nline2", "=?base64?bGluZTEKbGluZTI=?="},
		{"=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="},
		{"tab\tinside", "=?base64?dGFiCWluc2lkZQ==?="},
	}
	for _, tt := range tests {
		if got := paramheader.Encode(tt.in); got != tt.want {
			t.Errorf("paramheader.Encode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseMessage(t *testing.T) {
	tests := []struct {
		line      string
		kind      kind
		id        string
		stateless string
		name      string
		cancelID  string
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"ping"}`, kindRequest, "1", "", "", ""},
		{`{"jsonrpc":"2.0","id": "a b" ,"method":"tools/call","params":{"name":"x"}}`, kindRequest, `"a b"`, "", "x", ""},
		{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, kindNotification, "", "", "", ""},
		{`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}`, kindNotification, "", "", "", "7"},
		{`{"jsonrpc":"2.0","id":"s","result":{}}`, kindResponse, "", "", "", ""},
		{`{"jsonrpc":"2.0","id":"s","error":{"code":1,"message":"m"}}`, kindResponse, "", "", "", ""},
		{`{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{` + meta + `,"uri":"u://x"}}`, kindRequest, "2", "2026-07-28", "u://x", ""},
		{`{"jsonrpc":"2.0","id":null,"method":"ping"}`, kindInvalid, "", "", "", ""},
		{`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, kindBatch, "", "", "", ""},
		{`not json`, kindInvalid, "", "", "", ""},
		{`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":[1]}`, kindRequest, "3", "", "", ""},
	}
	for _, tt := range tests {
		m := parseMessage([]byte(tt.line))
		if m.kind != tt.kind || string(m.id) != tt.id || m.statelessVersion != tt.stateless || m.name != tt.name || string(m.cancelID) != tt.cancelID {
			t.Errorf("parseMessage(%s) = kind %d id %s version %q name %q cancel %s; want %d %s %q %q %s",
				tt.line, m.kind, m.id, m.statelessVersion, m.name, m.cancelID, tt.kind, tt.id, tt.stateless, tt.name, tt.cancelID)
		}
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"-url", "http://127.0.0.1:1/mcp", "-header", "Authorization: Bearer x", "-header", "X-A:b", "-timeout", "5s"}, ""},
		{nil, "-url is required"},
		{[]string{"-url", "ftp://host/mcp"}, "want an http or https URL"},
		{[]string{"-url", "http:///mcp"}, "want an http or https URL"},
		{[]string{"-url", "http://h/mcp", "-header", "no colon"}, `want "Key: Value"`},
		{[]string{"-url", "http://h/mcp", "-header", "Bad Name: v"}, `want "Key: Value"`},
		{[]string{"-url", "http://h/mcp", "-timeout", "-1s"}, "-timeout: must not be negative"},
		{[]string{"-url", "http://h/mcp", "-log.level", "loud"}, "log.level"},
		{[]string{"-url", "http://h/mcp", "extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		opts, err := parseFlags(tt.args, &syncBuffer{})
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.args, err)
			} else if opts.headers.Get("Authorization") != "Bearer x" || opts.headers.Get("X-A") != "b" {
				t.Errorf("%q: headers %v", tt.args, opts.headers)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%q: error %v, want one containing %q", tt.args, err, tt.wantErr)
		}
	}
}

func TestMainSendsExtraHeadersAndExitsAtEOF(t *testing.T) {
	mesh := newFakeMesh(t, func(w http.ResponseWriter, r *http.Request, body string) {
		writeJSON(w, http.StatusOK, result(body, `{}`))
	})
	var stdout, stderr syncBuffer
	stdin := strings.NewReader("\n" + `{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n   \n")
	err := Main(t.Context(), []string{"-url", mesh.url(), "-header", "Authorization: Bearer t0k"}, stdin, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != `{"jsonrpc":"2.0","id":1,"result":{}}`+"\n" {
		t.Errorf("stdout %q", got)
	}
	if r := mesh.requests(); len(r) != 1 || r[0].header.Get("Authorization") != "Bearer t0k" {
		t.Errorf("requests %+v, want one with the Authorization header", r)
	}
	if err := Main(t.Context(), []string{"-h"}, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Errorf("-h: %v", err)
	}
	if err := Main(t.Context(), nil, strings.NewReader(""), &stdout, &stderr); err == nil {
		t.Error("no -url: want an error")
	}
}
