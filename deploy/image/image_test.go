package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/mcpmesh/mcpmesh/deploy/image"
	"github.com/mcpmesh/mcpmesh/deploy/internal/meshbin"
)

func dockerfilePath(t *testing.T) string {
	t.Helper()
	root, err := meshbin.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "deploy", "Dockerfile")
}

// TestDockerfile checks deploy/Dockerfile, read by BuildKit's own parser, against the
// facts the deployment relies on.
func TestDockerfile(t *testing.T) {
	df, err := image.ParseDockerfile(dockerfilePath(t), "v9.9.9")
	if err != nil {
		t.Fatal(err)
	}
	build, ok := df.Stage("build")
	if !ok {
		t.Fatal("no stage named build")
	}
	if !strings.HasPrefix(build.BaseName, "golang:") || strings.HasSuffix(build.BaseName, ":latest") {
		t.Errorf("builder %q: want a pinned golang image", build.BaseName)
	}
	runtimeStage, _ := df.Stage(image.RuntimeStage)
	if runtimeStage.BaseName != "scratch" && !strings.HasPrefix(runtimeStage.BaseName, "gcr.io/distroless/static") {
		t.Errorf("runtime stage is FROM %q: want scratch or distroless static", runtimeStage.BaseName)
	}
	if last := df.Stages[len(df.Stages)-1].Name; last != image.RuntimeStage {
		t.Errorf("last stage is %q: a plain docker build must produce the runtime stage", last)
	}
	root, err := meshbin.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var buildScript string
	for _, c := range build.Commands {
		switch c := c.(type) {
		case *instructions.RunCommand:
			buildScript += strings.Join(c.CmdLine, " ") + "\n"
		case *instructions.CopyCommand:
			// Every file the build copies from the context exists (a module added to
			// the workspace without its COPY line fails here, not in a release build).
			for _, src := range c.SourcePaths {
				if _, err := os.Stat(filepath.Join(root, src)); c.From == "" && err != nil {
					t.Errorf("COPY %s: %v", src, err)
				}
			}
		}
	}
	// The module download layer needs the go.mod of every module cmd/mcpmesh replaces.
	copied := map[string]bool{}
	for _, c := range build.Commands {
		if cp, ok := c.(*instructions.CopyCommand); ok {
			for _, src := range cp.SourcePaths {
				copied[src] = true
			}
		}
	}
	gomod, err := os.ReadFile(filepath.Join(root, "cmd", "mcpmesh", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(gomod), "\n") {
		if _, dir, ok := strings.Cut(line, "=> ../../"); ok {
			if mod := strings.TrimSpace(dir) + "/go.mod"; !copied[mod] {
				t.Errorf("the build stage does not COPY %s, which cmd/mcpmesh replaces", mod)
			}
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "main.buildVersion=${VERSION}"} {
		if !strings.Contains(buildScript, want) {
			t.Errorf("build stage does not use %s", want)
		}
	}
	for _, c := range df.Copies {
		if c.From != "" && c.From != "build" {
			t.Errorf("COPY --from=%s names no stage", c.From)
		}
	}
	cfg := df.Runtime
	if cfg.User != "65532:65532" {
		t.Errorf("USER %q: want the numeric 65532:65532 (runAsNonRoot cannot check a name)", cfg.User)
	}
	if !slices.Equal(cfg.Entrypoint, []string{image.BinaryPath}) {
		t.Errorf("ENTRYPOINT %v, want [%s]", cfg.Entrypoint, image.BinaryPath)
	}
	copiesBinary := false
	for _, c := range df.Copies {
		copiesBinary = copiesBinary || c.DestPath == image.BinaryPath
	}
	if !copiesBinary {
		t.Errorf("no COPY puts the binary at %s", image.BinaryPath)
	}
	if h := cfg.Healthcheck; h == nil || !slices.Equal(h.Test, []string{"CMD", image.BinaryPath, "ping", "-self"}) || h.Timeout <= 0 || h.Interval <= 0 {
		t.Errorf("HEALTHCHECK %+v: want exec form %s ping -self with an interval and a timeout", h, image.BinaryPath)
	}
	if v := cfg.Labels["org.opencontainers.image.version"]; v != "v9.9.9" {
		t.Errorf("label org.opencontainers.image.version = %q, want the VERSION build argument", v)
	}
	for _, l := range []string{"org.opencontainers.image.title", "org.opencontainers.image.source", "org.opencontainers.image.description"} {
		if cfg.Labels[l] == "" {
			t.Errorf("label %s missing", l)
		}
	}
	// Every port the default configuration listens on is exposed, and no other.
	env := envMap(cfg.Env)
	var listens []string
	for _, k := range []string{"MCPMESH_GATEWAY_LISTEN", "MCPMESH_GRPC_LISTEN", "MCPMESH_ADMIN_LISTEN"} {
		_, port, err := net.SplitHostPort(env[k])
		if err != nil {
			t.Errorf("ENV %s=%q: %v", k, env[k], err)
			continue
		}
		listens = append(listens, port+"/tcp")
	}
	var exposed []string
	for p := range cfg.ExposedPorts {
		exposed = append(exposed, p)
	}
	slices.Sort(listens)
	slices.Sort(exposed)
	if !slices.Equal(listens, exposed) {
		t.Errorf("EXPOSE %v, but the image's configuration listens on %v", exposed, listens)
	}
	// The default command is accepted by the binary's configuration loader once an
	// authentication mode is chosen, and refused (naming auth.mode) before: the image
	// listens on every interface, so it must not serve unauthenticated by accident.
	bin := buildBinary(t)
	if _, err := meshbin.PrintConfig(bin, cfg.Cmd[1:], append(slices.Clone(cfg.Env), "MCPMESH_AUTH_MODE=none")); cfg.Cmd[0] != "serve" || err != nil {
		t.Errorf("CMD %v with the image's ENV and MCPMESH_AUTH_MODE: %v", cfg.Cmd, err)
	}
	if _, err := meshbin.PrintConfig(bin, cfg.Cmd[1:], cfg.Env); err == nil || !strings.Contains(err.Error(), "auth.mode") {
		t.Errorf("CMD %v with the image's ENV alone: %v, want a refusal naming auth.mode", cfg.Cmd, err)
	}
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

var builtBinary string

func buildBinary(t *testing.T) string {
	t.Helper()
	if builtBinary == "" {
		dir, err := os.MkdirTemp("", "mcpmesh-image-test-")
		if err != nil {
			t.Fatal(err)
		}
		if builtBinary, err = meshbin.Build(dir); err != nil {
			t.Fatal(err)
		}
	}
	return builtBinary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBinary != "" {
		_ = os.RemoveAll(filepath.Dir(builtBinary))
	}
	os.Exit(code)
}

// TestImageRunsAsItsUserWithNothingWritable builds the image the way make image does,
// writes and reads back its OCI layout, unpacks it, and runs its entrypoint and default
// command inside the unpacked root (chroot) as the configured numeric user, with no
// file or directory that user may write; then runs the image's HEALTHCHECK command the
// same way and expects it to pass.
func TestImageRunsAsItsUserWithNothingWritable(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("MCPMESH_CI") != "" {
			t.Fatal("running the image as uid 65532 in a chroot needs root")
		}
		t.Skip("running the image as uid 65532 in a chroot needs root")
	}
	img, err := image.Build(image.Options{
		Binary:         buildBinary(t),
		Dockerfile:     dockerfilePath(t),
		Version:        "v0.0.0-test",
		CACertificates: "/etc/ssl/certs/ca-certificates.crt",
		Arch:           runtime.GOARCH,
		Created:        time.Unix(0, 0).UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := image.WriteLayout(filepath.Join(dir, "oci"), "mcpmesh:test", img); err != nil {
		t.Fatal(err)
	}
	if err := image.WriteTarball(filepath.Join(dir, "mcpmesh.tar"), "mcpmesh:test", img); err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(filepath.Join(dir, "oci"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := idx.IndexManifest()
	if err != nil || len(manifest.Manifests) != 1 {
		t.Fatalf("OCI layout index: %v, %+v", err, manifest)
	}
	if name := manifest.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; name != "mcpmesh:test" {
		t.Errorf("layout names the image %q", name)
	}
	loaded, err := p.Image(manifest.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := loaded.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg := cf.Config
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}

	root := filepath.Join(dir, "rootfs")
	if err := extract(mutate.Extract(loaded), root); err != nil {
		t.Fatal(err)
	}
	uid, gid := parseUser(t, cfg.User)
	if uid == 0 {
		t.Fatalf("image user %q is root", cfg.User)
	}
	assertNothingWritable(t, root, uid, gid)

	gatewayPort, grpcPort, adminPort := freePort(t), freePort(t), freePort(t)
	env := append(slices.Clone(cfg.Env),
		"MCPMESH_GATEWAY_LISTEN=127.0.0.1:"+gatewayPort,
		"MCPMESH_GRPC_LISTEN=127.0.0.1:"+grpcPort,
		"MCPMESH_ADMIN_LISTEN=127.0.0.1:"+adminPort)
	inImage := func(ctx context.Context, argv []string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = env
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Chroot:     root,
			Credential: &syscall.Credential{Uid: uid, Gid: gid, NoSetGroups: true},
		}
		return cmd
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs bytes.Buffer
	server := inImage(ctx, append(slices.Clone(cfg.Entrypoint), cfg.Cmd...))
	server.Stdout, server.Stderr = &logs, &logs
	server.Cancel = func() error { return server.Process.Signal(syscall.SIGTERM) }
	server.WaitDelay = 20 * time.Second
	if err := server.Start(); err != nil {
		t.Fatalf("start the entrypoint in the image: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- server.Wait() }()

	healthcheck := cfg.Healthcheck.Test[1:] // after "CMD"
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := inImage(ctx, healthcheck).CombinedOutput()
		if err == nil {
			if !strings.Contains(string(out), "ready") {
				t.Errorf("healthcheck passed saying %q", out)
			}
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the image's entrypoint exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthcheck %v never passed: %v: %s\nserver logs:\n%s", healthcheck, err, out, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The process really runs as the image's user.
	status, err := os.ReadFile("/proc/" + strconv.Itoa(server.Process.Pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "\nUid:\t"+strconv.Itoa(int(uid))+"\t") {
		t.Errorf("server process is not uid %d:\n%s", uid, status)
	}
	cancel()
	if err := <-exited; err != nil && !errors.Is(err, context.Canceled) {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 0 {
			t.Errorf("entrypoint did not stop cleanly on SIGTERM: %v\n%s", err, logs.String())
		}
	}
}

func parseUser(t *testing.T, user string) (uint32, uint32) {
	t.Helper()
	u, g, ok := strings.Cut(user, ":")
	uid, err1 := strconv.ParseUint(u, 10, 32)
	gid, err2 := strconv.ParseUint(g, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("image user %q is not numeric uid:gid", user)
	}
	return uint32(uid), uint32(gid)
}

// assertNothingWritable fails for any path in root that uid:gid may write, after
// taking the write bits off everything (a read-only root filesystem: /tmp included,
// as Kubernetes' readOnlyRootFilesystem makes it without an emptyDir).
func assertNothingWritable(t *testing.T, root string, uid, gid uint32) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if err := os.Chmod(path, info.Mode().Perm()&^0o222|info.Mode()&os.ModeSticky); err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		if st.Uid == uid || st.Gid == gid {
			t.Errorf("%s is owned by the image user", strings.TrimPrefix(path, root))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(path, 0o755)
			}
			return nil
		})
	})
}

// extract unpacks a flattened image filesystem into dir.
func extract(r io.ReadCloser, dir string) error {
	defer r.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		path := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, os.FileMode(h.Mode).Perm()|os.ModeSticky&os.FileMode(h.Mode)); err != nil {
				return err
			}
			if err := os.Chmod(path, fileMode(h.Mode)); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fileMode(h.Mode))
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, tr); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		default:
			return errors.New("unexpected entry type in image: " + h.Name)
		}
	}
}

func fileMode(m int64) os.FileMode {
	mode := os.FileMode(m).Perm()
	if m&0o1000 != 0 {
		mode |= os.ModeSticky
	}
	return mode
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
