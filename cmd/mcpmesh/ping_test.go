package main

import (
	"strings"
	"testing"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
)

func TestDefaultHealthAddress(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    string
	}{
		{"defaults", nil, "127.0.0.1:9090"},
		{"listen on every interface", []string{"MCPMESH_GRPC_LISTEN=0.0.0.0:9999", "MCPMESH_GRPC_PLAINTEXT=true"}, "127.0.0.1:9999"},
		{"listen with an empty host", []string{"MCPMESH_GRPC_LISTEN=:7000", "MCPMESH_GRPC_PLAINTEXT=true"}, "127.0.0.1:7000"},
		{"health elsewhere", []string{"MCPMESH_GRPC_LISTEN=0.0.0.0:9999", "MCPMESH_PEERS_HEALTH=health.mcpmesh.svc:9090", "MCPMESH_GRPC_PLAINTEXT=true"}, "health.mcpmesh.svc:9090"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaultHealthAddress(tt.environ); got != tt.want {
				t.Fatalf("defaultHealthAddress = %q, want %q", got, tt.want)
			}
		})
	}
}

// -self is what the image's HEALTHCHECK runs: one command whose address follows the
// environment's target.
func TestSelfAddress(t *testing.T) {
	tests := []struct {
		name      string
		environ   []string
		wantAddr  string
		wantPlain bool
	}{
		// A gateway on every interface needs an auth mode, or its configuration is refused.
		{"all runs the gateway", []string{"MCPMESH_AUTH_MODE=none", "MCPMESH_GATEWAY_LISTEN=0.0.0.0:8088"}, "http://127.0.0.1:8088", false},
		{"gateway only", []string{"MCPMESH_TARGET=gateway", "MCPMESH_GRPC_PLAINTEXT=true", "MCPMESH_AUTH_MODE=none", "MCPMESH_GATEWAY_LISTEN=:8081",
			"MCPMESH_PEERS_TRANSPORT=t:9090", "MCPMESH_PEERS_SESSION=s:9090", "MCPMESH_PEERS_REGISTRY=r:9090", "MCPMESH_PEERS_HEALTH=h:9090"}, "http://127.0.0.1:8081", false},
		{"gRPC target", []string{"MCPMESH_TARGET=session", "MCPMESH_GRPC_PLAINTEXT=true", "MCPMESH_GRPC_LISTEN=0.0.0.0:9191", "MCPMESH_PEERS_REGISTRY=registry:9090"}, "127.0.0.1:9191", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, plain := selfAddress(tt.environ)
			if addr != tt.wantAddr || plain != tt.wantPlain {
				t.Fatalf("selfAddress = %q, %v; want %q, %v", addr, plain, tt.wantAddr, tt.wantPlain)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		name string
		resp *healthv1.CheckResponse
		want []string
	}{
		{"provider down", &healthv1.CheckResponse{
			Status: healthv1.Status_STATUS_DEGRADED,
			Components: []*healthv1.Component{
				{Name: "session", Kind: healthv1.ComponentKind_COMPONENT_KIND_SERVICE, Status: healthv1.Status_STATUS_SERVING},
				{Name: "weather", Kind: healthv1.ComponentKind_COMPONENT_KIND_PROVIDER, Status: healthv1.Status_STATUS_NOT_SERVING,
					Message: "connection refused", Address: "10.0.0.7:9090"},
			},
		}, []string{"mesh is degraded", "provider weather: not_serving: connection refused (at 10.0.0.7:9090)"}},
		{"not checked yet", &healthv1.CheckResponse{}, []string{"mesh is unspecified", "first round"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := explain(tt.resp)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("explain = %q, want it to contain %q", got, w)
				}
			}
			if strings.Contains(got, "session") {
				t.Errorf("explain = %q names a serving component", got)
			}
		})
	}
}
