package pgtest

import (
	"errors"
	"os"
	"testing"
)

func TestStartClusterServesAndCloseRemovesIt(t *testing.T) {
	c, err := StartCluster()
	if errors.Is(err, ErrUnavailable) {
		if os.Getenv(EnvCI) != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := c.c.dir
	if c.PID() <= 0 {
		t.Errorf("PID() = %d while running", c.PID())
	}
	conn := connect(t, c.DatabaseURL("postgres"))
	var one int
	if err := conn.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	url := c.URL()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cluster dir %s still there after Close: %v", dir, err)
	}
	if c.PID() != 0 {
		t.Errorf("PID() = %d after Close, want 0", c.PID())
	}
	if err := tryConnect(url); err == nil {
		t.Error("the server still accepts connections after Close")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
