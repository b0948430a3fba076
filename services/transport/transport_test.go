package transport_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/transport"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/sessiontest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  transport.Config
		want []string // substrings of the error; none = valid
	}{
		{"defaults", transport.DefaultConfig(), nil},
		{"retry hint", transport.Config{SSERetryMS: 5000, HandleTimeout: time.Second}, nil},
		{"negative retry", transport.Config{SSERetryMS: -1, HandleTimeout: time.Second}, []string{"transport.sse_retry_ms"}},
		{"all problems at once", transport.Config{SSERetryMS: -1}, []string{"transport.sse_retry_ms", "transport.handle_timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted an invalid config")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not name %s", err, w)
				}
			}
		})
	}
	if d := transport.DefaultConfig(); d.SSERetryMS != 0 || d.HandleTimeout != 120*time.Second {
		t.Fatalf("defaults = %+v", d)
	}
}

func TestNewRequiresSession(t *testing.T) {
	if _, err := transport.New(transport.DefaultConfig(), transport.Deps{}); err == nil || !strings.Contains(err.Error(), "Session") {
		t.Fatalf("New without a session client: %v", err)
	}
	if _, err := transport.New(transport.Config{}, transport.Deps{}); err == nil || !strings.Contains(err.Error(), "handle_timeout") {
		t.Fatalf("New with an invalid config: %v", err)
	}
}

// TestServiceOverGRPC registers the public Service in a kit gRPC server and runs an
// initialize through it over loopback.
func TestServiceOverGRPC(t *testing.T) {
	srv := grpcserver.New(grpcserver.Settings{})
	srv.Register(&sessionv1.SessionService_ServiceDesc, sessiontest.New())
	svc, err := transport.New(transport.DefaultConfig(), transport.Deps{Session: sessionv1.NewSessionServiceClient(srv.InProcess())})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	svc.Register(srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := svc.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = conn.Close()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		srv.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	stream, err := transportv1.NewTransportServiceClient(conn).Exchange(ctx, &transportv1.ExchangeRequest{
		Metadata: &transportv1.RequestMetadata{AcceptsJson: true, AcceptsEventStream: true},
		Body:     []byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}`),
	})
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	head, err := stream.Recv()
	if err != nil || head.GetHead().GetHttpStatus() != 200 || head.GetHead().GetSessionId() == "" {
		t.Fatalf("head = %v, %v", head, err)
	}
	msg, err := stream.Recv()
	if err != nil || !strings.HasPrefix(string(msg.GetMessage().GetData()), `{"jsonrpc":"2.0","id":1,"result":{`) {
		t.Fatalf("message = %v, %v", msg, err)
	}
}
