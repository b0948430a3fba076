package pgdb

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults applied by DefaultConfig and, for zero values, by Open.
const (
	DefaultMaxConns         int32         = 10
	DefaultStatementTimeout time.Duration = 5 * time.Second
	DefaultConnectTimeout   time.Duration = 5 * time.Second
)

// Config is the database section of the configuration (keys database.*).
type Config struct {
	// URL is a postgres:// URL or a key=value DSN; empty selects the in-memory stores.
	URL string `koanf:"url"`
	// PasswordFile is read at Open; its content (without a trailing newline) overrides the
	// URL's password, so the secret can come from a mounted file instead of the URL.
	PasswordFile string `koanf:"password_file"`
	// MaxConns bounds the pool; 0 means DefaultMaxConns.
	MaxConns int32 `koanf:"max_conns"`
	// MinConns is the number of connections kept open even when idle.
	MinConns int32 `koanf:"min_conns"`
	// StatementTimeout is set as the statement_timeout runtime parameter of every
	// connection; 0 means DefaultStatementTimeout.
	StatementTimeout time.Duration `koanf:"statement_timeout"`
	// ConnectTimeout bounds establishing one connection and the start-up ping; 0 means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration `koanf:"connect_timeout"`
	// MigrateOnStart makes services run their migrations at start-up (under an advisory lock).
	MigrateOnStart bool `koanf:"migrate_on_start"`
}

// DefaultConfig returns the defaults: no database (in-memory stores), 10 connections,
// 5 s statement and connect timeouts, no migrations at start-up.
func DefaultConfig() Config {
	return Config{
		MaxConns:         DefaultMaxConns,
		StatementTimeout: DefaultStatementTimeout,
		ConnectTimeout:   DefaultConnectTimeout,
	}
}

// Enabled reports whether a database is configured.
func (c Config) Enabled() bool { return c.URL != "" }

// Validate reports every problem of the configuration at once, each naming its key.
// It does not read the password file (Open does) and does not contact the database.
func (c Config) Validate() error {
	var errs []error
	if c.URL != "" {
		if _, err := pgxpool.ParseConfig(c.URL); err != nil {
			// pgx redacts the password in its parse errors.
			errs = append(errs, fmt.Errorf("database.url: not a valid PostgreSQL URL or DSN: %w", err))
		}
	}
	if c.URL == "" && c.PasswordFile != "" {
		errs = append(errs, errors.New("database.password_file: set but database.url is empty"))
	}
	if c.MaxConns < 0 {
		errs = append(errs, fmt.Errorf("database.max_conns: must be >= 0 (0 = default %d), got %d", DefaultMaxConns, c.MaxConns))
	}
	if c.MinConns < 0 {
		errs = append(errs, fmt.Errorf("database.min_conns: must be >= 0, got %d", c.MinConns))
	} else if c.MinConns > c.withDefaults().MaxConns {
		errs = append(errs, fmt.Errorf("database.min_conns: must be <= database.max_conns (%d), got %d", c.withDefaults().MaxConns, c.MinConns))
	}
	if c.StatementTimeout < 0 {
		errs = append(errs, fmt.Errorf("database.statement_timeout: must be >= 0 (0 = default %s), got %s", DefaultStatementTimeout, c.StatementTimeout))
	}
	if c.ConnectTimeout < 0 {
		errs = append(errs, fmt.Errorf("database.connect_timeout: must be >= 0 (0 = default %s), got %s", DefaultConnectTimeout, c.ConnectTimeout))
	}
	return errors.Join(errs...)
}

// withDefaults replaces zero values by the defaults, so Config{URL: u} works as expected.
func (c Config) withDefaults() Config {
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.StatementTimeout == 0 {
		c.StatementTimeout = DefaultStatementTimeout
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	return c
}

// Address is the host:port the configuration points at, for labels and messages
// (no credentials); "" when there is no valid URL.
func (c Config) Address() string {
	pc, err := pgxpool.ParseConfig(c.URL)
	if c.URL == "" || err != nil {
		return ""
	}
	return net.JoinHostPort(pc.ConnConfig.Host, strconv.Itoa(int(pc.ConnConfig.Port)))
}

// redactedPassword replaces passwords in Redacted output.
const redactedPassword = "xxxxx"

// dsnPassword matches password=... in a key=value DSN, quoted ('...' with \' escapes) or bare.
var dsnPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]*)`)

// Redacted returns the URL with any password masked, for logs. It returns "" when no
// database is configured.
func (c Config) Redacted() string {
	if c.URL == "" {
		return ""
	}
	if strings.HasPrefix(c.URL, "postgres://") || strings.HasPrefix(c.URL, "postgresql://") {
		u, err := url.Parse(c.URL)
		if err != nil {
			// Never echo an unparsable URL: it may contain the password verbatim.
			return "postgres://(unparsable URL)"
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), redactedPassword)
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", redactedPassword)
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return dsnPassword.ReplaceAllString(c.URL, "${1}"+redactedPassword)
}
