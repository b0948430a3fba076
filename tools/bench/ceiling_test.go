package bench

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestCeilingMainServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- CeilingMain(ctx, nil, w, io.Discard)
		_ = w.Close()
	}()
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatalf("no banner: %v", sc.Err())
	}
	base, ok := strings.CutPrefix(sc.Text(), "ceiling listening on ")
	if !ok {
		t.Fatalf("first line %q, want \"ceiling listening on http://ADDR\"", sc.Text())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }() // the rest of the banner

	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post(base+"/mcp", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || string(body) != string(ceilingBody) {
		t.Fatalf("POST: %d %q, want 200 %q", resp.StatusCode, body, ceilingBody)
	}
	resp, err = hc.Get(base + "/mcp")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d, want 405", resp.StatusCode)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("CeilingMain after cancel: %v", err)
	}
}

func TestCeilingMainRejectsArguments(t *testing.T) {
	if err := CeilingMain(context.Background(), []string{"extra"}, io.Discard, io.Discard); err == nil {
		t.Fatal("CeilingMain accepted a stray argument")
	}
}
