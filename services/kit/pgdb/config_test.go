package pgdb_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/pgdb"
)

func TestValidate(t *testing.T) {
	valid := pgdb.DefaultConfig()
	valid.URL = "postgres://mesh:secret@db:5432/mesh?sslmode=disable"
	tests := []struct {
		name    string
		edit    func(*pgdb.Config)
		wantErr []string // substrings, each must appear; nil = valid
	}{
		{name: "defaults without database", edit: func(*pgdb.Config) {}},
		{name: "url", edit: func(c *pgdb.Config) { *c = valid }},
		{name: "key value dsn", edit: func(c *pgdb.Config) { c.URL = "host=db user=mesh dbname=mesh" }},
		{name: "zero values mean defaults", edit: func(c *pgdb.Config) { *c = pgdb.Config{URL: valid.URL} }},
		{name: "min equals max", edit: func(c *pgdb.Config) { *c = valid; c.MinConns, c.MaxConns = 4, 4 }},
		{
			name:    "unparsable url",
			edit:    func(c *pgdb.Config) { c.URL = "postgres://mesh:secret@db:notaport/mesh" },
			wantErr: []string{"database.url:"},
		},
		{
			name:    "password file without url",
			edit:    func(c *pgdb.Config) { c.PasswordFile = "/run/secrets/db" },
			wantErr: []string{"database.password_file:"},
		},
		{
			name:    "min above max",
			edit:    func(c *pgdb.Config) { *c = valid; c.MinConns, c.MaxConns = 5, 4 },
			wantErr: []string{"database.min_conns:"},
		},
		{
			name: "every problem at once",
			edit: func(c *pgdb.Config) {
				*c = valid
				c.MaxConns, c.MinConns = -1, -1
				c.StatementTimeout, c.ConnectTimeout = -time.Second, -time.Second
			},
			wantErr: []string{"database.max_conns:", "database.min_conns:", "database.statement_timeout:", "database.connect_timeout:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := pgdb.DefaultConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors mentioning %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %q, want it to mention %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Validate() = %q leaks the password", err)
			}
		})
	}
}

func TestEnabled(t *testing.T) {
	if pgdb.DefaultConfig().Enabled() {
		t.Error("DefaultConfig().Enabled() = true, want false (in-memory stores)")
	}
	if !(pgdb.Config{URL: "postgres://db/mesh"}).Enabled() {
		t.Error("Enabled() = false with a URL")
	}
}

func TestRedacted(t *testing.T) {
	tests := []struct{ url, want string }{
		{"", ""},
		{"postgres://mesh:s3cr%40t@db:5432/mesh?sslmode=disable", "postgres://mesh:xxxxx@db:5432/mesh?sslmode=disable"},
		{"postgresql://mesh@db/mesh", "postgresql://mesh@db/mesh"},
		{"postgres://db/mesh?password=s3cret&sslmode=require", "postgres://db/mesh?password=xxxxx&sslmode=require"},
		{"host=db user=mesh password=s3cret dbname=mesh", "host=db user=mesh password=xxxxx dbname=mesh"},
		{`host=db password = 'it\'s s3cret' dbname=mesh`, "host=db password = xxxxx dbname=mesh"},
		{"postgres://mesh:s3cret@db:bad/mesh\x7f", "postgres://(unparsable URL)"},
	}
	for _, tt := range tests {
		got := pgdb.Config{URL: tt.url}.Redacted()
		if got != tt.want {
			t.Errorf("Redacted(%q) = %q, want %q", tt.url, got, tt.want)
		}
		if strings.Contains(got, "s3c") {
			t.Errorf("Redacted(%q) = %q leaks the password", tt.url, got)
		}
	}
}
