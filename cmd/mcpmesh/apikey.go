package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/apikey"
)

const apikeyAbout = "Manages API keys (auth.mode api_key or oauth+api_key): `create` prints a new key once and\n" +
	"stores only its HMAC-SHA256 under the pepper; `list` shows names, scopes, expiry, revocation and\n" +
	"last use; `revoke` stops a key. With database.url set the keys are in the database's api_keys\n" +
	"table (every gateway replica hears of a change at once, and within auth.api_keys.max_staleness\n" +
	"at worst); without one, in auth.api_keys.file (a running gateway notices within a second). The\n" +
	"pepper comes from auth.api_keys.pepper_file (flags, -config or MCPMESH_*)."

// runAPIKey is `mcpmesh apikey create|list|revoke`.
func runAPIKey(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	usage := "mcpmesh apikey create|list|revoke [flags]"
	if len(args) == 0 || isFlag(args[0]) {
		if len(args) > 0 && isHelpFlag(args[0]) {
			fmt.Fprintf(stdout, "Usage: %s\n\n%s\n", usage, apikeyAbout)
			return nil
		}
		fmt.Fprintf(stderr, "mcpmesh apikey: name an action: %s\n", usage)
		return exitError{code: 2}
	}
	action, args := args[0], args[1:]
	fs := newFlagSet("mcpmesh apikey "+action+" [flags]", apikeyAbout)
	file := fs.String("config", "", "YAML configuration file")
	fs.String("auth.api_keys.file", "", "the key store without a database (a JSON file)")
	fs.String("database.url", "", "PostgreSQL URL: the keys are kept in its api_keys table")
	fs.String("database.password_file", "", "file holding the database password (overrides the URL's)")
	fs.String("auth.api_keys.pepper_file", "", "file holding the pepper keys are hashed with")
	var name, scopes *string
	var expires *time.Duration
	switch action {
	case "create":
		name = fs.String("name", "", "the key's name (the principal's subject); required")
		scopes = fs.String("scopes", "", "comma-separated scopes the key holds")
		expires = fs.Duration("expires", 0, "lifetime (e.g. 720h); 0 never expires")
	case "revoke":
		name = fs.String("name", "", "the name of the key to revoke; required")
	case "list":
	default:
		fmt.Fprintf(stderr, "mcpmesh apikey: unknown action %q: %s\n", action, usage)
		return exitError{code: 2}
	}
	loaded, err := loadConfig(fs, file, args, environ, stdout, stderr)
	if err != nil {
		return err
	}
	store, closeStore, err := openKeyStore(ctx, loaded.Value)
	if err != nil {
		return fmt.Errorf("mcpmesh apikey %s: %w", action, err)
	}
	defer closeStore()
	c := loaded.Value.Auth.APIKeys
	now := time.Now().UTC()
	switch action {
	case "list":
		return listAPIKeys(ctx, store, stdout, now)
	case "revoke":
		if *name == "" {
			return errors.New("mcpmesh apikey revoke: -name is required")
		}
		if err := store.Revoke(ctx, *name, now); err != nil {
			return fmt.Errorf("mcpmesh apikey revoke: %w", err)
		}
		fmt.Fprintf(stdout, "revoked %s\n", *name)
		return nil
	}
	return createAPIKey(ctx, store, c.PepperFile, *name, *scopes, *expires, stdout, now)
}

func createAPIKey(ctx context.Context, store keyStore, pepperFile, name, scopes string, expires time.Duration, stdout io.Writer, now time.Time) error {
	if err := apikey.ValidName(name); err != nil {
		return fmt.Errorf("mcpmesh apikey create: -name: %w", err)
	}
	if expires < 0 {
		return errors.New("mcpmesh apikey create: -expires must not be negative")
	}
	if pepperFile == "" {
		return errors.New("mcpmesh apikey create: no pepper: set -auth.api_keys.pepper_file (a file of at least 32 random bytes)")
	}
	pepper, err := apikey.ReadPepper(pepperFile)
	if err != nil {
		return fmt.Errorf("mcpmesh apikey create: %w", err)
	}
	h, err := apikey.NewHasher(pepper)
	if err != nil {
		return fmt.Errorf("mcpmesh apikey create: %w", err)
	}
	key, err := apikey.NewKey()
	if err != nil {
		return err
	}
	rec := apikey.Record{Name: name, Hash: h.Hash(key), Scopes: splitScopes(scopes), CreatedAt: now}
	if expires > 0 {
		rec.ExpiresAt = now.Add(expires)
	}
	if err := store.Create(ctx, rec); err != nil {
		return fmt.Errorf("mcpmesh apikey create: %w", err)
	}
	fmt.Fprintln(stdout, key)
	return nil
}

func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

func listAPIKeys(ctx context.Context, store keyStore, stdout io.Writer, now time.Time) error {
	recs, err := store.Load(ctx)
	if err != nil {
		return fmt.Errorf("mcpmesh apikey list: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSCOPES\tCREATED\tEXPIRES\tSTATE\tLAST USED")
	for _, r := range recs {
		state := "active"
		if err := r.Usable(now); errors.Is(err, apikey.ErrRevoked) {
			state = "revoked"
		} else if err != nil {
			state = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, strings.Join(r.Scopes, ","), stamp(r.CreatedAt), stamp(r.ExpiresAt), state, stamp(r.LastUsedAt))
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
