package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

const stateless = "2026-07-28"

var requestIDs atomic.Int64

// statelessBody builds a 2026-07-28 request whose params carry the required _meta.
func statelessBody(method, params string) string {
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"` + stateless + `","io.modelcontextprotocol/clientInfo":{"name":"e2e","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`
	params = strings.TrimSpace(params)
	if params == "{}" || params == "" {
		params = "{" + meta + "}"
	} else {
		params = "{" + meta + "," + strings.TrimPrefix(params, "{")
	}
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, requestIDs.Add(1), method, params)
}

// postStateless sends a well-formed 2026-07-28 request with the required headers.
func postStateless(base, method, name, params string) (*http.Response, error) {
	return postStatelessWith(http.DefaultClient, base, method, name, params)
}

func postStatelessWith(c *http.Client, base, method, name, params string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(statelessBody(method, params)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", stateless)
	req.Header.Set("Mcp-Method", method)
	if name != "" {
		req.Header.Set("Mcp-Name", name)
	}
	return c.Do(req)
}

// rpcResponse is a JSON-RPC response as tests inspect it.
type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/event-stream") {
		// Take the last data line: the response that ends the stream.
		var last string
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "data:") && strings.TrimSpace(strings.TrimPrefix(line, "data:")) != "" {
				last = strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			}
		}
		b = []byte(last)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %q: %w", b, err)
	}
	return nil
}
