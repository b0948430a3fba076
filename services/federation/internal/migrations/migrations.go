// Package migrations holds the federation's schema changes as goose SQL files, embedded
// in the binary and applied by federation.Migrate.
package migrations

import "embed"

// FS holds the migration files (NNNNN_name.sql) at its root.
//
//go:embed *.sql
var FS embed.FS
