// Package server implements transportv1.TransportServiceServer: it decodes the POSTed
// JSON-RPC message, chooses the protocol generation, applies that generation's checks,
// calls the session service and frames what comes back as a ResponseHead followed by
// Message events (see the transport package doc for the contract with the gateway).
package server

import (
	"log/slog"
	"time"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
)

// Settings are the server's dependencies and tunables.
type Settings struct {
	Logger  *slog.Logger
	Session sessionv1.SessionServiceClient
	// RetryMS is the SSE retry hint of stateful streams; 0 sends none.
	RetryMS int32
	// HandleTimeout bounds a whole Exchange.
	HandleTimeout time.Duration
}

// Server is the TransportService implementation.
type Server struct {
	transportv1.UnimplementedTransportServiceServer
	logger        *slog.Logger
	session       sessionv1.SessionServiceClient
	retryMS       int32
	handleTimeout time.Duration
}

// New builds a Server; Settings must carry a Session client and a Logger.
func New(s Settings) *Server {
	return &Server{
		logger:        s.Logger,
		session:       s.Session,
		retryMS:       s.RetryMS,
		handleTimeout: s.HandleTimeout,
	}
}
