package mesh

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"
)

// servingModule is the lifecycle of a server that serves on its own goroutine until
// shut down: it runs while serve does, fails when serve returns by itself, and its
// stop calls shutdown (bounded by the shutdown context) and waits for serve to
// return.
func (m *Mesh) servingModule(name string, serve func() error, shutdown func(context.Context) error) *lifecycle.Service {
	served := make(chan struct{})
	var serveErr error
	return lifecycle.NewService(name, lifecycle.Funcs{
		Starting: func(context.Context) error {
			go func() {
				serveErr = serve()
				close(served)
			}()
			return nil
		},
		Running: func(ctx context.Context) error {
			select {
			case <-served:
				return stoppedServing(serveErr)
			case <-ctx.Done():
				return nil
			}
		},
		Stopping: func(error) error {
			err := shutdown(m.shutdownContext())
			<-served
			return err
		},
	})
}

func stoppedServing(err error) error {
	if err == nil {
		err = errors.New("no error")
	}
	return fmt.Errorf("stopped serving: %w", err)
}

// initGRPCServer is the gRPC server's module. Its stop is the drain: GracefulStop,
// bounded by the shutdown context, then a hard stop.
func (m *Mesh) initGRPCServer() (*lifecycle.Service, error) {
	return lifecycle.NewService(moduleGRPCServer, lifecycle.Funcs{
		Stopping: func(error) error {
			m.grpcServer.Shutdown(m.shutdownContext())
			m.grpcMu.Lock()
			serving := m.grpcServing
			m.grpcDrained = true
			m.grpcMu.Unlock()
			if serving {
				<-m.grpcServed
			}
			return nil
		},
	}), nil
}

// initGRPCServing is the module that accepts gRPC connections once every gRPC
// service of the process runs. Its stop reports NOT_SERVING for every service and
// waits grpc.drain_delay, so load balancers stop sending new work before the drain.
func (m *Mesh) initGRPCServing() (*lifecycle.Service, error) {
	var serveErr error
	return lifecycle.NewService(moduleGRPCServing, lifecycle.Funcs{
		Starting: func(context.Context) error {
			m.grpcMu.Lock()
			m.grpcServing = true
			m.grpcMu.Unlock()
			go func() {
				serveErr = m.grpcServer.Serve(m.grpcLis)
				close(m.grpcServed)
			}()
			return nil
		},
		Running: func(ctx context.Context) error {
			select {
			case <-m.grpcServed:
				return stoppedServing(serveErr)
			case <-ctx.Done():
				return nil
			}
		},
		Stopping: func(error) error {
			m.grpcServer.SetNotServing()
			if d := m.cfg.GRPC.DrainDelay; d > 0 {
				t := time.NewTimer(d)
				defer t.Stop()
				select {
				case <-t.C:
				case <-m.shutdownContext().Done():
				}
			}
			return nil
		},
	}), nil
}

// initAdmin serves the admin listener until its stop.
func (m *Mesh) initAdmin() (*lifecycle.Service, error) {
	return m.servingModule(moduleAdmin, m.serveAdmin, func(ctx context.Context) error {
		if err := m.admin.Shutdown(ctx); err != nil {
			return errors.Join(err, m.admin.Close())
		}
		return nil
	}), nil
}
