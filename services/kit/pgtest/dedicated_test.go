package pgtest

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestServerKeepsDataAcrossStopAndStart(t *testing.T) {
	s := NewServer(t)
	url := s.URL()
	ctx := context.Background()
	conn := connect(t, url)
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before')"); err != nil {
		t.Fatal(err)
	}

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := tryConnect(url); err == nil {
		t.Fatal("connected to a stopped server")
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err == nil {
		t.Error("a connection opened before Stop still works after it")
	}

	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if s.URL() != url {
		t.Errorf("URL changed across a restart: %q, then %q", url, s.URL())
	}
	var v string
	if err := connect(t, url).QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "before" {
		t.Errorf("row written before the restart: %q, %v", v, err)
	}
	if err := s.Start(); err != nil {
		t.Errorf("Start of a running server: %v", err)
	}
}

func TestServerTools(t *testing.T) {
	s := NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, s.Tool("pg_dump"), "--schema-only", "--dbname="+s.URL()).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	if _, err := pgx.ParseConfig(s.DatabaseURL("other")); err != nil {
		t.Errorf("DatabaseURL: %v", err)
	}
}
