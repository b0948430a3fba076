package grpcsource_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/schematest"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/shoptest"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

var shopTools = []string{"ShopService.EchoOrder", "ShopService.GetOrder", "ShopService.WatchOrder", "ShopService.Fail", "ShopService.Inspect", "ShopService.Walk"}

func describe(t *testing.T, client providerv1.ProviderServiceClient) *providerv1.DescribeResponse {
	t.Helper()
	d, err := client.Describe(context.Background(), &providerv1.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func toolByName(t *testing.T, d *providerv1.DescribeResponse, name string) *mcpv1.Tool {
	t.Helper()
	for _, tool := range d.GetCatalogue().GetTools() {
		if tool.GetName() == name {
			return tool
		}
	}
	t.Fatalf("no tool %s", name)
	return nil
}

func TestDescribeServesAllowedMethodsAsTools(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings func(addr string) grpcsource.Settings
	}{
		{"reflection", shopSettings},
		{"descriptor set file", func(addr string) grpcsource.Settings {
			s := shopSettings(addr)
			s.DescriptorSetFile = shoptest.DescriptorSetFile(t)
			return s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := shoptest.ReflectionV1
			if tc.name != "reflection" {
				r = shoptest.ReflectionNone // the file is the only description
			}
			client := serve(t, startSource(t, tc.settings(shoptest.Start(t, r))))
			d := describe(t, client)
			if d.GetName() != "shop" || d.GetVersion() == "" {
				t.Errorf("name %q version %q", d.GetName(), d.GetVersion())
			}
			var names []string
			for _, tool := range d.GetCatalogue().GetTools() {
				names = append(names, tool.GetName())
				schematest.Compile(t, tool.GetInputSchema())
				if tool.GetOutputSchema() != nil {
					schematest.Compile(t, tool.GetOutputSchema())
				}
			}
			if !slices.Equal(names, shopTools) {
				t.Errorf("tools %v, want %v (not Upload, not AdminService)", names, shopTools)
			}
			get := toolByName(t, d, "ShopService.GetOrder")
			if !strings.HasPrefix(get.GetDescription(), "Looks an order up by its id.") || !strings.Contains(get.GetDescription(), "/acme.shop.v1.ShopService/GetOrder") {
				t.Errorf("description %q", get.GetDescription())
			}
			if req := object(t, get.GetInputSchema())["required"]; !slices.Equal(toStrings(req), []string{"id"}) {
				t.Errorf("GetOrder requires %v, want [id] (field_behavior REQUIRED)", req)
			}
		})
	}
}

// A prefix renames every tool, and a call goes by the prefixed name only.
func TestPrefixRenamesTools(t *testing.T) {
	s := shopSettings(shoptest.Start(t, shoptest.ReflectionV1))
	s.Prefix = "shop"
	client := serve(t, startSource(t, s))
	var names []string
	for _, tool := range describe(t, client).GetCatalogue().GetTools() {
		names = append(names, tool.GetName())
	}
	var want []string
	for _, name := range shopTools {
		want = append(want, "shop__"+name)
	}
	if !slices.Equal(names, want) {
		t.Errorf("tools %v, want %v", names, want)
	}
	out, err := call(t, client, "shop__ShopService.GetOrder", `{"id":"o-1"}`, nil)
	if err != nil || out.result.GetIsError() {
		t.Fatalf("prefixed call: %v %v", err, out.result)
	}
	if _, err := call(t, client, "ShopService.GetOrder", `{"id":"o-1"}`, nil); status.Code(err) != codes.NotFound {
		t.Errorf("the unprefixed name answered %v, want NotFound", err)
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestCallUnaryRoundTripsEveryShape(t *testing.T) {
	client := serve(t, startSource(t, shopSettings(shoptest.Start(t, shoptest.ReflectionV1))))
	order := `{"id": "o-1", "status": "STATUS_PAID", "totalCents": 12345, "ratio": "Infinity",
	  "stock": {"berlin": 4}, "linesByNumber": {"7": {"sku": "x", "kind": "KIND_GOODS"}},
	  "card": {"number": "4111"}, "createdAt": "2026-01-02T03:04:05Z", "ttl": "90s",
	  "attributes": {"k": [1, "two", null]}, "discount": "-5", "mask": "id,totalCents",
	  "extra": {"@type": "type.googleapis.com/acme.shop.v1.Card", "number": "5500"},
	  "category": {"name": "root", "children": [{"name": "leaf", "shelf": {"category": {"name": "deep"}}}]}}`
	out, err := call(t, client, "ShopService.EchoOrder", order, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := out.result
	if r.GetIsError() {
		t.Fatalf("error result: %s", text(t, r))
	}
	got := object(t, r.GetStructuredContent())
	if txt := text(t, r); txt != string(r.GetStructuredContent()) || strings.Contains(txt, ", ") {
		t.Errorf("text %s is not the compact structuredContent %s", txt, r.GetStructuredContent())
	}
	for path, want := range map[string]any{
		"id": "o-1", "totalCents": "12345", "ratio": "Infinity", "createdAt": "2026-01-02T03:04:05Z", "ttl": "90s",
		"stock.berlin": 4.0, "linesByNumber.7.kind": "KIND_GOODS", "card.number": "4111", "discount": "-5",
		"extra.@type": "type.googleapis.com/acme.shop.v1.Card", "quantity": 0.0, "status": "STATUS_PAID",
	} {
		if v := lookupPath(got, path); v != want {
			t.Errorf("%s = %v, want %v", path, v, want)
		}
	}
	deep := got["category"].(map[string]any)["children"].([]any)[0].(map[string]any)["shelf"].(map[string]any)["category"].(map[string]any)["name"]
	if deep != "deep" {
		t.Errorf("recursive category lost its depth: %v", got["category"])
	}
	output := schematest.Compile(t, toolByName(t, describe(t, client), "ShopService.EchoOrder").GetOutputSchema())
	if err := schematest.Validate(t, output, r.GetStructuredContent()); err != nil {
		t.Errorf("structuredContent does not match the output schema: %v", err)
	}
}

func lookupPath(m map[string]any, path string) any {
	var v any = m
	for _, part := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[part]
	}
	return v
}

func TestGRPCErrorsBecomeToolErrors(t *testing.T) {
	client := serve(t, startSource(t, shopSettings(shoptest.Start(t, shoptest.ReflectionV1))))
	for _, tc := range []struct {
		tool, args, want string
	}{
		{"ShopService.GetOrder", `{"id": "missing"}`, "NOT_FOUND: order missing does not exist"},
		{"ShopService.Fail", `{"code": 9, "message": "the order is closed"}`, "FAILED_PRECONDITION: the order is closed"},
		{"ShopService.Fail", `{"code": 13, "message": "database is down"}`, "INTERNAL: database is down"},
		{"ShopService.WatchOrder", `{"count": -1}`, "INVALID_ARGUMENT: count must not be negative"},
		{"ShopService.GetOrder", `{"id": 5}`, "invalid arguments for ShopService.GetOrder"},
	} {
		out, err := call(t, client, tc.tool, tc.args, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.tool, err)
		}
		if !out.result.GetIsError() || !strings.HasPrefix(text(t, out.result), tc.want) {
			t.Errorf("%s %s: isError %v text %q, want %q", tc.tool, tc.args, out.result.GetIsError(), text(t, out.result), tc.want)
		}
		if out.result.GetStructuredContent() != nil {
			t.Errorf("%s: an error result has structuredContent", tc.tool)
		}
	}
	// Unavailable is masked: gRPC also writes it for connection failures, with
	// addresses in the message.
	out, err := call(t, client, "ShopService.Fail", `{"code": 14, "message": "backend 10.1.2.3:5432 refused"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, out.result); !out.result.GetIsError() || strings.Contains(got, "10.1.2.3") || !strings.Contains(got, "the gRPC service shop is unavailable (id ") {
		t.Errorf("unavailable: %q", got)
	}
	// An unknown tool is the caller's mistake, not a tool error.
	if _, err := call(t, client, "ShopService.Upload", `{}`, nil); status.Code(err) != codes.NotFound {
		t.Errorf("client-streaming method called: %v, want NotFound", err)
	}
}

func TestServerStreamingReportsProgressAndAggregates(t *testing.T) {
	addr := shoptest.Start(t, shoptest.ReflectionV1)
	client := serve(t, startSource(t, shopSettings(addr)))
	out, err := call(t, client, "ShopService.WatchOrder", `{"id": "o-1", "count": 3}`, &mcpv1.RequestContext{ProgressRequested: true, LogLevel: "info"})
	if err != nil {
		t.Fatal(err)
	}
	if out.result.GetIsError() {
		t.Fatal(text(t, out.result))
	}
	if len(out.progress) != 3 || out.progress[2].GetProgress() != 3 {
		t.Errorf("progress %v, want 1, 2, 3", out.progress)
	}
	if len(out.logs) != 3 || object(t, out.logs[1].GetData())["sequence"] != 2.0 || out.logs[1].GetLevel() != "info" {
		t.Errorf("logs %v, want each message at info", out.logs)
	}
	got := object(t, out.result.GetStructuredContent())
	if msgs := got["messages"].([]any); len(msgs) != 3 || got["truncated"] != false {
		t.Errorf("result %v, want 3 messages, not truncated", got)
	}
	output := schematest.Compile(t, toolByName(t, describe(t, client), "ShopService.WatchOrder").GetOutputSchema())
	if err := schematest.Validate(t, output, out.result.GetStructuredContent()); err != nil {
		t.Errorf("result does not match the output schema: %v", err)
	}

	// Without progress or logging asked for, only the result comes; a limit cuts the
	// stream short.
	s := shopSettings(addr)
	s.Name, s.MaxStreamMessages = "shop-limited", 2
	limited := serve(t, startSource(t, s))
	out, err = call(t, limited, "ShopService.WatchOrder", `{"count": 5}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	got = object(t, out.result.GetStructuredContent())
	if len(out.progress)+len(out.logs) != 0 || len(got["messages"].([]any)) != 2 || got["truncated"] != true {
		t.Errorf("limited: %d events, result %v; want none, 2 messages, truncated", len(out.progress)+len(out.logs), got)
	}
	// The same by size: each event is {"sequence":N,"status":"STATUS_OPEN"}, 37 bytes.
	s.Name, s.MaxStreamMessages, s.MaxStreamBytes = "shop-small", 0, 100
	small := serve(t, startSource(t, s))
	out, err = call(t, small, "ShopService.WatchOrder", `{"count": 5}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	got = object(t, out.result.GetStructuredContent())
	if len(got["messages"].([]any)) != 2 || got["truncated"] != true {
		t.Errorf("limited by bytes: %v; want 2 messages, truncated", got)
	}
}

func TestMetadataAndDeadlineForwarded(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte("Bearer service-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := shopSettings(shoptest.Start(t, shoptest.ReflectionV1))
	s.Metadata = map[string]string{"x-tenant": "acme"}
	s.MetadataFiles = map[string]string{"authorization": secret}
	s.Timeout = time.Hour // the caller's deadline (waitTimeout) is the shorter one
	src := startSource(t, s)
	// In -target=all the session reaches the source in process, where the handler's
	// context still holds the caller's outgoing metadata: the case to guard.
	inproc := grpcserver.New(grpcserver.Settings{})
	t.Cleanup(inproc.Stop)
	src.Register(inproc)
	// A well-formed principal, as the session sends it (the mesh's servers refuse a
	// malformed one before any handler runs).
	carried, err := principal.Encode(&principal.Principal{Subject: "alice", Issuer: "https://idp.example", Method: principal.MethodOAuth})
	if err != nil {
		t.Fatal(err)
	}
	for name, client := range map[string]providerv1.ProviderServiceClient{
		"network":    serve(t, src),
		"in process": providerv1.NewProviderServiceClient(inproc.InProcess()),
	} {
		t.Run(name, func(t *testing.T) {
			// The caller's own metadata (a token, the mesh's principal) must not travel on.
			out, err := call(t, client, "ShopService.Inspect", `{}`, nil,
				"authorization", "Bearer client-token", principal.MetadataKey, string(carried), "x-caller", "yes")
			if err != nil {
				t.Fatal(err)
			}
			got := object(t, out.result.GetStructuredContent())
			md, _ := got["metadata"].(map[string]any)
			if md["authorization"] != "Bearer service-token" || md["x-tenant"] != "acme" {
				t.Errorf("configured metadata not sent: %v", md)
			}
			for _, k := range []string{principal.MetadataKey, "x-caller"} {
				if _, ok := md[k]; ok {
					t.Errorf("caller metadata %s forwarded", k)
				}
			}
			remaining, err := time.ParseDuration(fmt.Sprint(got["deadlineRemaining"]))
			if got["hasDeadline"] != true || err != nil || remaining > waitTimeout {
				t.Errorf("deadline at the service: %v, %v left; want the caller's, at most %s", got["hasDeadline"], got["deadlineRemaining"], waitTimeout)
			}
		})
	}
}

func TestSettingsValidation(t *testing.T) {
	err := grpcsource.Settings{Name: "Bad Name", Prefix: "Shop!", Plaintext: true, TLS: grpcsource.TLS{CertFile: "c"},
		Services: []string{"nope"}, Metadata: map[string]string{"grpc-timeout": "1", "X": "y", "authorization": "Bearer t"}}.Validate("federation.grpc[0]")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"federation.grpc[0].name", "federation.grpc[0].prefix", "federation.grpc[0].address: is required", "federation.grpc[0].services: \"nope\"",
		"federation.grpc[0].plaintext", "cert_file and key_file", "\"grpc-timeout\" is reserved", "\"X\" must be lowercase", "\"authorization\" looks like a credential: put it in metadata_files",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if err := shopSettings("127.0.0.1:1").Validate("x"); err != nil {
		t.Errorf("valid settings: %v", err)
	}
}
