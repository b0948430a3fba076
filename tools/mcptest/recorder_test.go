package mcptest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The validator must accept the official examples and reject broken messages, or the
// end-to-end schema checks prove nothing.
func TestRecorderAcceptsOfficialExamples(t *testing.T) {
	dir := SpecDir(t)
	r := NewRecorder(NewSchemas(dir))
	for _, def := range []string{"CallToolResultResponse", "ListToolsResultResponse", "DiscoverResultResponse", "ProgressNotification", "UnsupportedProtocolVersionError", "HeaderMismatchError"} {
		files, err := filepath.Glob(filepath.Join(dir, "schema", "2026-07-28", "examples", def, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no examples for %s: %v", def, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r.Check(b, "2026-07-28")
		}
	}
	if len(r.problems) > 0 {
		t.Fatalf("official examples rejected:\n%s", strings.Join(r.problems, "\n"))
	}
}

func TestRecorderRejectsInvalidMessages(t *testing.T) {
	dir := SpecDir(t)
	tests := []struct {
		name, version, request, msg string
	}{
		{"2026 result without resultType", "2026-07-28", `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`, `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`},
		{"null id", "2025-11-25", ``, `{"jsonrpc":"2.0","id":null,"result":{}}`},
		{"tools/list without tools", "2025-11-25", `{"jsonrpc":"2.0","id":"a","method":"tools/list"}`, `{"jsonrpc":"2.0","id":"a","result":{}}`},
		{"audio in 2024-11-05", "2024-11-05", `{"jsonrpc":"2.0","id":2,"method":"tools/call"}`, `{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"audio","data":"AA==","mimeType":"audio/wav"}]}}`},
		{"not JSON", "2025-11-25", ``, `{"jsonrpc":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRecorder(NewSchemas(dir))
			if tt.request != "" {
				r.noteRequest([]byte(tt.request))
			}
			r.Check([]byte(tt.msg), tt.version)
			if len(r.problems) == 0 {
				t.Errorf("accepted an invalid message: %s", tt.msg)
			}
		})
	}
}
