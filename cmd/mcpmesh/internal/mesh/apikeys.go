package mesh

import (
	"context"
	"sync"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
	"github.com/mcpmesh/mcpmesh/services/kit/apikeydb"
)

// apiKeyFollower is this replica's copy of the database's API keys when the gateway
// accepts API keys and the mesh has a database; nil otherwise (the gateway then reads
// auth.api_keys.file).
func (m *Mesh) apiKeyFollower() (*apikeydb.Follower, error) {
	if !m.cfg.APIKeysInDatabase() || m.db == nil {
		return nil, nil
	}
	c := m.cfg.Auth.APIKeys
	return apikeydb.NewFollower(m.db, apikeydb.FollowerSettings{
		MaxStaleness:     c.MaxStaleness,
		LastUsedInterval: c.LastUsedInterval,
		Logger:           m.telemetryFor(meshconfig.TargetGateway).Logger,
	})
}

// keySource keeps a nil follower a nil interface.
func keySource(f *apikeydb.Follower) apikey.Source {
	if f == nil {
		return nil
	}
	return f
}

// withFollower runs f beside serve: it starts with serving and stops after shutdown.
func withFollower(f *apikeydb.Follower, serve func() error, shutdown func(context.Context) error) (func() error, func(context.Context) error) {
	ctx, stop := context.WithCancel(context.Background())
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		stopped bool // a shutdown that comes before serve starts nothing
	)
	stopFollowing := func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		stop()
		wg.Wait()
	}
	return func() error {
			mu.Lock()
			if !stopped {
				wg.Go(func() { f.Run(ctx) })
			}
			mu.Unlock()
			err := serve()
			if err != nil {
				stopFollowing()
			}
			return err
		}, func(sctx context.Context) error {
			err := shutdown(sctx)
			stopFollowing()
			return err
		}
}
