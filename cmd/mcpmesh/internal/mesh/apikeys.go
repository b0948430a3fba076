package mesh

import (
	"context"
	"errors"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/apikeydb"
	"github.com/mcpmesh/mcpmesh/services/kit/lifecycle"
)

// initAPIKeys is the module that keeps this replica's copy of the database's API keys
// (when the gateway accepts API keys and the mesh has a database; without one the
// gateway reads auth.api_keys.file) and writes their last uses when it stops.
func (m *Mesh) initAPIKeys() (*lifecycle.Service, error) {
	if m.db == nil {
		return nil, errors.New("api keys: the database is not open")
	}
	c := m.cfg.Auth.APIKeys
	f, err := apikeydb.NewFollower(m.db, apikeydb.FollowerSettings{
		MaxStaleness:     c.MaxStaleness,
		LastUsedInterval: c.LastUsedInterval,
		Logger:           m.telemetryFor(meshconfig.TargetGateway).Logger,
	})
	if err != nil {
		return nil, err
	}
	m.apiKeys = f
	return lifecycle.NewService(moduleAPIKeys, lifecycle.Funcs{
		Running: func(ctx context.Context) error {
			f.Run(ctx)
			return nil
		},
	}), nil
}
