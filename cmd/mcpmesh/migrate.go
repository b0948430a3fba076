package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/mesh"
	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/logging"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
)

// runMigrate applies (`up`, the default), lists (`status`) or undoes (`down SERVICE`)
// the database migrations of the configured targets (by default all, so every table)
// and exits: `up` is for a Kubernetes Job or an init container, `status` and `down` for
// operators (docs/operations/database.md).
func runMigrate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	action, service := "up", ""
	if len(args) > 0 && (args[0] == "up" || args[0] == "status" || args[0] == "down") {
		action, args = args[0], args[1:]
	}
	if action == "down" {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return errors.New("migrate down: name the service whose newest migration to undo: mcpmesh migrate down registry|session|federation [flags]")
		}
		service, args = args[0], args[1:]
	}
	fs := newFlagSet("mcpmesh migrate [up|status|down SERVICE] [flags]",
		"Creates or updates the PostgreSQL tables of the targets (default: all, so every table), under\n"+
			"an advisory lock so replicas starting together do not race, and exits. The database comes\n"+
			"from -database.url, the config file or MCPMESH_DATABASE_URL. `status` lists every migration,\n"+
			"applied or pending; `down SERVICE` undoes the newest applied migration of registry, session or federation.")
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
	switch action {
	case "status":
		statuses, err := mesh.MigrationStatus(ctx, cfg, pool)
		if err != nil {
			return fmt.Errorf("migrate status: %w", err)
		}
		return printMigrationStatus(stdout, statuses)
	case "down":
		undone, err := mesh.MigrateDown(ctx, service, pool, logger)
		if err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		fmt.Fprintf(stdout, "undid %s migration %d (%s) on %s\n", undone.Service, undone.Version, undone.File, cfg.Database.Redacted())
		return nil
	}
	if err := mesh.Migrate(ctx, cfg, pool, logger); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stdout, "migrated the %s tables of %s\n", listed(owners), cfg.Database.Redacted())
	return nil
}

// printMigrationStatus writes one line per migration: service, version, state, when.
func printMigrationStatus(w io.Writer, statuses []pgdb.MigrationStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tVERSION\tFILE\tSTATE\tAPPLIED AT")
	for _, st := range statuses {
		state, at := "pending", "-"
		if st.Applied {
			state, at = "applied", st.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", st.Service, st.Version, st.File, state, at)
	}
	return tw.Flush()
}

// listed joins names as a sentence does: "a", "a and b", "a, b and c".
func listed(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
