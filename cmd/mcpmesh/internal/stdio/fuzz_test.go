package stdio

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/paramheader"
)

func FuzzParseMessage(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"a"}}`))
	f.Add([]byte(`[{"id":1,"method":"a"},{"method":"b"}]`))
	f.Add([]byte(`{"id":"x","result":null}`))
	f.Add([]byte(`{"id":{},"method":1}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		m := parseMessage(line)
		if m.kind == kindRequest && (!isID(m.id) || m.method == "" && !bytes.Contains(line, []byte(`"method"`))) {
			t.Errorf("request without a usable id or method: %+v", m)
		}
		if m.hasName && m.statelessVersion == "" && m.method != "tools/call" && m.method != "prompts/get" && m.method != "resources/read" {
			t.Errorf("name set for %q", m.method)
		}
		_ = paramheader.Encode(m.name)
	})
}

func FuzzSSEReader(f *testing.F) {
	f.Add([]byte("id: a\ndata:\n\nretry: 10\ndata: {\"a\":1}\ndata: 2\n\n: c\n\n"))
	f.Add([]byte("data: x\r\n\r\nid: \x00\n\n"))
	f.Add([]byte("data"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := newSSEReader(bytes.NewReader(stream))
		for i := 0; ; i++ {
			ev, err := r.next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if i > len(stream) {
				t.Fatal("more events than bytes")
			}
			if len(ev.data) > len(stream) {
				t.Fatal("data longer than the stream")
			}
		}
	})
}

func FuzzParamHeaders(f *testing.F) {
	f.Add([]byte(`{"tools":[{"name":"t","inputSchema":{"properties":{"a":{"x-mcp-header":"A"},"o":{"properties":{"b":{"type":"integer","x-mcp-header":"B"}}}}}}]}`),
		[]byte(`{"a":"x","o":{"b":3}}`))
	f.Add([]byte(`{"tools":[{"name":"t","inputSchema":{"properties":{"a":{"x-mcp-header":1}}}}]}`), []byte(`{"a":[1]}`))
	f.Fuzz(func(t *testing.T, result, arguments []byte) {
		var p paramHeaders
		p.learn(result)
		h := http.Header{}
		for tool := range p.byTool {
			p.apply(h, tool, arguments)
		}
		for k, vs := range h {
			if !strings.HasPrefix(k, headerParamPrefix) || !paramheader.ValidName(k) {
				t.Errorf("bad header name %q", k)
			}
			for _, v := range vs {
				if _, err := paramheader.Decode(v); err != nil {
					t.Errorf("%s: value %q is not header-safe", k, v)
				}
			}
		}
	})
}
