// Package proc starts mcpmesh processes for end-to-end tests and benchmarks and learns
// their bound addresses from the start-up banner, so every process can listen on port
// 0 and nothing races for fixed ports.
package proc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a running mcpmesh process.
type Process struct {
	Name string
	// GRPC is the bound gRPC address ("" when the process serves none).
	GRPC string
	// HTTP is the gateway's base URL ("" when the process runs no gateway).
	HTTP string
	// Metrics is the admin listener's /metrics URL ("" when admin.listen is not set).
	Metrics string

	cmd  *exec.Cmd
	logs *SyncBuffer
	done chan struct{}
	err  error
}

// Start runs binary with args (Go flags) and waits until it printed its addresses.
func Start(ctx context.Context, name, binary string, env []string, args ...string) (*Process, error) {
	// The process outlives ctx, which only bounds the start; Stop and Kill end it.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), binary, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, logs: &SyncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	ready := make(chan error, 1)
	go p.readBanner(stdout, ready)
	select {
	case err := <-ready:
		if err != nil {
			p.Kill()
			return nil, fmt.Errorf("start %s: %w\n%s", name, err, p.Logs())
		}
		return p, nil
	case <-ctx.Done():
		p.Kill()
		return nil, fmt.Errorf("start %s: %w\n%s", name, ctx.Err(), p.Logs())
	}
}

// readBanner parses the start-up banner: "MCP endpoint <url>/mcp", "gRPC <addr>",
// "admin <url>/metrics", and
// the closing line that starts with "Press Ctrl+C".
func (p *Process) readBanner(r io.Reader, ready chan<- error) {
	sc := bufio.NewScanner(r)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		switch {
		case sent:
		case len(fields) == 3 && fields[0] == "MCP" && fields[1] == "endpoint":
			p.HTTP = strings.TrimSuffix(fields[2], "/mcp")
		case len(fields) == 2 && fields[0] == "gRPC":
			p.GRPC = fields[1]
		case len(fields) == 2 && fields[0] == "admin":
			p.Metrics = fields[1]
		case strings.HasPrefix(line, BannerEnd):
			ready <- nil
			sent = true
		}
	}
	if !sent {
		ready <- errors.New("exited before printing its addresses")
	}
}

// BannerEnd starts the last line of the start-up banner, as cmd/mcpmesh (serve.go)
// prints it; every end-to-end test starts the real binary through Start, so a change
// on one side alone fails them all.
const BannerEnd = "Press Ctrl+C to stop"

// Logs returns what the process wrote to stderr so far.
func (p *Process) Logs() string { return p.logs.String() }

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM and waits up to timeout for a graceful exit, then kills.
func (p *Process) Stop(timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("%s did not stop within %s", p.Name, timeout)
	}
}

// Kill ends the process at once (SIGKILL) and waits for it.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// SyncBuffer collects a process's output while another goroutine reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
