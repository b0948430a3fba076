package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// protocolVersion is the stateful MCP version the generator speaks.
const protocolVersion = "2025-11-25"

var (
	headerContentType = []string{"application/json"}
	headerAccept      = []string{"application/json, text/event-stream"}
	resultKey         = []byte(`"result"`)
	errNoResult       = errors.New("response has no result")
)

const (
	initializeBody  = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + protocolVersion + `","capabilities":{},"clientInfo":{"name":"mcpmesh-bench","version":"1"}}}`
	initializedBody = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	callBodyPrefix  = `{"jsonrpc":"2.0","id":`
	callBodySuffix  = `,"method":"tools/call","params":{"name":"echo","arguments":{"message":"bench"}}}`
	// A stateless call (protocol 2026-07-28) carries its version and the client's
	// capabilities in _meta and names its method and tool in headers: no session.
	statelessVersion        = "2026-07-28"
	statelessCallBodySuffix = `,"method":"tools/call","params":{"name":"echo","arguments":{"message":"bench"},` +
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"` + statelessVersion + `","io.modelcontextprotocol/clientCapabilities":{}}}}`
)

// newTransport returns the one transport every worker shares: one keep-alive connection
// per worker and no compression, so the generator spends as little CPU as it can.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          0, // no limit
		MaxIdleConnsPerHost:   max(conns, http.DefaultMaxIdleConnsPerHost),
		MaxConnsPerHost:       0,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ExpectContinueTimeout: 0,
	}
}

// statusError is a response with an unexpected HTTP status.
type statusError struct {
	code int
	body string
}

func (e statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.code, e.body)
}

// client is one MCP client: a session (or none, against the ceiling) and the buffers
// its requests reuse. It is used by one goroutine at a time.
type client struct {
	rt       http.RoundTripper
	endpoint *url.URL
	header   http.Header
	body     []byte
	resp     bytes.Buffer
	nextID   int64
	// suffix ends every tools/call body (callBodySuffix or statelessCallBodySuffix).
	suffix string
	// authorization is the Authorization header of every request (nil: none).
	authorization []string
}

func newClient(rt http.RoundTripper, endpoint *url.URL) *client {
	return &client{
		rt:       rt,
		endpoint: endpoint,
		header:   http.Header{"Content-Type": headerContentType, "Accept": headerAccept},
		suffix:   callBodySuffix,
	}
}

// authorize makes every request carry authorization as its Authorization header
// ("": none).
func (c *client) authorize(authorization string) {
	if authorization == "" {
		c.authorization = nil
		return
	}
	c.authorization = []string{authorization}
	c.header = c.withAuthorization(c.header)
}

// withAuthorization adds the client's Authorization header to h.
func (c *client) withAuthorization(h http.Header) http.Header {
	if c.authorization != nil {
		h["Authorization"] = c.authorization
	}
	return h
}

// stateless makes the client call echo the 2026-07-28 way, without a session.
func (c *client) stateless() {
	c.header = c.withAuthorization(http.Header{
		"Content-Type":         headerContentType,
		"Accept":               headerAccept,
		"Mcp-Protocol-Version": {statelessVersion},
		"Mcp-Method":           {"tools/call"},
		"Mcp-Name":             {"echo"},
	})
	c.suffix = statelessCallBodySuffix
}

// post sends one JSON-RPC message and reads the whole response into c.resp.
func (c *client) post(ctx context.Context, header http.Header, body []byte) (*http.Response, error) {
	req := (&http.Request{
		Method:        http.MethodPost,
		URL:           c.endpoint,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Host:          c.endpoint.Host,
	}).WithContext(ctx)
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	c.resp.Reset()
	_, err = c.resp.ReadFrom(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	return resp, nil
}

// initialize opens a stateful session: initialize, then notifications/initialized.
// Later calls carry the session id and the negotiated protocol version.
func (c *client) initialize(ctx context.Context) error {
	base := c.withAuthorization(http.Header{"Content-Type": headerContentType, "Accept": headerAccept})
	resp, err := c.post(ctx, base, []byte(initializeBody)) //nolint:bodyclose // post reads and closes the body
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("initialize: %w", statusError{resp.StatusCode, snippet(c.resp.Bytes())})
	}
	session := resp.Header.Get("Mcp-Session-Id")
	if session == "" {
		return errors.New("initialize: no Mcp-Session-Id in the response")
	}
	version := negotiatedVersion(c.resp.Bytes())
	if version == "" {
		return fmt.Errorf("initialize: no protocolVersion in %s", snippet(c.resp.Bytes()))
	}
	c.header = c.withAuthorization(http.Header{
		"Content-Type":         headerContentType,
		"Accept":               headerAccept,
		"Mcp-Session-Id":       {session},
		"Mcp-Protocol-Version": {version},
	})
	resp, err = c.post(ctx, c.header, []byte(initializedBody)) //nolint:bodyclose // post reads and closes the body
	if err != nil {
		return fmt.Errorf("notifications/initialized: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notifications/initialized: %w", statusError{resp.StatusCode, snippet(c.resp.Bytes())})
	}
	return nil
}

// openStream opens the session's GET stream (server-sent events) and returns its body,
// left open: the stream lives, and holds its connection, until the body is closed or
// ctx ends.
func (c *client) openStream(ctx context.Context) (io.ReadCloser, error) {
	header := c.withAuthorization(http.Header{"Accept": {"text/event-stream"}})
	for _, key := range []string{"Mcp-Session-Id", "Mcp-Protocol-Version"} {
		header[key] = c.header[key]
	}
	req := (&http.Request{
		Method:     http.MethodGet,
		URL:        c.endpoint,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     header,
		Host:       c.endpoint.Host,
	}).WithContext(ctx)
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("GET stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_ = resp.Body.Close()
		return nil, fmt.Errorf("GET stream: %w (Content-Type %q)", statusError{resp.StatusCode, snippet(body)}, resp.Header.Get("Content-Type"))
	}
	return resp.Body, nil
}

// negotiatedVersion picks result.protocolVersion out of an initialize response (JSON or
// SSE) without decoding it.
func negotiatedVersion(body []byte) string {
	const key = `"protocolVersion":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// callEcho calls tools/call echo once and checks the answer cheaply: HTTP 200 and a
// "result" member in the body (a JSON-RPC error has none).
func (c *client) callEcho(ctx context.Context) error {
	c.nextID++
	c.body = append(c.body[:0], callBodyPrefix...)
	c.body = strconv.AppendInt(c.body, c.nextID, 10)
	c.body = append(c.body, c.suffix...)
	resp, err := c.post(ctx, c.header, c.body) //nolint:bodyclose // post reads and closes the body
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return statusError{resp.StatusCode, snippet(c.resp.Bytes())}
	}
	if !bytes.Contains(c.resp.Bytes(), resultKey) {
		return fmt.Errorf("%w: %s", errNoResult, snippet(c.resp.Bytes()))
	}
	return nil
}

// snippet shortens a response body for an error message.
func snippet(b []byte) string {
	const limit = 200
	if len(b) > limit {
		return string(b[:limit]) + "..."
	}
	return string(b)
}
