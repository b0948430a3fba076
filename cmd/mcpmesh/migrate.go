package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/mesh"
	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/logging"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
)

// runMigrate applies the database migrations of the configured targets (by default
// all, so every table) and exits: for a Kubernetes Job or an init container.
func runMigrate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("mcpmesh migrate [flags]",
		"Creates or updates the PostgreSQL tables of the targets (default: all, so every table), under\n"+
			"an advisory lock so replicas starting together do not race, and exits. The database comes\n"+
			"from -database.url, the config file or MCPMESH_DATABASE_URL.")
	file := fs.String("config", "", "YAML configuration file")
	fs.String("database.url", "", "PostgreSQL URL, e.g. postgres://user@127.0.0.1:5432/mcpmesh?sslmode=disable")
	fs.String("database.password_file", "", "file holding the password (overrides the URL's)")
	fs.String("target", meshconfig.TargetAll, "whose tables: all, or a comma-separated list of "+strings.Join(meshconfig.Services, ", "))
	fs.String("log.level", "info", "log level: debug, info, warn, error")
	fs.String("log.format", logging.FormatAuto, "log format: "+logging.FormatChoices)
	loaded, err := loadConfig(fs, file, args, environ, stdout, stderr)
	if err != nil {
		return err
	}
	cfg := loaded.Value
	if !cfg.Database.Enabled() {
		return errors.New("migrate: no database: set -database.url, database.url in the -config file, or MCPMESH_DATABASE_URL")
	}
	owners := mesh.OwnsTables(cfg)
	if len(owners) == 0 {
		return fmt.Errorf("migrate: none of the targets %v owns tables (only %s do)", cfg.Targets(), strings.Join(mesh.OwnsTables(meshconfig.Default()), " and "))
	}
	logger, _, err := logging.New(stderr, cfg.Log)
	if err != nil {
		return err
	}
	pool, err := pgdb.Open(ctx, cfg.Database)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer pool.Close()
	if err := pgdb.CheckConnection(ctx, pool, cfg.Database); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := mesh.Migrate(ctx, cfg, pool, logger); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stdout, "migrated the %s tables of %s\n", strings.Join(owners, " and "), cfg.Database.Redacted())
	return nil
}
