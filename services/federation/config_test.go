package federation

import (
	"strings"
	"testing"
)

func TestValidateReportsEveryProblem(t *testing.T) {
	exchange := TokenExchange{
		TokenURL: "https://idp/oauth/v2/token", ClientID: "mcpmesh-federation", ClientSecretFile: "/run/secrets/fed",
		Audience: "docs-mcp", AssertionJWKSURL: "http://gateway:8080/.well-known/jwks.json",
	}
	tests := []struct {
		name     string
		upstream Upstream
		want     []string // substrings of the error; none means valid
	}{
		{"http", Upstream{Name: "docs", URL: "https://docs.internal/mcp", Prefix: "docs"}, nil},
		{"stdio", Upstream{Name: "git", Command: []string{"mcp-server-git"}}, nil},
		{"sse", Upstream{Name: "old", URL: "http://old:8080/sse", Transport: "sse"}, nil},
		{"bearer", Upstream{Name: "d", URL: "https://d/mcp", Auth: Auth{BearerFile: "/run/secrets/t"}}, nil},
		{"oauth", Upstream{Name: "d", URL: "https://d/mcp", Auth: Auth{OAuth: OAuthClient{TokenURL: "https://idp/token", ClientID: "c", ClientSecretFile: "/s"}}}, nil},
		{"nothing to reach", Upstream{Name: "x"}, []string{"set url (HTTP) or command (stdio)"}},
		{"both", Upstream{Name: "x", URL: "http://x/mcp", Command: []string{"x"}}, []string{"not both"}},
		{"bad name and prefix", Upstream{Name: "Docs", Prefix: "A B", URL: "http://x/mcp"}, []string{".name:", ".prefix:"}},
		{"relative url", Upstream{Name: "x", URL: "/mcp"}, []string{"absolute http or https URL"}},
		{"credentials in url", Upstream{Name: "x", URL: "https://u:p@x/mcp"}, []string{"must not carry credentials"}},
		{"unknown transport", Upstream{Name: "x", URL: "http://x/mcp", Transport: "ws"}, []string{".transport:"}},
		{"transport without url", Upstream{Name: "x", Command: []string{"x"}, Transport: "sse"}, []string{"only for an HTTP upstream"}},
		{"bad glob", Upstream{Name: "x", URL: "http://x/mcp", Tools: Filter{Include: []string{"[a"}}}, []string{".tools: bad glob"}},
		{"two credentials", Upstream{Name: "x", URL: "http://x/mcp", Auth: Auth{BearerFile: "/t", OAuth: OAuthClient{ClientID: "c"}}}, []string{"not bearer_file and oauth"}},
		{"credentials for stdio", Upstream{Name: "x", Command: []string{"x"}, Auth: Auth{BearerFile: "/t"}}, []string{"only an HTTP upstream"}},
		{"incomplete oauth", Upstream{Name: "x", URL: "http://x/mcp", Auth: Auth{OAuth: OAuthClient{ClientID: "c"}}}, []string{"token_url", "client_secret_file"}},
		{"token exchange", Upstream{Name: "d", URL: "https://d/mcp", Auth: Auth{TokenExchange: exchange}}, nil},
		{"token exchange on loopback", Upstream{Name: "d", URL: "http://127.0.0.1:9/mcp", Auth: Auth{TokenExchange: with(exchange, func(x *TokenExchange) { x.TokenURL = "http://127.0.0.1:8/token" })}}, nil},
		{"token exchange over plain http", Upstream{Name: "x", URL: "https://x/mcp", Auth: Auth{TokenExchange: with(exchange, func(x *TokenExchange) { x.TokenURL = "http://idp/token" })}}, []string{"token_exchange.token_url", "http only on loopback"}},
		{"incomplete token exchange", Upstream{Name: "x", URL: "https://x/mcp", Auth: Auth{TokenExchange: TokenExchange{TokenURL: "https://idp/token", Resource: "docs#x"}}}, []string{"token_exchange.client_id", "token_exchange.client_secret_file", "token_exchange.resource", "token_exchange.assertion_jwks_url"}},
		{"token exchange for nobody", Upstream{Name: "x", URL: "https://x/mcp", Auth: Auth{TokenExchange: with(exchange, func(x *TokenExchange) { x.Audience = "" })}}, []string{"set audience or resource"}},
		{"token exchange and oauth", Upstream{Name: "x", URL: "https://x/mcp", Auth: Auth{OAuth: OAuthClient{ClientID: "c"}, TokenExchange: exchange}}, []string{"not oauth and token_exchange"}},
		{"token exchange for stdio", Upstream{Name: "x", Command: []string{"x"}, Auth: Auth{TokenExchange: exchange}}, []string{"only an HTTP upstream"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Upstreams = []Upstream{tt.upstream}
			err := cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("valid config rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want an error with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestValidateRejectsDuplicateNamesAndBadSettings(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Upstreams = []Upstream{{Name: "a", URL: "http://a/mcp"}, {Name: "a", URL: "http://b/mcp"}}
	cfg.CallTimeout = 0
	cfg.ReconnectMax = cfg.ReconnectMin / 2
	err := cfg.Validate()
	for _, w := range []string{"listed twice", "federation.call_timeout", "federation.reconnect_min"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v lacks %q", err, w)
		}
	}
}

func TestFiltersAndPrefixes(t *testing.T) {
	f := Filter{Include: []string{"search*", "get_*"}, Exclude: []string{"*_secret"}}
	for name, want := range map[string]bool{"search": true, "search_docs": true, "get_secret": false, "delete": false} {
		if got := f.keeps(name); got != want {
			t.Errorf("keeps(%q) = %v, want %v", name, got, want)
		}
	}
	if !(Filter{}).keeps("anything") {
		t.Error("an empty filter must keep everything")
	}
	u := Upstream{Prefix: "docs"}
	if got := u.exposed("search"); got != "docs__search" {
		t.Errorf("exposed = %q", got)
	}
	if got, ok := u.upstreamName("docs__search"); !ok || got != "search" {
		t.Errorf("upstreamName(docs__search) = %q, %v", got, ok)
	}
	if _, ok := u.upstreamName("git__search"); ok {
		t.Error("a name without the prefix must not resolve")
	}
	if got, ok := (Upstream{}).upstreamName("search"); !ok || got != "search" {
		t.Errorf("no prefix keeps the name, got %q", got)
	}
}

func TestValidateGRPCServices(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Upstreams = []Upstream{{Name: "billing", URL: "http://a/mcp"}}
	cfg.GRPC = []GRPCService{
		{Name: "billing", Address: "billing:9000", Plaintext: true, Services: []string{"acme.billing.v1.InvoiceService"}},
		{Name: "shop", Address: "", Prefix: "Bad Prefix", Services: []string{"acme.shop.v1.ShopService"}},
	}
	err := cfg.Validate()
	for _, w := range []string{
		`federation.grpc[0] (billing).name: "billing" is already the name of another upstream or gRPC service`,
		"federation.grpc[1] (shop).address: is required",
		"federation.grpc[1] (shop).prefix",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v lacks %q", err, w)
		}
	}
	cfg.Upstreams = nil
	cfg.GRPC = cfg.GRPC[:1]
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid gRPC service rejected: %v", err)
	}
}

// with returns x changed by change.
func with(x TokenExchange, change func(*TokenExchange)) TokenExchange {
	change(&x)
	return x
}
