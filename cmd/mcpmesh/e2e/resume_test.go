package e2e

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sseEvent is one server-sent event.
type sseEvent struct {
	id   string
	data string
}

// sseReader reads events from a GET stream in a goroutine.
type sseReader struct {
	events chan sseEvent
	done   chan error
}

func readSSE(resp *http.Response) *sseReader {
	r := &sseReader{events: make(chan sseEvent, 64), done: make(chan error, 1)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				r.events <- ev
				ev = sseEvent{}
			case strings.HasPrefix(line, "id:"):
				ev.id = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
			case strings.HasPrefix(line, "data:"):
				ev.data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			}
		}
		r.done <- sc.Err()
		close(r.events)
	}()
	return r
}

// next returns the next event with data, failing after timeout.
func (r *sseReader) next(t *testing.T, timeout time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-r.events:
			if !ok {
				t.Fatal("stream ended")
			}
			if ev.data != "" {
				return ev
			}
		case <-deadline:
			t.Fatal("no event in time")
		}
	}
}

// TestResumeOnAnotherReplica: a client's GET stream is on a transport replica that is
// killed with SIGKILL; resource updates keep being recorded for the session; the
// client reconnects through the other replica with Last-Event-ID and receives every
// event it missed, in order.
func TestResumeOnAnotherReplica(t *testing.T) {
	m := startReplicated(t)
	c := &http.Client{}
	s := initialize(t, c, m.gateways[0], "2025-11-25")
	subscribe := s.post(t, `{"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":"`+watchedURI+`"}}`, nil)
	var out rpcResponse
	if err := decodeJSON(subscribe, &out); err != nil || out.Error != nil {
		t.Fatalf("subscribe: %+v %v", out, err)
	}
	touch := func(base string) {
		t.Helper()
		s2 := s
		s2.base = base
		resp := s2.post(t, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"touch-resource","arguments":{}}}`, nil)
		var out rpcResponse
		if err := decodeJSON(resp, &out); err != nil || out.Error != nil {
			t.Fatalf("touch-resource through %s: %+v %v", base, out, err)
		}
	}
	get := func(base, lastEventID string) *sseReader {
		t.Helper()
		h := map[string]string{"Mcp-Session-Id": s.id, "MCP-Protocol-Version": s.version, "Accept": "text/event-stream", "Content-Type": ""}
		if lastEventID != "" {
			h["Last-Event-ID"] = lastEventID
		}
		resp := do(t, c, http.MethodGet, base+"/mcp", "", h)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET: status %d", resp.StatusCode)
		}
		return readSSE(resp)
	}

	// The stream on replica 1 (gateway-1 → transport-1 → session-1).
	first := get(m.gateways[0], "")
	priming := <-first.events
	if priming.id == "" || priming.data != "" {
		t.Fatalf("priming event = %+v", priming)
	}
	touch(m.gateways[1]) // the change is heard on every replica; the event goes to the session's store
	seen := first.next(t, 10*time.Second)
	if !strings.Contains(seen.data, "notifications/resources/updated") || !strings.Contains(seen.data, watchedURI) || seen.id == "" {
		t.Fatalf("first update = %+v", seen)
	}

	m.processes["transport-1"].Kill()
	select {
	case <-first.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the GET stream outlived its transport")
	}
	// Missed while no stream is open.
	touch(m.gateways[1])
	touch(m.gateways[1])

	resumed := get(m.gateways[1], seen.id)
	if p := <-resumed.events; p.id != seen.id || p.data != "" {
		t.Fatalf("resumed priming event = %+v, want id %s", p, seen.id)
	}
	var ids []string
	for range 2 {
		ev := resumed.next(t, 10*time.Second)
		if !strings.Contains(ev.data, "notifications/resources/updated") {
			t.Fatalf("replayed event = %+v", ev)
		}
		ids = append(ids, ev.id)
	}
	if ids[0] == seen.id || ids[0] == ids[1] {
		t.Fatalf("replayed ids %v after %s", ids, seen.id)
	}

	// An id that cannot be resumed restarts the stream cleanly.
	fresh := get(m.gateways[1], "s999999")
	if p := <-fresh.events; p.id == "" || p.id == "s999999" {
		t.Fatalf("restart priming event = %+v", p)
	}
}
