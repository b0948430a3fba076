package meshtls

import (
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// ServerOption serves gRPC over TLS with f's reloaded files.
func ServerOption(f *Files) (grpc.ServerOption, error) {
	cfg, err := ServerConfig(f)
	if err != nil {
		return nil, fmt.Errorf("gRPC server TLS: %w", err)
	}
	return grpc.Creds(credentials.NewTLS(cfg)), nil
}

// DialOption dials gRPC peers over TLS with f's reloaded files.
func DialOption(f *Files) grpc.DialOption {
	return grpc.WithTransportCredentials(credentials.NewTLS(ClientConfig(f)))
}

// IsLoopback reports whether a listen address (host:port) binds loopback only:
// 127.0.0.0/8, ::1 or localhost. An empty host (every interface) is not loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
