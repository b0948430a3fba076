package federation

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// The tap sees every complete line, however the reads split the stream, and passes
// the bytes through unchanged.
func TestLineTapSeesEveryLine(t *testing.T) {
	in := "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"t\",\"progress\":1}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
	var lines []string
	tap := &lineTap{r: io.NopCloser(iotest.OneByteReader(strings.NewReader(in))), onLine: func(l []byte) { lines = append(lines, string(l)) }}
	out, err := io.ReadAll(tap)
	if err != nil || string(out) != in {
		t.Fatalf("passed through %q, %v", out, err)
	}
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "data: ") || lines[2] != "" {
		t.Fatalf("lines %q", lines)
	}
	method, params, ok := notificationLine([]byte(lines[1]))
	if !ok || method != "notifications/progress" || !strings.Contains(string(params), `"progressToken":"t"`) {
		t.Errorf("notificationLine = %q, %s, %v", method, params, ok)
	}
	if _, _, ok := notificationLine([]byte(lines[3])); ok {
		t.Error("a response taken for a notification")
	}
}

func TestLineTapSkipsOverlongLines(t *testing.T) {
	long := strings.Repeat("x", maxTappedLine+1)
	var lines []string
	tap := &lineTap{r: io.NopCloser(strings.NewReader(long + "\nshort\n")), onLine: func(l []byte) { lines = append(lines, string(l)) }}
	if _, err := io.ReadAll(tap); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || lines[0] != "short" {
		t.Fatalf("got %d lines; want only the short one", len(lines))
	}
}

// A request that happens to be a notification method is not taken for one.
func TestNotificationLineWantsNotifications(t *testing.T) {
	for _, line := range []string{
		`{"jsonrpc":"2.0","id":7,"method":"notifications/message","params":{}}`,
		`data: {"method":"notifications/message"`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{}}`,
	} {
		if m, _, ok := notificationLine([]byte(line)); ok {
			t.Errorf("%s: taken as %s", line, m)
		}
	}
	if m, _, ok := notificationLine([]byte(`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":1}}`)); !ok || m != "notifications/message" {
		t.Errorf("stdio log line: %q %v", m, ok)
	}
}

func FuzzNotificationLine(f *testing.F) {
	f.Add([]byte(`data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":0.5}}`))
	f.Add([]byte(`{"method":"notifications/message","params":null}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		u := newUpstream(Upstream{Name: "fuzz"}, DefaultConfig(), discard(), nil)
		u.onNotification(nil, line) // must not panic, whatever the upstream sends
		_, _, _ = notificationLine(line)
	})
}
