package pgtest

import (
	"context"
	"errors"
	"fmt"
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
	binDir := findBinDir()
	if binDir == "" {
		return "", "no initdb and postgres in " + binGlob + " or on PATH", nil
	}
	attr, chown, reason := processAttr()
	if reason != "" {
		return "", reason, nil
	}
	removeStaleDirs()
	s.dir, s.lock, err = makeLockedDir()
	if err != nil {
		return "", "", err
	}
	if err := chown(s.dir); err != nil {
		return "", "", err
	}
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(superuserPassword+"\n"), 0o600); err != nil {
		return "", "", err
	}
	if err := chown(pwfile); err != nil {
		return "", "", err
	}
	data := filepath.Join(s.dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	initdb := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), "-D", data, "-U", superuser,
		"--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile="+pwfile,
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = attr()
	if out, err := initdb.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("initdb: %w\n%s", err, out)
	}
	for attempt := 1; ; attempt++ {
		url, err := s.startPostmaster(binDir, data, attr)
		if err == nil || attempt == startAttempts || !errors.Is(err, errPortInUse) {
			return url, "", err
		}
	}
}

var errPortInUse = errors.New("port in use")

// startPostmaster runs postgres as a child of the test binary on a free port and waits
// until it accepts connections. The child gets SIGQUIT (immediate shutdown) if the test
// binary dies without reaching Main's cleanup (timeout panic, kill), so no cluster is
// left behind.
func (s *server) startPostmaster(binDir, data string, attr func() *syscall.SysProcAttr) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	logPath := filepath.Join(s.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return "", err
	}
	defer func() { _ = logFile.Close() }() // the child has its own descriptor
	// Not CommandContext: the server outlives this call; stop and Pdeathsig end it.
	args := []string{"-D", data, "-p", strconv.Itoa(port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200"}
	cmd := exec.Command(filepath.Join(binDir, "postgres"), args...) //nolint:noctx // see above
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = attr()
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() {
		exitErr = cmd.Wait()
		close(exited)
	}()

	url := fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", superuser, superuserPassword, port)
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			if strings.Contains(string(log), "could not bind") || strings.Contains(string(log), "already in use") {
				return "", fmt.Errorf("%w: %d", errPortInUse, port)
			}
			return "", fmt.Errorf("postgres exited (%w):\n%s", exitErr, log)
		default:
		}
		if err := tryConnect(url); err == nil {
			s.cmd, s.exited = cmd, exited
			return url, nil
		} else if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			log, _ := os.ReadFile(logPath)
			return "", fmt.Errorf("postgres not ready after %s: %w\n%s", readyTimeout, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
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
	var errs []error
	if s.cmd != nil {
		if err := s.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
			errs = append(errs, fmt.Errorf("signal postgres: %w", err))
		}
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			_ = s.cmd.Process.Kill()
			<-s.exited
			errs = append(errs, fmt.Errorf("postgres did not stop within %s; killed", stopTimeout))
		}
		s.cmd = nil
	}
	if s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, err)
		}
		s.dir = ""
	}
	if s.lock != nil {
		_ = s.lock.Close() // releases the flock
		s.lock = nil
	}
	return errors.Join(errs...)
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
