package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/registry/internal/store"
)

func TestCallToolRouting(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	alphaAddr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{Tools: tools("echo", "shared", "ask", "bad_args")}))
	betaAddr, stopBeta := serveProvider(t, newTestProvider(&mcpv1.Catalogue{Tools: tools("shared", "beta_only")}))
	h.register(t, "alpha", alphaAddr, 0)
	h.register(t, "beta", betaAddr, 0)

	args, err := structpb.NewStruct(map[string]any{"text": "hi", "n": 2.0})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("happy path", func(t *testing.T) {
		resp, err := h.client.CallTool(t.Context(), &registryv1.CallToolRequest{Name: "echo", Arguments: args})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetIsError() {
			t.Fatal("is_error set")
		}
		if got := resp.GetContent().GetValues()[0].GetStructValue().GetFields()["text"].GetStringValue(); got != "echo" {
			t.Fatalf("content = %v", resp.GetContent())
		}
		sc := resp.GetStructuredContent().GetFields()
		if sc["tool"].GetStringValue() != "echo" || sc["args"].GetStructValue().GetFields()["text"].GetStringValue() != "hi" {
			t.Fatalf("structured content = %v (arguments did not reach the provider intact)", resp.GetStructuredContent())
		}
	})
	t.Run("collided names route to the right provider under its own name", func(t *testing.T) {
		for _, exposed := range []string{"alpha.shared", "beta.shared"} {
			resp, err := h.client.CallTool(t.Context(), &registryv1.CallToolRequest{Name: exposed})
			if err != nil {
				t.Fatal(err)
			}
			// The provider saw its own name and an empty object for absent arguments.
			sc := resp.GetStructuredContent().GetFields()
			if sc["tool"].GetStringValue() != "shared" || sc["args"].GetStructValue() == nil {
				t.Fatalf("%s: structured content = %v", exposed, resp.GetStructuredContent())
			}
		}
	})

	errCases := []struct {
		name    string
		tool    string
		code    codes.Code
		mention []string
		absent  []string
	}{
		{"no name", "", codes.InvalidArgument, []string{"name"}, nil},
		{"unknown tool", "nope", codes.NotFound, []string{"unknown tool nope"}, nil},
		{"plain name of a collided tool", "shared", codes.NotFound, []string{"shared"}, nil},
		{"input required", "ask", codes.FailedPrecondition, []string{"tool ask needs client input; call it through /mcp"}, nil},
		{"provider rejects arguments", "bad_args", codes.InvalidArgument, []string{"bad_args", "missing argument text"}, nil},
	}
	for _, tt := range errCases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.CallTool(t.Context(), &registryv1.CallToolRequest{Name: tt.tool})
			st := wantCode(t, err, tt.code)
			for _, m := range tt.mention {
				if !strings.Contains(st.Message(), m) {
					t.Errorf("message %q does not mention %q", st.Message(), m)
				}
			}
		})
	}

	t.Run("provider down", func(t *testing.T) {
		stopBeta()
		_, err := h.client.CallTool(t.Context(), &registryv1.CallToolRequest{Name: "beta_only"})
		st := wantCode(t, err, codes.Unavailable)
		if !strings.Contains(st.Message(), "beta_only") || !strings.Contains(st.Message(), "beta") {
			t.Errorf("message %q does not name the tool and provider", st.Message())
		}
		if strings.Contains(st.Message(), betaAddr) || strings.Contains(st.Message(), "connection refused") {
			t.Errorf("message %q leaks internal details", st.Message())
		}
	})
}

func TestCallToolRefusedAddressFailsFast(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	// The registered address refuses connections from the start: the call must fail
	// with Unavailable, not wait for the 30 s call timeout.
	addr, stop := serveProvider(t, newTestProvider(&mcpv1.Catalogue{Tools: tools("echo")}))
	h.register(t, "svc", addr, 0)
	stop()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := h.client.CallTool(ctx, &registryv1.CallToolRequest{Name: "echo"})
	wantCode(t, err, codes.Unavailable)
}

func TestStatusOfMapping(t *testing.T) {
	cause := errors.New("dial tcp 10.0.0.7:9000: connection refused")
	tests := []struct {
		name string
		err  error
		code codes.Code
		msg  string // exact message, or "" to only check it hides the cause
	}{
		{"nil", nil, codes.OK, ""},
		{"invalid argument", fail(errInvalidArgument, nil, "bad %s", "x"), codes.InvalidArgument, "bad x"},
		{"not found", fail(errNotFound, nil, "unknown tool t"), codes.NotFound, "unknown tool t"},
		{"already exists", fail(errAlreadyExists, nil, "static"), codes.AlreadyExists, "static"},
		{"input required", fail(errInputRequired, nil, "needs input"), codes.FailedPrecondition, "needs input"},
		{"provider unavailable", fail(errProviderUnavailable, cause, "provider p is unavailable"), codes.Unavailable, "provider p is unavailable"},
		{"provider timeout", fail(errProviderTimeout, cause, "too slow"), codes.DeadlineExceeded, "too slow"},
		{"provider failed", fail(errProviderFailed, cause, "tool t failed"), codes.Internal, "tool t failed"},
		{"shutting down", fail(errShuttingDown, nil, "bye"), codes.Unavailable, "bye"},
		{"store unavailable", fmt.Errorf("renew p: %w: %w", store.ErrUnavailable, cause), codes.Unavailable, "registry store unavailable, retry"},
		{"store unavailable under a domain error", fail(errProviderFailed, fmt.Errorf("list: %w", store.ErrUnavailable), "x"), codes.Unavailable, "registry store unavailable, retry"},
		{"wrapped domain error", fmt.Errorf("outer: %w", fail(errNotFound, nil, "inner")), codes.NotFound, "inner"},
		{"canceled", context.Canceled, codes.Canceled, ""},
		{"deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), codes.DeadlineExceeded, ""},
		{"internal error is masked", cause, codes.Internal, ""},
		{"status passes through", status.Error(codes.ResourceExhausted, "slow down"), codes.ResourceExhausted, "slow down"},
	}
	logger := slog.New(slog.DiscardHandler)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := statusOf(t.Context(), logger, "Test", tt.err)
			st, _ := status.FromError(got)
			if st.Code() != tt.code {
				t.Fatalf("code = %s, want %s", st.Code(), tt.code)
			}
			if tt.msg != "" && st.Message() != tt.msg {
				t.Fatalf("message = %q, want %q", st.Message(), tt.msg)
			}
			if strings.Contains(st.Message(), "10.0.0.7") {
				t.Fatalf("message %q leaks the cause", st.Message())
			}
		})
	}
}

func TestEveryDomainErrorIsMapped(t *testing.T) {
	mapped := map[error]bool{}
	for _, m := range codeOf {
		mapped[m.kind] = true
	}
	for _, kind := range []error{errInvalidArgument, errNotFound, errAlreadyExists, errInputRequired,
		errProviderUnavailable, errProviderTimeout, errProviderFailed, errShuttingDown, errStoreUnavailable} {
		if !mapped[kind] {
			t.Errorf("%v has no gRPC code", kind)
		}
	}
}

func TestProviderCallErrorClassification(t *testing.T) {
	tests := []struct {
		in   error
		code codes.Code
	}{
		{status.Error(codes.Unavailable, "connection refused"), codes.Unavailable},
		{status.Error(codes.DeadlineExceeded, "deadline"), codes.DeadlineExceeded},
		{status.Error(codes.InvalidArgument, "bad"), codes.InvalidArgument},
		{status.Error(codes.Internal, "nil pointer at foo.go:12"), codes.Internal},
		{status.Error(codes.Canceled, "canceled"), codes.Canceled},
		{context.Canceled, codes.Canceled},
	}
	for _, tt := range tests {
		err := providerCallError(tt.in, "tool", catalogueRoute("p"))
		st, _ := status.FromError(statusOf(t.Context(), slog.New(slog.DiscardHandler), "Test", err))
		if st.Code() != tt.code {
			t.Errorf("%v -> %s, want %s", tt.in, st.Code(), tt.code)
		}
		if strings.Contains(st.Message(), "foo.go") {
			t.Errorf("%v leaks provider internals: %q", tt.in, st.Message())
		}
	}
}

func catalogueRoute(provider string) catalogue.Route {
	return catalogue.Route{Provider: provider, Address: "127.0.0.1:1", Tool: "tool"}
}
