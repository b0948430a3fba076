package backend

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
)

// Circuit breaking of provider calls: after session.breaker.failure_threshold
// consecutive calls to a provider fail because it did not answer (Unavailable or
// DeadlineExceeded), calls to it fail at once for session.breaker.open_timeout instead
// of each waiting for its own timeout; then one trial call decides. An open breaker
// reads as Unavailable, so the client gets the usual "provider X did not answer".

// isProviderFailure counts the errors that say the provider is unhealthy, not the ones
// that say a request was wrong.
func isProviderFailure(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	default:
		return false
	}
}

// guardWith returns the dispatcher's provider-call guard: the provider's breaker around
// its connection. Only the dispatcher's calls go through it; long-lived watch streams
// do not (they would hold a half-open breaker's trial slot).
func guardWith(breakers *breaker.Breakers) func(string, grpc.ClientConnInterface) grpc.ClientConnInterface {
	return func(provider string, conn grpc.ClientConnInterface) grpc.ClientConnInterface {
		return breakerConn{ClientConnInterface: conn, provider: provider, breakers: breakers}
	}
}

type breakerConn struct {
	grpc.ClientConnInterface
	provider string
	breakers *breaker.Breakers
}

func (c breakerConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	err := c.breakers.Do(ctx, c.provider, func() error {
		return c.ClientConnInterface.Invoke(ctx, method, args, reply, opts...)
	})
	return openAsUnavailable(err)
}

func (c breakerConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	done, err := c.breakers.Allow(ctx, c.provider)
	if err != nil {
		return nil, openAsUnavailable(err)
	}
	s, err := c.ClientConnInterface.NewStream(ctx, desc, method, opts...)
	if err != nil {
		done(err)
		return nil, err
	}
	return &breakerStream{ClientStream: s, done: done}, nil
}

// breakerStream reports the call's outcome when its first message (or its end)
// arrives: by then the provider has answered or not.
type breakerStream struct {
	grpc.ClientStream
	done func(error)
	once sync.Once
}

func (s *breakerStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	s.once.Do(func() {
		if errors.Is(err, io.EOF) {
			s.done(nil)
		} else {
			s.done(err)
		}
	})
	return err
}

func openAsUnavailable(err error) error {
	if errors.Is(err, breaker.ErrOpen) {
		return status.Error(codes.Unavailable, err.Error())
	}
	return err
}
