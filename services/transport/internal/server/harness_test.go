package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/server"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/sessiontest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// harness runs the TransportService and the test SessionService in one kit gRPC server:
// the transport reaches the session through the in-process channel (as in
// -target=all) and the test reaches the transport over loopback TCP (as the gateway).
type harness struct {
	client  transportv1.TransportServiceClient
	session *sessiontest.Service
}

type harnessOptions struct {
	retryMS       int32
	handleTimeout time.Duration
}

func newHarness(tb testing.TB, opts harnessOptions) *harness {
	tb.Helper()
	if opts.handleTimeout == 0 {
		opts.handleTimeout = 30 * time.Second
	}
	logger := slog.New(slog.DiscardHandler)
	srv := grpcserver.New(grpcserver.Settings{Logger: logger})
	sess := sessiontest.New()
	srv.Register(&sessionv1.SessionService_ServiceDesc, sess)
	srv.Register(&transportv1.TransportService_ServiceDesc, server.New(server.Settings{
		Logger:        logger,
		Session:       sessionv1.NewSessionServiceClient(srv.InProcess()),
		RetryMS:       opts.retryMS,
		HandleTimeout: opts.handleTimeout,
	}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() {
		_ = conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-served; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return &harness{client: transportv1.NewTransportServiceClient(conn), session: sess}
}

// answer is one Exchange or Listen stream as the gateway sees it.
type answer struct {
	head *transportv1.ResponseHead
	msgs []*transportv1.Message
}

// event is what both stream kinds deliver.
type event interface {
	GetHead() *transportv1.ResponseHead
	GetMessage() *transportv1.Message
}

// collect reads a stream to its end and checks the head comes first, exactly once.
func collect[T event](tb testing.TB, recv func() (T, error)) (answer, error) {
	tb.Helper()
	var a answer
	for {
		ev, err := recv()
		if errors.Is(err, io.EOF) {
			if a.head == nil {
				tb.Fatal("stream ended without a head")
			}
			return a, nil
		}
		if err != nil {
			return a, err
		}
		switch {
		case ev.GetHead() != nil:
			if a.head != nil {
				tb.Fatalf("second head %v", ev.GetHead())
			}
			a.head = ev.GetHead()
		case ev.GetMessage() != nil:
			if a.head == nil {
				tb.Fatal("message before head")
			}
			a.msgs = append(a.msgs, ev.GetMessage())
		default:
			tb.Fatal("empty event")
		}
	}
}

func (h *harness) exchange(tb testing.TB, md *transportv1.RequestMetadata, body string) answer {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := h.client.Exchange(ctx, &transportv1.ExchangeRequest{Metadata: md, Body: []byte(body)})
	if err != nil {
		tb.Fatalf("Exchange: %v", err)
	}
	a, err := collect(tb, stream.Recv)
	if err != nil {
		tb.Fatalf("Exchange stream: %v", err)
	}
	checkFraming(tb, a)
	return a
}

// checkFraming enforces the head/message contract the gateway relies on.
func checkFraming(tb testing.TB, a answer) {
	tb.Helper()
	switch a.head.GetFraming() {
	case transportv1.Framing_FRAMING_NONE:
		if len(a.msgs) != 0 {
			tb.Fatalf("FRAMING_NONE with %d messages", len(a.msgs))
		}
	case transportv1.Framing_FRAMING_JSON:
		if len(a.msgs) != 1 {
			tb.Fatalf("FRAMING_JSON with %d messages", len(a.msgs))
		}
		if a.msgs[0].GetEventId() != "" {
			tb.Fatalf("JSON message with event id %q", a.msgs[0].GetEventId())
		}
	case transportv1.Framing_FRAMING_EVENT_STREAM:
		if a.head.GetHttpStatus() != 200 {
			tb.Fatalf("event stream with status %d", a.head.GetHttpStatus())
		}
	default:
		tb.Fatalf("framing %v", a.head.GetFraming())
	}
	for i, m := range a.msgs {
		if len(m.GetData()) == 0 {
			// Only the priming event of a stateful event stream has no data, and it
			// comes first, with an id.
			if i != 0 || a.head.GetFraming() != transportv1.Framing_FRAMING_EVENT_STREAM || m.GetEventId() == "" {
				tb.Fatalf("message %d of %d has no data (event id %q, framing %v)", i, len(a.msgs), m.GetEventId(), a.head.GetFraming())
			}
			continue
		}
		if !json.Valid(m.GetData()) {
			tb.Fatalf("message is not JSON: %q", m.GetData())
		}
	}
}

// isPriming reports a priming event: an event id and no data.
func isPriming(m *transportv1.Message) bool {
	return len(m.GetData()) == 0 && m.GetEventId() != ""
}

// rpcMessage is an emitted JSON-RPC message, decoded with encoding/json.
type rpcMessage struct {
	JSONRPC string           `json:"jsonrpc"`
	ID      *json.RawMessage `json:"id"`
	Method  string           `json:"method"`
	Params  json.RawMessage  `json:"params"`
	Result  json.RawMessage  `json:"result"`
	Error   *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

// decodeMessage checks that data is one well-formed JSON-RPC message with id wantID
// ("" = no id member at all).
func decodeMessage(tb testing.TB, data []byte, wantID string) rpcMessage {
	tb.Helper()
	var m rpcMessage
	if err := json.Unmarshal(data, &m); err != nil {
		tb.Fatalf("message %s: %v", data, err)
	}
	if m.JSONRPC != "2.0" {
		tb.Fatalf("message %s: jsonrpc %q", data, m.JSONRPC)
	}
	var kinds int
	for _, present := range []bool{m.Method != "", m.Result != nil, m.Error != nil} {
		if present {
			kinds++
		}
	}
	if kinds != 1 {
		tb.Fatalf("message %s: want exactly one of method, result, error", data)
	}
	switch {
	case wantID == "" && m.ID != nil:
		tb.Fatalf("message %s: has id, want none", data)
	case wantID != "" && (m.ID == nil || string(*m.ID) != wantID):
		tb.Fatalf("message %s: want id %s", data, wantID)
	}
	if strings.Contains(string(data), sessiontest.SecretDetail) {
		tb.Fatalf("message %s leaks internals", data)
	}
	return m
}

func validUTF8(values ...string) bool {
	for _, v := range values {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}
