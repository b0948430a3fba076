package dispatch

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/store"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var methods = []string{
	"ping", "server/discover", "logging/setLevel", "tools/list", "resources/list",
	"resources/templates/list", "prompts/list", "tools/call", "resources/read", "prompts/get",
	"completion/complete", "notifications/cancelled", "notifications/initialized", "nope",
}

// newFuzzDispatcher routes everything to an in-process provider that does not exist,
// so provider calls fail fast through the real kit dialer.
func newFuzzDispatcher(t testing.TB) (*Dispatcher, *store.Session) {
	snap := catalogue.Build(&registryv1.WatchCatalogueResponse{
		Providers: []*registryv1.Provider{{Name: "p", Address: "inproc:p"}},
		Tools:     []*registryv1.RoutedTool{{Name: "t", Provider: "p", Tool: &mcpv1.Tool{Name: "t"}}},
		Resources: []*registryv1.RoutedResource{{Provider: "p", Resource: &mcpv1.Resource{Uri: "mem://a", Name: "a"}}},
		ResourceTemplates: []*registryv1.RoutedResourceTemplate{
			{Provider: "p", ResourceTemplate: &mcpv1.ResourceTemplate{UriTemplate: "mem://{x}", Name: "x"}},
		},
		Prompts: []*registryv1.RoutedPrompt{{Name: "pr", Provider: "p", Prompt: &mcpv1.Prompt{Name: "pr"}}},
	})
	st := store.NewMemory(time.Hour, nil)
	sess := store.Session{ID: "s", ProtocolVersion: "2025-11-25", LastSeenUnixMs: time.Now().UnixMilli()}
	if err := st.Create(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	d := New(Settings{ServerVersion: "t", ToolCallTimeout: time.Second, PageSize: 1, CacheTTL: time.Minute},
		Deps{Catalogue: func() *catalogue.Snapshot { return snap }, Store: st, Conns: dial.New(nil), Logger: slog.New(slog.DiscardHandler)})
	return d, &sess
}

// FuzzDispatch feeds random params to every method: nothing may panic, a request ends
// with exactly one result or error, and everything emitted is valid JSON.
func FuzzDispatch(f *testing.F) {
	seeds := []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"cursor":"YQ"}`, `{"cursor":5}`, `{"name":"t","arguments":{}}`,
		`{"name":"t","_meta":{"progressToken":1,"io.modelcontextprotocol/logLevel":"debug"}}`,
		`{"uri":"mem://zz"}`, `{"level":"info"}`, `{"requestId":1}`, `{"name":"pr","arguments":{"a":1}}`,
		`{"ref":{"type":"ref/resource","uri":"mem://{x}"},"argument":{"name":"x","value":""}}`,
		`{"_meta":[]}`, `{"name":"t","_meta":{"progressToken":{}}}`, `{"name":`,
		`{"name":"t","requestState":"AQ","inputResponses":{"a":{}}}`, `{"name":"pr","requestState":5}`,
		`{"uri":"mem://a","inputResponses":{"a":1}}`, `{"name":"t","inputResponses":[]}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s), i%2 == 0)
	}
	d, sess := newFuzzDispatcher(f)
	f.Fuzz(func(t *testing.T, m uint8, params []byte, isStateful bool) {
		req := &Request{Method: methods[int(m)%len(methods)], Params: params, RequestID: []byte("1")}
		if isStateful {
			req.Session, req.ProtocolVersion = sess, sess.ProtocolVersion
		} else {
			req.ProtocolVersion = "2026-07-28"
		}
		req.Notification = len(req.Method) > 14 && req.Method[:14] == "notifications/"
		var terminal int
		err := d.Dispatch(t.Context(), req, func(ev *sessionv1.HandleResponse) error {
			switch e := ev.GetEvent().(type) {
			case *sessionv1.HandleResponse_Result:
				terminal++
				if !json.Valid(e.Result) {
					t.Fatalf("%s: invalid result JSON %q", req.Method, e.Result)
				}
			case *sessionv1.HandleResponse_Error:
				terminal++
				if len(e.Error.GetData()) > 0 && !json.Valid(e.Error.GetData()) {
					t.Fatalf("%s: invalid error data %q", req.Method, e.Error.GetData())
				}
			case *sessionv1.HandleResponse_Notification:
				if !json.Valid(e.Notification.GetParams()) {
					t.Fatalf("%s: invalid notification JSON", req.Method)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s(%q): transport-level error %v", req.Method, params, err)
		}
		if want := map[bool]int{true: 0, false: 1}[req.Notification]; terminal != want {
			t.Fatalf("%s(%q): %d terminal events, want %d", req.Method, params, terminal, want)
		}
	})
}

func TestInflightCancel(t *testing.T) {
	var f inflight
	f.calls = map[string]*inflightCall{}
	ctx, done := f.track(t.Context(), "s", []byte(`"a"`), 0)
	if !f.cancel("s", []byte(`"\u0061"`)) || ctx.Err() == nil {
		t.Fatal("escaped id did not cancel the call")
	}
	done()
	if f.size() != 0 {
		t.Fatalf("%d calls left", f.size())
	}
	// A reused id: ending the first call must not drop the second's entry.
	_, done1 := f.track(t.Context(), "s", []byte(`7`), time.Minute)
	ctx2, done2 := f.track(t.Context(), "s", []byte(` 7`), 0)
	done1()
	if !f.cancel("s", []byte(`7`)) || ctx2.Err() == nil {
		t.Fatal("second call with a reused id was not cancellable")
	}
	done2()
	if f.cancel("other", []byte(`7`)) || f.cancel("", []byte(`7`)) {
		t.Fatal("cancelled a call that does not exist")
	}
}

func TestClientCancelledTellsTimeoutFromCancel(t *testing.T) {
	var f inflight
	f.calls = map[string]*inflightCall{}
	timedOut, done := f.track(t.Context(), "s", []byte(`1`), time.Nanosecond)
	defer done()
	<-timedOut.Done()
	if clientCancelled(timedOut) {
		t.Error("a tool-call timeout counted as a client cancellation")
	}
	cancelled, done2 := f.track(t.Context(), "s", []byte(`2`), time.Minute)
	defer done2()
	f.cancel("s", []byte(`2`))
	if !clientCancelled(cancelled) {
		t.Error("notifications/cancelled did not count as a client cancellation")
	}
	parent, cancelParent := context.WithCancel(t.Context())
	gone, done3 := f.track(parent, "s", []byte(`3`), time.Minute)
	defer done3()
	cancelParent()
	if !clientCancelled(gone) {
		t.Error("the client going away did not count as a client cancellation")
	}
	live, done4 := f.track(t.Context(), "s", []byte(`4`), time.Minute)
	defer done4()
	if clientCancelled(live) {
		t.Error("a running call counted as cancelled")
	}
}
