package everything

import (
	"context"
	"encoding/json"
	"testing"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"

	"github.com/mcpmesh/mcpmesh/services/everything/internal/tools"
)

// FuzzToolArguments feeds untrusted argument bytes to the tools that decode arguments:
// every input must end in a result (a tool error for bad input), never a Go error.
func FuzzToolArguments(f *testing.F) {
	for _, seed := range []string{``, `null`, `{}`, `{"message":"hi"}`, `{"a":1,"b":2}`, `{"a":"1"}`, `[`, `"x"`,
		`{"name":"n","address":{"city":"c"}}`, `{"prompt":"p"}`, `{"message":null}`, `{"a":1e400,"b":1}`} {
		f.Add([]byte(seed))
	}
	p, err := New(DefaultConfig(), Deps{})
	if err != nil {
		f.Fatal(err)
	}
	names := []string{"echo", "add", "json_schema_2020_12_tool", "test_sampling", "test_elicitation", "get-image"}
	rc := &mcpv1.RequestContext{Client: &mcpv1.ClientIdentity{Capabilities: []byte(`{"sampling":{},"elicitation":{}}`)}}
	f.Fuzz(func(t *testing.T, args []byte) {
		for _, name := range names {
			tool, _ := p.tools.Lookup(name)
			out, err := tool.Run(context.Background(), &tools.Call{Name: name, Arguments: args, Context: rc, Emit: &recordingEmitter{}})
			if err != nil {
				t.Fatalf("%s(%q): %v", name, args, err)
			}
			if out.Result == nil && out.InputRequired == nil {
				t.Fatalf("%s(%q): no outcome", name, args)
			}
			if out.Result != nil && !json.Valid(out.Result.GetContent()) {
				t.Fatalf("%s(%q): invalid content %s", name, args, out.Result.GetContent())
			}
		}
	})
}

// FuzzInputResponses feeds untrusted client answers to the sampling and elicitation tools.
func FuzzInputResponses(f *testing.F) {
	for _, seed := range []string{`{"role":"assistant","content":{"type":"text","text":"x"}}`, `{"content":[]}`,
		`{"action":"accept","content":{"a":1}}`, `{"action":"accept","content":5}`, `null`, `[`, ``} {
		f.Add([]byte(seed))
	}
	p, err := New(DefaultConfig(), Deps{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, answer []byte) {
		for name, key := range map[string]string{"test_sampling": "sampling", "test_elicitation": "elicitation"} {
			tool, _ := p.tools.Lookup(name)
			rc := &mcpv1.RequestContext{InputResponses: map[string][]byte{key: answer}}
			out, err := tool.Run(context.Background(), &tools.Call{Name: name, Arguments: []byte(`{"prompt":"p","message":"m"}`), Context: rc, Emit: &recordingEmitter{}})
			if err != nil || out.Result == nil || !json.Valid(out.Result.GetContent()) {
				t.Fatalf("%s(%q): %v %v", name, answer, out, err)
			}
		}
	})
}

// FuzzCompleteReference feeds untrusted references and values to Complete.
func FuzzCompleteReference(f *testing.F) {
	f.Add([]byte(`{"type":"ref/prompt","name":"greet"}`), "style", "f")
	f.Add([]byte(`{"type":"ref/resource","uri":"everything://items/{id}"}`), "id", "1")
	f.Add([]byte(`{`), "", "")
	p, err := New(DefaultConfig(), Deps{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ref []byte, arg, value string) {
		resp, err := p.Complete(context.Background(), &providerv1.CompleteRequest{Ref: ref, ArgumentName: arg, ArgumentValue: value})
		if err == nil && (resp.GetValues() == nil || int(resp.GetTotal()) < len(resp.GetValues())) {
			t.Fatalf("bad response %v", resp)
		}
	})
}

// FuzzReadResource feeds untrusted URIs to ReadResource.
func FuzzReadResource(f *testing.F) {
	for _, seed := range []string{"everything://items/1", "test://template/1/data", "everything://items/%", "x"} {
		f.Add(seed)
	}
	p, err := New(DefaultConfig(), Deps{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		resp, err := p.ReadResource(context.Background(), &providerv1.ReadResourceRequest{Uri: uri})
		if err == nil && !json.Valid(resp.GetContents()) {
			t.Fatalf("%q: invalid contents %s", uri, resp.GetContents())
		}
	})
}
