package mesh

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/federation"
)

// The admin listener serves the upstream admin API's own OpenAPI document at
// /openapi.json, behind the listener's credential like the routes: it lists exactly
// the routes the listener serves, with the field names they answer with.
func TestUpstreamAdminOpenAPI(t *testing.T) {
	alpha := serveUpstream(t, newUpstreamServer("alpha", nil))
	// A call timeout, so that the answer has a field whose proto and JSON names differ.
	cfg := federatedConfig(t, federation.Upstream{Name: "alpha", URL: alpha, Prefix: "a", CallTimeout: 20 * time.Second})
	withAdminToken(t, &cfg)
	m, _ := startMesh(t, cfg)
	admin := newAdminAPI(t, m)

	noToken := adminAPI{t: t, base: admin.base}
	if code, body := noToken.do(http.MethodGet, "/openapi.json", ""); code != http.StatusUnauthorized {
		t.Fatalf("GET /openapi.json without the admin token: %d %s, want 401", code, body)
	}
	var doc struct {
		Info struct {
			Title string `json:"title"`
		} `json:"info"`
		Paths       map[string]map[string]json.RawMessage `json:"paths"`
		Definitions map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"definitions"`
	}
	admin.must(http.MethodGet, "/openapi.json", "", &doc)
	if doc.Info.Title != "mcpmesh admin API" {
		t.Errorf("title %q, want mcpmesh admin API (proto/mcpmesh/mcpmesh_admin_openapi.yaml)", doc.Info.Title)
	}
	// Exactly the routes of UpstreamAdminService, with their methods.
	got := map[string][]string{}
	for path, ops := range doc.Paths {
		got[path] = slices.Sorted(maps.Keys(ops))
	}
	want := map[string][]string{
		"/v1/admin/upstreams":        {"get"},
		"/v1/admin/upstreams/{name}": {"delete", "get", "put"},
	}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("paths %v, want %v", got, want)
	}
	// Each documented operation is served (a route that were not would answer 404 or
	// 405 to every request).
	for _, op := range []struct{ method, path string }{
		{http.MethodGet, "/v1/admin/upstreams"},
		{http.MethodGet, "/v1/admin/upstreams/alpha"},
		{http.MethodPut, "/v1/admin/upstreams/alpha"},
		{http.MethodDelete, "/v1/admin/upstreams/alpha"},
	} {
		code, body := admin.do(op.method, op.path, `{}`)
		if code == http.StatusNotFound && !strings.Contains(body, "alpha") || code == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d %s: documented but not served", op.method, op.path, code, body)
		}
	}
	// The routes answer with proto field names, and so does the document.
	var one struct {
		Upstream map[string]json.RawMessage `json:"upstream"`
	}
	admin.must(http.MethodGet, "/v1/admin/upstreams/alpha", "", &one)
	documented := doc.Definitions["v1Upstream"].Properties
	if len(one.Upstream) == 0 || len(documented) == 0 {
		t.Fatalf("upstream %v, documented properties %v", one.Upstream, documented)
	}
	for field := range one.Upstream {
		if _, ok := documented[field]; !ok {
			t.Errorf("GET answered field %q, which the document's v1Upstream lacks (documented: %v)", field, slices.Sorted(maps.Keys(documented)))
		}
	}
}
