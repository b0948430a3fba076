package pgtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Settings of the cluster this binary starts.
const (
	superuser         = "postgres"
	superuserPassword = "pgtest" // local, throwaway, 127.0.0.1 only; makes password auth real
	binGlob           = "/usr/lib/postgresql/*/bin"
	startAttempts     = 3 // a free port can be taken by someone else before postgres binds it
	readyTimeout      = 30 * time.Second
	stopTimeout       = 10 * time.Second
)

// local is the cluster of this test binary. It is process state on purpose: the server is
// shared by every test of the binary and stopped by Main.
var local server

// server starts one PostgreSQL cluster on first use and stops it at the end.
type server struct {
	mu          sync.Mutex
	tried       bool
	url         string
	unavailable string // why PostgreSQL cannot be started here (not installed...)
	err         error  // it should have started but did not
	dir         string
	lock        *os.File // flock held while dir is in use; see removeStaleDirs
	cmd         *exec.Cmd
	exited      chan struct{} // closed when the postmaster has exited
}

// ensure starts the cluster once and returns its URL, or why it is unavailable, or the
// error that prevented it from starting.
func (s *server) ensure() (url, unavailable string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tried {
		s.tried = true
		s.url, s.unavailable, s.err = s.start()
	}
	return s.url, s.unavailable, s.err
}

func (s *server) start() (url, unavailable string, err error) {
	c, unavailable, err := newCluster()
	if unavailable != "" || err != nil {
		s.dir, s.lock = c.dir, c.lock
		return "", unavailable, err
	}
	s.dir, s.lock = c.dir, c.lock
	for attempt := 1; ; attempt++ {
		err := c.run(0)
		if err == nil {
			s.cmd, s.exited = c.cmd, c.exited
			return c.url(), "", nil
		}
		if attempt == startAttempts || !errors.Is(err, errPortInUse) {
			return "", "", err
		}
	}
}

// cluster is one initialised PostgreSQL data directory and, while running, its
// postmaster.
type cluster struct {
	binDir string
	dir    string   // holds data/, the log, the password file and the unix socket
	lock   *os.File // flock held while dir is in use; see removeStaleDirs
	attr   func() *syscall.SysProcAttr
	port   int
	cmd    *exec.Cmd
	exited chan struct{} // closed when the postmaster has exited
}

// newCluster runs initdb in a fresh locked temp dir. unavailable says why PostgreSQL
// cannot run here; dir and lock are set (for clean-up) once they exist, even on error.
func newCluster() (c *cluster, unavailable string, err error) {
	c = &cluster{binDir: findBinDir()}
	if c.binDir == "" {
		return c, "no initdb and postgres in " + binGlob + " or on PATH", nil
	}
	attr, chown, reason := processAttr()
	if reason != "" {
		return c, reason, nil
	}
	c.attr = attr
	removeStaleDirs()
	c.dir, c.lock, err = makeLockedDir()
	if err != nil {
		return c, "", err
	}
	if err := chown(c.dir); err != nil {
		return c, "", err
	}
	pwfile := filepath.Join(c.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(superuserPassword+"\n"), 0o600); err != nil {
		return c, "", err
	}
	if err := chown(pwfile); err != nil {
		return c, "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	initdb := exec.CommandContext(ctx, filepath.Join(c.binDir, "initdb"), "-D", c.dataDir(), "-U", superuser,
		"--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile="+pwfile,
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = attr()
	if out, err := initdb.CombinedOutput(); err != nil {
		return c, "", fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return c, "", nil
}

func (c *cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// url is the superuser URL of the cluster's "postgres" database.
func (c *cluster) url() string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", superuser, superuserPassword, c.port)
}

var errPortInUse = errors.New("port in use")

// run starts postgres as a child of the test binary on port (0: a free one) and waits
// until it accepts connections. The child gets SIGQUIT (immediate shutdown) if the test
// binary dies without reaching its cleanup (timeout panic, kill), so no cluster is
// left behind.
func (c *cluster) run(port int) error {
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return err
		}
	}
	logPath := filepath.Join(c.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }() // the child has its own descriptor
	logStart, _ := logFile.Seek(0, io.SeekEnd)
	// Not CommandContext: the server outlives this call; stop and Pdeathsig end it.
	args := []string{"-D", c.dataDir(), "-p", strconv.Itoa(port), "-k", c.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200"}
	cmd := exec.Command(filepath.Join(c.binDir, "postgres"), args...) //nolint:noctx // see above
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = c.attr()
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() {
		exitErr = cmd.Wait()
		close(exited)
	}()
	readLog := func() string {
		b, _ := os.ReadFile(logPath)
		if int64(len(b)) >= logStart {
			b = b[logStart:]
		}
		return string(b)
	}

	c.port = port
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			log := readLog()
			if strings.Contains(log, "could not bind") || strings.Contains(log, "already in use") {
				return fmt.Errorf("%w: %d", errPortInUse, port)
			}
			return fmt.Errorf("postgres exited (%w):\n%s", exitErr, log)
		default:
		}
		if err := tryConnect(c.url()); err == nil {
			c.cmd, c.exited = cmd, exited
			return nil
		} else if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("postgres not ready after %s: %w\n%s", readyTimeout, err, readLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// halt stops the postmaster with sig (SIGINT: fast shutdown, SIGQUIT: immediate) and
// waits up to stopTimeout before killing it. It is a no-op when it is not running.
func (c *cluster) halt(sig syscall.Signal) error {
	if c.cmd == nil {
		return nil
	}
	defer func() { c.cmd = nil }()
	var errs []error
	if err := c.cmd.Process.Signal(sig); err != nil {
		errs = append(errs, fmt.Errorf("signal postgres: %w", err))
	}
	select {
	case <-c.exited:
	case <-time.After(stopTimeout):
		_ = c.cmd.Process.Kill()
		<-c.exited
		errs = append(errs, fmt.Errorf("postgres did not stop within %s; killed", stopTimeout))
	}
	return errors.Join(errs...)
}

// remove deletes the cluster's files and releases its lock (after halt).
func (c *cluster) remove() error {
	var err error
	if c.dir != "" {
		err = os.RemoveAll(c.dir)
		c.dir = ""
	}
	if c.lock != nil {
		_ = c.lock.Close() // releases the flock
		c.lock = nil
	}
	return err
}

func tryConnect(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// stop shuts the cluster down immediately (like pg_ctl -m immediate stop) and removes its
// files. It is a no-op when nothing was started.
func (s *server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &cluster{dir: s.dir, lock: s.lock, cmd: s.cmd, exited: s.exited}
	err := errors.Join(c.halt(syscall.SIGQUIT), c.remove())
	s.cmd, s.dir, s.lock = nil, "", nil
	return err
}

// findBinDir returns the newest /usr/lib/postgresql/<version>/bin holding initdb and
// postgres, else the directory of initdb on PATH, else "".
func findBinDir() string {
	dirs, _ := filepath.Glob(binGlob)
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	if path, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(path))
	}
	for _, dir := range dirs {
		if isFile(filepath.Join(dir, "initdb")) && isFile(filepath.Join(dir, "postgres")) {
			return dir
		}
	}
	return ""
}

// versionOf reads the major version from /usr/lib/postgresql/<version>/bin.
func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}

// processAttr returns how to run the server binaries: as the postgres OS user when this
// process is root (initdb and postgres refuse to run as root), with a matching chown for
// the files they need; as ourselves otherwise.
// reason says why the server cannot run here, if so.
func processAttr() (attr func() *syscall.SysProcAttr, chown func(string) error, reason string) {
	if os.Geteuid() != 0 {
		return func() *syscall.SysProcAttr { return &syscall.SysProcAttr{} },
			func(string) error { return nil }, ""
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, nil, "running as root and no postgres OS user to run the server as: " + err.Error()
	}
	uid, uidErr := strconv.ParseUint(u.Uid, 10, 32)
	gid, gidErr := strconv.ParseUint(u.Gid, 10, 32)
	if uidErr != nil || gidErr != nil {
		return nil, nil, fmt.Sprintf("postgres OS user has a non-numeric uid %q or gid %q", u.Uid, u.Gid)
	}
	attr = func() *syscall.SysProcAttr {
		return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
	}
	chown = func(path string) error { return os.Chown(path, int(uid), int(gid)) }
	return attr, chown, ""
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func isPortInUse(err error) bool { return errors.Is(err, errPortInUse) }
