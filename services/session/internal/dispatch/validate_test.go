package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

// Schemas of the everything provider's fixtures (services/everything/internal/tools).
const (
	echoSchema       = `{"type":"object","properties":{"message":{"type":"string","description":"Text to echo back"}},"required":["message"]}`
	addSchema        = `{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}`
	jsonSchema202012 = `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
		`"$defs":{"address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},` +
		`"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"}},"additionalProperties":false}`
)

func TestValidateArguments(t *testing.T) {
	tests := []struct {
		name, schema, args string
		// wantMsg is "" when the arguments conform.
		wantMsg, wantPath, wantKeyword string
	}{
		{"conforming", addSchema, `{"a":1,"b":2.5}`, "", "", ""},
		{"wrong type", addSchema, `{"a":"1","b":2}`, "invalid arguments for tool t: /a: got string, want number (keyword type)", "/a", "type"},
		{"missing required", addSchema, `{"a":1}`, "invalid arguments for tool t: (root): missing property 'b' (keyword required)", "", "required"},
		{"2020-12 fixture conforming", jsonSchema202012, `{"name":"Ada","address":{"street":"1 Main","city":"Town"}}`, "", "", ""},
		{"$ref into $defs", jsonSchema202012, `{"name":"Ada","address":{"city":7}}`, "invalid arguments for tool t: /address/city: got number, want string (keyword type)", "/address/city", "type"},
		{"additionalProperties false", jsonSchema202012, `{"extra":1}`, "(root): additional properties 'extra' not allowed (keyword additionalProperties)", "", "additionalProperties"},
		{"draft-07 $schema honoured", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","definitions":{"n":{"type":"integer"}},"properties":{"n":{"$ref":"#/definitions/n"}}}`,
			`{"n":1.5}`, "/n: got number, want integer", "/n", "type"},
		{"2020-12 by default: prefixItems", `{"type":"object","properties":{"p":{"type":"array","prefixItems":[{"type":"string"}]}}}`,
			`{"p":[1]}`, "/p/0: got number, want string", "/p/0", "type"},
		{"pointer escaping", `{"type":"object","properties":{"a/b":{"type":"string"}}}`, `{"a/b":1}`, "/a~1b: got number", "/a~1b", "type"},
		{"large integers stay exact", `{"type":"object","properties":{"n":{"type":"integer","maximum":9007199254740993}}}`, `{"n":9007199254740993}`, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := compileSchema([]byte(tt.schema))
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			err = (&Dispatcher{}).checkArguments(&toolSchemas{input: s}, "t", []byte(tt.args))
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("conforming arguments refused: %v", err)
				}
				return
			}
			var rpcErr *mcpjson.Error
			if !errors.As(err, &rpcErr) || rpcErr.Code != mcpjson.CodeInvalidParams {
				t.Fatalf("error %v, want -32602", err)
			}
			if !strings.Contains(rpcErr.Message, tt.wantMsg) {
				t.Errorf("message %q, want it to contain %q", rpcErr.Message, tt.wantMsg)
			}
			wantData := `{"instancePath":"` + tt.wantPath + `","keyword":"` + tt.wantKeyword + `"}`
			if string(rpcErr.Data) != wantData {
				t.Errorf("data %s, want %s", rpcErr.Data, wantData)
			}
		})
	}
}

func TestSchemasThatDoNotCompile(t *testing.T) {
	for name, schema := range map[string]string{
		"unresolvable $ref":    `{"type":"object","properties":{"a":{"$ref":"#/$defs/missing"}}}`,
		"remote $ref":          `{"type":"object","properties":{"a":{"$ref":"https://example.com/s.json"}}}`,
		"local file $ref":      `{"type":"object","properties":{"a":{"$ref":"file:///etc/passwd"}}}`,
		"invalid keyword type": `{"type":"object","minProperties":"two"}`,
		"unknown $schema":      `{"$schema":"https://example.com/my-draft","type":"object"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := compileSchema([]byte(schema)); err == nil {
				t.Fatal("compiled")
			}
		})
	}
}

func TestSchemaCacheCompilesOncePerRevision(t *testing.T) {
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	var c schemaCache
	good := &catalogue.Entry{Key: "add", InputSchema: []byte(addSchema)}
	bad := &catalogue.Entry{Key: "bad", InputSchema: []byte(`{"type":"object","properties":{"a":{"$ref":"#/nope"}}}`)}
	ctx := context.Background()

	first := c.get(ctx, logger, 1, good)
	if first == nil || first.input == nil || c.get(ctx, logger, 1, good) != first {
		t.Fatal("schemas not compiled once and cached within a revision")
	}
	for range 3 {
		if ts := c.get(ctx, logger, 1, bad); ts == nil || ts.input != nil {
			t.Fatal("a schema that does not compile must leave the tool unvalidated")
		}
	}
	if n := strings.Count(logs.String(), "does not compile"); n != 1 {
		t.Errorf("compile failure logged %d times, want once:\n%s", n, logs.String())
	}
	if next := c.get(ctx, logger, 2, good); next == first {
		t.Error("a new revision reused the old compilation")
	}
	// A restarted in-memory registry counts from 1 again.
	if restarted := c.get(ctx, logger, 1, good); restarted == nil || restarted.input == nil || c.get(ctx, logger, 1, good) != restarted {
		t.Error("a lower revision is not compiled once and cached")
	}
	if c.get(ctx, logger, 2, &catalogue.Entry{Key: "none"}) != nil {
		t.Error("a tool without schemas needs no entry")
	}
}

func TestCheckStructured(t *testing.T) {
	out, err := compileSchema([]byte(`{"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]}`))
	if err != nil {
		t.Fatal(err)
	}
	d := &Dispatcher{logger: slog.New(slog.DiscardHandler)}
	ts := &toolSchemas{output: out}
	tg := target{kind: "tool", name: "add"}
	if err := d.checkStructured(context.Background(), ts, tg, catalogue.Route{}, []byte(`{"sum":3}`)); err != nil {
		t.Fatalf("conforming content refused: %v", err)
	}
	err = d.checkStructured(context.Background(), ts, tg, catalogue.Route{}, []byte(`{"sum":"3"}`))
	var rpcErr *mcpjson.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != mcpjson.CodeInternal ||
		rpcErr.Message != "tool add returned structured content that does not match its outputSchema" {
		t.Fatalf("error %v", err)
	}
}

// BenchmarkCheckArguments is the cost validation adds to an echo call: the schema is
// compiled once; each iteration decodes and validates the arguments.
func BenchmarkCheckArguments(b *testing.B) {
	s, err := compileSchema([]byte(echoSchema))
	if err != nil {
		b.Fatal(err)
	}
	d, ts, args := &Dispatcher{}, &toolSchemas{input: s}, []byte(`{"message":"hello"}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := d.checkArguments(ts, "echo", args); err != nil {
			b.Fatal(err)
		}
	}
}
