package federation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// terminateWait is how long a stdio upstream gets to exit after its stdin closed,
// and then after SIGTERM, before it is killed.
const terminateWait = 5 * time.Second

// process is a running stdio upstream.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// startProcess starts a stdio upstream: its stdout (tapped by onLine) and stdin are
// the MCP connection, its stderr lines go to logger.
func startProcess(ctx context.Context, command, env []string, logger *slog.Logger, onLine func([]byte)) (mcp.Transport, io.Closer, error) {
	// The process outlives the connect call: Close ends it, not ctx.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), command[0], command[1:]...) //nolint:gosec // the operator's configured command
	cmd.Env = append(os.Environ(), env...)
	stderr := newLineLogger(logger.With("stream", "stderr"))
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("stdin of %s: %w", command[0], err)
	}
	// An os.Pipe rather than StdoutPipe: Wait (on another goroutine) must not close
	// the read end while the connection still reads what the process wrote last.
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("stdout of %s: %w", command[0], err)
	}
	cmd.Stdout = stdoutW
	if err := cmd.Start(); err != nil {
		_ = stdoutR.Close()
		_ = stdoutW.Close()
		_ = stderr.Close()
		return nil, nil, fmt.Errorf("start %s: %w", command[0], err)
	}
	_ = stdoutW.Close() // the child holds its end; EOF when it exits
	logger.Info("stdio upstream started", "pid", cmd.Process.Pid)
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		_ = stderr.Close()
		logger.Info("stdio upstream exited", "pid", cmd.Process.Pid, "status", exitStatus(err))
		close(p.exited)
	}()
	return &mcp.IOTransport{Reader: &lineTap{r: stdoutR, onLine: onLine}, Writer: stdin}, p, nil
}

// Close waits for the process to exit after the session closed its stdin, then asks
// it to stop with SIGTERM, then kills it.
func (p *process) Close() error {
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Kill} {
		select {
		case <-p.exited:
			return nil
		case <-time.After(terminateWait):
			_ = p.cmd.Process.Signal(sig)
		}
	}
	<-p.exited
	return nil
}

func exitStatus(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.String()
	}
	if err != nil {
		return err.Error()
	}
	return "exit status 0"
}
