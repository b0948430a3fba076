package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The session service's denials, as the step-up contract writes them, reach the client
// as a 403 step-up challenge (every needed scope in one) or as a policy refusal that
// says nothing more, on /mcp and on /v1.
func TestDenialMapping(t *testing.T) {
	iss := newTestIssuer(t)
	k := newRSAKey(t, "k1")
	iss.publish(k)
	for _, mode := range []string{"none", "oauth"} {
		t.Run(mode, func(t *testing.T) {
			configure := oauthConfig(iss, false)
			if mode == "none" {
				configure = nil
			}
			h := newHarness(t, harnessOptions{configure: configure})
			headers := map[string]string{}
			metadata := `realm="mcpmesh"`
			if mode == "oauth" {
				headers["Authorization"] = "Bearer " + sign(t, k, goodClaims(iss.url(), time.Now()), "", "k1")
				metadata = wantMetadata
			}
			// The scopes any access needs come first, then the refusal's.
			scopes := "files:write admin"
			if mode == "oauth" {
				scopes = "mcp:tools " + scopes
			}
			stepUp := `Bearer ` + metadata + `, scope="` + scopes + `", error="insufficient_scope", error_description="`
			tests := []struct {
				name, method, path, body string
				wantStatus               int
				wantChallenge            string // prefix; empty: none
				wantBody                 string // a field and value of the JSON body
			}{
				{"mcp step-up", http.MethodPost, "/mcp", rpc("deny-scope"), 403, stepUp, `"error":"insufficient_scope"`},
				{"mcp policy", http.MethodPost, "/mcp", rpc("deny-policy"), 403, "", `"code":-32003,"message":"Forbidden"`},
				{"rest step-up", http.MethodPost, "/v1/tools/deny-scope:call", `{}`, 403, stepUp, `"error":"insufficient_scope"`},
				{"rest policy", http.MethodPost, "/v1/tools/deny-policy:call", `{}`, 403, "", `"message":"Forbidden"`},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					resp, body := h.do(h.request(tc.method, tc.path, tc.body, mcpHeaders(headers)))
					if resp.StatusCode != tc.wantStatus {
						t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body)
					}
					got := resp.Header.Get("WWW-Authenticate")
					if tc.wantChallenge == "" && got != "" || !strings.HasPrefix(got, tc.wantChallenge) {
						t.Errorf("WWW-Authenticate %q, want prefix %q", got, tc.wantChallenge)
					}
					if !json.Valid(body) || !strings.Contains(string(body), tc.wantBody) {
						t.Errorf("body %s, want %s", body, tc.wantBody)
					}
					for _, hint := range []string{"admin-reset", "ops"} {
						if strings.Contains(string(body), hint) {
							t.Errorf("body %s leaks %q", body, hint)
						}
					}
				})
			}
		})
	}
}
