package mesh

import (
	"fmt"
	"log/slog"

	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
	"google.golang.org/grpc"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
)

// transportSecurity is what grpc.tls adds to the process's gRPC server and clients.
type transportSecurity struct {
	serverOptions []grpc.ServerOption
	dialOptions   []grpc.DialOption
}

// newTransportSecurity loads the process's certificate and CA (reloaded on change
// from then on) and builds TLS for the network server, the allow-list of peer
// identities in its interceptor chain, and TLS for every client connection. In-process
// calls cross no network and are not affected.
func newTransportSecurity(cfg meshconfig.Config, logger *slog.Logger) (transportSecurity, error) {
	var ts transportSecurity
	tlsCfg := cfg.GRPC.TLS
	if !tlsCfg.ClientEnabled() {
		return ts, nil
	}
	files, err := meshtls.Load(tlsCfg, logger)
	if err != nil {
		return ts, fmt.Errorf("grpc.tls: %w", err)
	}
	ts.dialOptions = []grpc.DialOption{meshtls.DialOption(files)}
	if !tlsCfg.Enabled() {
		return ts, nil
	}
	creds, err := meshtls.ServerOption(files)
	if err != nil {
		return ts, fmt.Errorf("grpc.tls: %w", err)
	}
	allow := cfg.AllowList()
	ts.serverOptions = []grpc.ServerOption{
		creds,
		grpc.ChainUnaryInterceptor(allow.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(allow.StreamInterceptor()),
	}
	return ts, nil
}
