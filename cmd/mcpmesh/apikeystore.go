package main

import (
	"context"
	"errors"
	"time"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
	"github.com/mcpmesh/mcpmesh/services/kit/apikeydb"
	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
	"github.com/mcpmesh/mcpmesh/services/session"
)

// keyStore is where `mcpmesh apikey` keeps the keys: the database's api_keys table
// when database.url is set, else auth.api_keys.file.
type keyStore interface {
	Load(ctx context.Context) ([]apikey.Record, error)
	Create(ctx context.Context, r apikey.Record) error
	Revoke(ctx context.Context, name string, now time.Time) error
}

// openKeyStore opens the store cfg names and returns how to close it.
func openKeyStore(ctx context.Context, cfg meshconfig.Config) (keyStore, func(), error) {
	file := cfg.Auth.APIKeys.File
	if !cfg.Database.Enabled() {
		if file == "" {
			return nil, nil, errors.New("no key store: set -database.url (keys in the database) or -auth.api_keys.file (keys in a file, without a database); or their keys in the -config file or MCPMESH_*")
		}
		return fileKeys{apikey.NewFileStore(file)}, func() {}, nil
	}
	if file != "" {
		return nil, nil, errors.New("both database.url and auth.api_keys.file are set: with a database the keys are kept there; unset auth.api_keys.file")
	}
	if err := cfg.Database.Validate(); err != nil {
		return nil, nil, err
	}
	pool, err := pgdb.Open(ctx, cfg.Database)
	if err != nil {
		return nil, nil, err
	}
	if err := pgdb.CheckConnection(ctx, pool, cfg.Database); err != nil {
		pool.Close()
		return nil, nil, err
	}
	// The api_keys table comes with the session service's migrations.
	if err := session.CheckSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, nil, err
	}
	return apikeydb.NewPGStore(pool), pool.Close, nil
}

// fileKeys is the file store as a keyStore (a local file needs no context).
type fileKeys struct{ *apikey.FileStore }

func (f fileKeys) Load(context.Context) ([]apikey.Record, error) { return f.FileStore.Load() }
func (f fileKeys) Create(_ context.Context, r apikey.Record) error {
	return f.FileStore.Create(r)
}
func (f fileKeys) Revoke(_ context.Context, name string, now time.Time) error {
	return f.FileStore.Revoke(name, now)
}
