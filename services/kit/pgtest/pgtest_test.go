package pgtest

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestNewDatabaseIsFreshAndDropped(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		dsn := NewDatabase(t)
		conn := connect(t, dsn)
		ctx := context.Background()
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "t_testnewdatabaseisfreshanddropped_use_") {
			t.Errorf("database name %q does not name the test", name)
		}
		var tables int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil || tables != 0 {
			t.Errorf("fresh database has %d tables (%v), want 0", tables, err)
		}
		// The connection stays open: the drop at cleanup must force it closed.
		if _, err := conn.Exec(ctx, "CREATE TABLE scratch (id int)"); err != nil {
			t.Fatal(err)
		}
	})
	var exists bool
	err := connect(t, DSN(t)).QueryRow(context.Background(),
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil || exists {
		t.Errorf("database %q still exists after cleanup (%v)", name, err)
	}
}

func TestNewDatabaseNamesAreUnique(t *testing.T) {
	t.Parallel()
	a, b := NewDatabase(t), NewDatabase(t)
	if a == b {
		t.Errorf("two databases share the URL %q", a)
	}
}

func TestDatabaseName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("VeryLongTestName/", 10)
	for _, testName := range []string{"TestX", "TestX/sub_case#01", long} {
		name := databaseName(testName)
		if len(name) > 63 {
			t.Errorf("databaseName(%q) = %q: longer than 63 bytes", testName, name)
		}
		if strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Errorf("databaseName(%q) = %q: not a plain identifier", testName, name)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	tests := []struct{ server, want string }{
		{"postgres://u:p@127.0.0.1:5432/postgres?sslmode=disable", "postgres://u:p@127.0.0.1:5432/t_x?sslmode=disable"},
		{"postgresql://db", "postgresql://db/t_x"},
		{"host=db user=u dbname=postgres", "host=db user=u dbname=postgres dbname=t_x"},
	}
	for _, tt := range tests {
		got := withDatabase(tt.server, "t_x")
		if got != tt.want {
			t.Errorf("withDatabase(%q) = %q, want %q", tt.server, got, tt.want)
		}
		if _, err := pgx.ParseConfig(got); err != nil {
			t.Errorf("withDatabase(%q) = %q: unparsable: %v", tt.server, got, err)
		}
		if u, err := url.Parse(got); err == nil && u.Scheme != "" && u.Path != "/t_x" {
			t.Errorf("withDatabase(%q) path = %q", tt.server, u.Path)
		}
	}
}
