// Package mcptest helps end-to-end tests check what the mesh says on the wire: it finds
// the MCP specification folder, compiles the official JSON Schemas of each protocol
// version, and records every JSON-RPC message an HTTP client receives so that each one
// can be validated against the schema of the version in use.
package mcptest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SpecDir returns the MCP specification folder: $MCPMESH_SPEC_DIR, else
// ../shared/mcp-spec beside the repository. When it is absent the test is skipped,
// or fails when $MCPMESH_CI is set (CI must never skip the protocol checks).
func SpecDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("MCPMESH_SPEC_DIR")
	if dir == "" {
		if root, err := repoRoot(); err == nil {
			dir = filepath.Join(root, "..", "shared", "mcp-spec")
		}
	}
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "schema")); err == nil {
			return dir
		}
	}
	msg := fmt.Sprintf("MCP specification folder not found (looked at %q); set MCPMESH_SPEC_DIR to a copy of the spec's schema/ and spec/ folders", dir)
	if os.Getenv("MCPMESH_CI") != "" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// repoRoot walks up from the working directory to the folder holding go.work.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.work not found above the working directory")
		}
		dir = parent
	}
}

// Schemas compiles definitions of the official schemas on demand.
type Schemas struct {
	dir string

	mu       sync.Mutex
	compiler *jsonschema.Compiler
	loaded   map[string]bool
	compiled map[string]*jsonschema.Schema
	missing  map[string]bool
}

// NewSchemas reads schemas from specDir/schema/<version>/schema.json.
func NewSchemas(specDir string) *Schemas {
	return &Schemas{
		dir:      specDir,
		compiler: jsonschema.NewCompiler(),
		loaded:   map[string]bool{},
		compiled: map[string]*jsonschema.Schema{},
		missing:  map[string]bool{},
	}
}

// Definition returns the compiled definition name of the version's schema, or nil
// when that version has no such definition.
func (s *Schemas) Definition(version, name string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := version + "#" + name
	if sch, ok := s.compiled[key]; ok {
		return sch, nil
	}
	if s.missing[key] {
		return nil, nil
	}
	url := "file://" + filepath.Join(s.dir, "schema", version, "schema.json")
	if !s.loaded[version] {
		f, err := os.Open(filepath.Join(s.dir, "schema", version, "schema.json"))
		if err != nil {
			return nil, fmt.Errorf("no schema for protocol version %q: %w", version, err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("parse schema %s: %w", version, err)
		}
		if err := s.compiler.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("add schema %s: %w", version, err)
		}
		s.loaded[version] = true
	}
	// Versions up to 2025-06-18 use draft-07 "definitions", later ones "$defs".
	for _, defs := range []string{"$defs", "definitions"} {
		sch, err := s.compiler.Compile(url + "#/" + defs + "/" + name)
		if err == nil {
			s.compiled[key] = sch
			return sch, nil
		}
	}
	s.missing[key] = true
	return nil, nil
}
