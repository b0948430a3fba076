package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/mesh"
	"github.com/mcpmesh/mcpmesh/services/kit/logging"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
)

// runMigrate applies the database migrations of the configured targets (by default
// all, so every table) and exits: for a Kubernetes Job or an init container.
func runMigrate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	loaded, err := loadConfig("mcpmesh migrate", args, environ, stderr)
	if err != nil {
		return err
	}
	cfg := loaded.Value
	if !cfg.Database.Enabled() {
		return errors.New("migrate: database.url (MCPMESH_DATABASE_URL) is not set")
	}
	logger, _, err := logging.New(stderr, cfg.Log)
	if err != nil {
		return err
	}
	pool, err := pgdb.Open(ctx, cfg.Database, logger)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer pool.Close()
	if err := pgdb.Ping(ctx, pool); err != nil {
		return fmt.Errorf("migrate: database %s unreachable: %w", cfg.Database.Redacted(), err)
	}
	if err := mesh.Migrate(ctx, cfg, pool, logger); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrated %s for targets %v\n", cfg.Database.Redacted(), cfg.Targets())
	return nil
}
