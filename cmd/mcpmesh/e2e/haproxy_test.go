package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/tools/proc"
)

// startHAProxy runs HAProxy (the distribution's package) in front of backends: mode
// tcp for gRPC, as a Kubernetes ClusterIP Service balances connections, or mode http
// for gateways, round robin per request. Health checks every 200 ms, and a connection
// that a dead backend refuses is re-dispatched to another. It returns the address to
// dial and its stats socket. Without HAProxy installed the test fails under
// MCPMESH_CI and skips otherwise.
func startHAProxy(t *testing.T, name, mode string, backends ...string) (addr string, stats haproxyStats) {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv("MCPMESH_CI") != "" {
			t.Fatal("haproxy is not installed (apt-get install -y haproxy)")
		}
		t.Skip("haproxy is not installed (apt-get install -y haproxy)")
	}
	addr = freeAddr(t)
	dir := t.TempDir()
	stats = haproxyStats{socket: filepath.Join(dir, "stats.sock"), addr: addr}
	var servers strings.Builder
	if mode == "http" {
		// Readiness decides, and one request per server connection: a replica that
		// drains never races a reused connection.
		servers.WriteString("  option httpchk\n  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost\n  option http-server-close\n")
	}
	// A refused connection (tcp) takes a backend out at once; a /readyz answer (http)
	// after three failures a second apart, like a readiness probe's failureThreshold,
	// so a replica slow under load is not taken out for one late answer.
	check := "check inter 200ms fall 1 rise 2"
	if mode == "http" {
		check = "check inter 1s fall 3 rise 1"
	}
	for i, b := range backends {
		fmt.Fprintf(&servers, "  server %s-%d %s %s\n", name, i+1, b, check)
	}
	cfg := fmt.Sprintf(`global
  maxconn 4000
  stats socket %[5]s mode 600
defaults
  mode %[1]s
  timeout connect 1s
  timeout client 120s
  timeout server 120s
  retries 3
  option redispatch 1
listen %[2]s
  bind %[3]s
  balance roundrobin
%[4]s`, mode, name, addr, servers.String(), stats.socket)
	file := filepath.Join(dir, name+".cfg")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", file)
	logs := &proc.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy %s:\n%s", name, logs.String())
		}
	})
	var dialErr error
	if !eventually.Within(10*time.Second, func() bool {
		var c net.Conn
		if c, dialErr = net.Dial("tcp", addr); dialErr != nil {
			return false
		}
		_ = c.Close()
		return true
	}) {
		t.Fatalf("haproxy %s does not listen on %s: %v\n%s", name, addr, dialErr, logs.String())
	}
	if !eventually.Within(10*time.Second, func() bool { _, err := stats.servers(); return err == nil }) {
		t.Fatalf("haproxy %s does not answer on its stats socket:\n%s", name, logs.String())
	}
	// HAProxy starts every server up: wait until it has taken out the spare backends
	// (nothing listens there yet), so that no request of the test meets them.
	for i, b := range backends {
		if c, err := net.Dial("tcp", b); err == nil {
			_ = c.Close()
			continue
		}
		down := fmt.Sprintf("Server %[1]s/%[1]s-%[2]d is DOWN", name, i+1)
		if !eventually.Within(10*time.Second, func() bool { return strings.Contains(logs.String(), down) }) {
			t.Fatalf("haproxy %s never took out the idle backend %s:\n%s", name, b, logs.String())
		}
	}
	return addr, stats
}

// freeAddr is a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

// Ports below the kernel's ephemeral range (net.ipv4.ip_local_port_range starts at
// 32768 by default): no listener on port 0 and no outgoing connection gets them.
const (
	reservedPortMin = 20000
	reservedPortMax = 32000
)

var nextReservedPort atomic.Int32

// reservedAddr is a loopback address nothing listens on, for a backend HAProxy knows
// before its process starts. It is taken below the ephemeral range: a port from
// freeAddr, once released, can be given to another test's listener on port 0 before
// the backend's process starts, and HAProxy would then send requests to a stranger
// (seen as 502 "invalid or incomplete response").
func reservedAddr(t *testing.T) string {
	t.Helper()
	nextReservedPort.CompareAndSwap(0, int32(reservedPortMin+os.Getpid()%(reservedPortMax-reservedPortMin)))
	for range reservedPortMax - reservedPortMin {
		port := reservedPortMin + (int(nextReservedPort.Add(1))-reservedPortMin)%(reservedPortMax-reservedPortMin)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lis, err := net.Listen("tcp", addr); err == nil {
			_ = lis.Close()
			return addr
		}
	}
	t.Fatal("no free port below the ephemeral range")
	return ""
}
