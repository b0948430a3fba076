package stdio

import (
	"net/http"
	"strings"
	"testing"
)

func TestMirrorsAnnotatedArgumentsIntoHeaders(t *testing.T) {
	tools := `{"tools":[
	  {"name":"sql","inputSchema":{"type":"object","properties":{
	    "region":{"type":"string","x-mcp-header":"Region"},
	    "greeting":{"type":"string","x-mcp-header":"Greeting"},
	    "count":{"type":"integer","x-mcp-header":"Count"},
	    "opts":{"type":"object","properties":{"dry":{"type":"boolean","x-mcp-header":"Dry"}}},
	    "absent":{"type":"string","x-mcp-header":"Absent"},
	    "query":{"type":"string"}}}},
	  {"name":"bad-name","inputSchema":{"type":"object","properties":{"a":{"type":"string","x-mcp-header":"Bad Name"}}}},
	  {"name":"bad-type","inputSchema":{"type":"object","properties":{"a":{"type":"number","x-mcp-header":"Ratio"}}}},
	  {"name":"twice","inputSchema":{"type":"object","properties":{"a":{"x-mcp-header":"X"},"b":{"x-mcp-header":"x"}}}},
	  {"name":"plain","inputSchema":{"type":"object"}}],
	  "resultType":"complete","ttlMs":0,"cacheScope":"public"}`
	mesh := newFakeMesh(t, func(w http.ResponseWriter, r *http.Request, body string) {
		if methodOf(body) == "tools/list" {
			writeJSON(w, http.StatusOK, result(body, tools))
			return
		}
		writeJSON(w, http.StatusOK, result(body, `{"resultType":"complete","content":[]}`))
	})
	h := startBridge(t, mesh.url())

	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{` + meta + `}}`)
	listed := h.next()
	for _, name := range []string{`"sql"`, `"plain"`} {
		if !strings.Contains(listed, name) {
			t.Errorf("tools/list lost %s: %s", name, listed)
		}
	}
	for _, name := range []string{`"bad-name"`, `"bad-type"`, `"twice"`} {
		if strings.Contains(listed, name) {
			t.Errorf("tools/list keeps %s, whose x-mcp-header is invalid: %s", name, listed)
		}
	}
	if !strings.Contains(listed, `"cacheScope":"public"`) {
		t.Errorf("tools/list lost other result fields: %s", listed)
	}

	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{` + meta + `,"name":"sql","arguments":{"region":"us-west1","greeting":"Hello, 世界","count":42,"opts":{"dry":true},"query":"SELECT 1"}}}`)
	h.next()
	r := mesh.awaitRequest(t, func(s seen) bool { return rpcID(s.body) == "2" })
	want := map[string]string{
		"Mcp-Param-Region":   "us-west1",
		"Mcp-Param-Greeting": "=?base64?SGVsbG8sIOS4lueVjA==?=",
		"Mcp-Param-Count":    "42",
		"Mcp-Param-Dry":      "true",
		"Mcp-Param-Absent":   "",
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if rest, err := h.closeStdin(); err != nil || len(rest) != 0 {
		t.Errorf("exit: %v, extra lines %q", err, rest)
	}
}
