// Package image builds the mcpmesh container image without a container engine, from
// the same facts as deploy/Dockerfile: the runtime stage's user, environment,
// entrypoint, command, ports, labels and health check are read from the Dockerfile
// with BuildKit's own parser, so the two images cannot drift apart.
package image

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// RuntimeStage names the Dockerfile stage that is the published image.
const RuntimeStage = "runtime"

// Dockerfile is what the checks and the engine-less build read from deploy/Dockerfile.
type Dockerfile struct {
	Stages []instructions.Stage
	// Runtime is the container configuration the runtime stage sets.
	Runtime v1.Config
	// Copies are the runtime stage's COPY sources and destination, in order.
	Copies []instructions.CopyCommand
}

// ParseDockerfile reads path and collects the runtime stage's configuration, with the
// VERSION build argument set to version.
func ParseDockerfile(path, version string) (Dockerfile, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return Dockerfile{}, err
	}
	ast, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return Dockerfile{}, fmt.Errorf("parse %s: %w", path, err)
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		return Dockerfile{}, fmt.Errorf("parse %s: %w", path, err)
	}
	df := Dockerfile{Stages: stages}
	var runtime *instructions.Stage
	for i := range stages {
		if stages[i].Name == RuntimeStage {
			runtime = &stages[i]
		}
	}
	if runtime == nil {
		return Dockerfile{}, fmt.Errorf("%s: no stage named %q", path, RuntimeStage)
	}
	lex := shell.NewLex(ast.EscapeToken)
	args := shell.EnvsFromSlice([]string{"VERSION=" + version})
	expand := func(word string) (string, error) {
		out, _, err := lex.ProcessWord(word, args)
		return out, err
	}
	cfg := &df.Runtime
	for _, c := range runtime.Commands {
		if ex, ok := c.(instructions.SupportsSingleWordExpansion); ok {
			if err := ex.Expand(expand); err != nil {
				return Dockerfile{}, fmt.Errorf("%s: expand %s: %w", path, c.Name(), err)
			}
		}
		switch c := c.(type) {
		case *instructions.UserCommand:
			cfg.User = c.User
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				cfg.Env = append(cfg.Env, kv.Key+"="+kv.Value)
			}
		case *instructions.LabelCommand:
			if cfg.Labels == nil {
				cfg.Labels = map[string]string{}
			}
			for _, kv := range c.Labels {
				cfg.Labels[kv.Key] = kv.Value
			}
		case *instructions.ExposeCommand:
			if cfg.ExposedPorts == nil {
				cfg.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range c.Ports {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				cfg.ExposedPorts[p] = struct{}{}
			}
		case *instructions.EntrypointCommand:
			if c.PrependShell {
				return Dockerfile{}, fmt.Errorf("%s: ENTRYPOINT must be in exec form (the image has no shell)", path)
			}
			cfg.Entrypoint = c.CmdLine
		case *instructions.CmdCommand:
			if c.PrependShell {
				return Dockerfile{}, fmt.Errorf("%s: CMD must be in exec form (the image has no shell)", path)
			}
			cfg.Cmd = c.CmdLine
		case *instructions.HealthCheckCommand:
			h := c.Health
			cfg.Healthcheck = &v1.HealthConfig{
				Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
				StartPeriod: h.StartPeriod, Retries: h.Retries,
			}
		case *instructions.WorkdirCommand:
			cfg.WorkingDir = c.Path
		case *instructions.CopyCommand:
			df.Copies = append(df.Copies, *c)
		}
	}
	return df, nil
}

// Stage returns the stage named name, if any.
func (d Dockerfile) Stage(name string) (instructions.Stage, bool) {
	for _, s := range d.Stages {
		if s.Name == name {
			return s, true
		}
	}
	return instructions.Stage{}, false
}
