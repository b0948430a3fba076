package probe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// HTTP fetches baseURL + "/healthz" and expects 200.
func (p Prober) HTTP(ctx context.Context, baseURL string) Outcome {
	url := strings.TrimSuffix(baseURL, "/") + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return notServing("invalid address")
	}
	resp, err := p.HTTPClient.Do(req)
	if err != nil {
		return notServing(Describe(ctx, err, p.Budget))
	}
	// Drain a little so the connection can be reused; /healthz bodies are tiny.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return notServing(fmt.Sprintf("HTTP %d", resp.StatusCode))
	}
	return Serving
}
