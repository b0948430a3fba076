package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The handler follows the format, the colour choice and whether the output is a
// terminal; every format writes durations as text.
func TestHandlerChoice(t *testing.T) {
	const esc = "\x1b["
	tests := []struct {
		name      string
		cfg       Config
		terminal  bool
		wantJSON  bool
		wantColor bool
	}{
		{"auto on a terminal: coloured text", Config{Level: "info", Format: FormatAuto, Color: ColorAuto}, true, false, true},
		{"auto into a pipe: JSON", Config{Level: "info", Format: FormatAuto, Color: ColorAuto}, false, true, false},
		{"json on a terminal stays JSON", Config{Level: "info", Format: FormatJSON, Color: ColorAuto}, true, true, false},
		{"text into a pipe: plain logfmt", Config{Level: "info", Format: FormatText, Color: ColorAuto}, false, false, false},
		{"text, colour never", Config{Level: "info", Format: FormatText, Color: ColorNever}, true, false, false},
		{"text, colour always into a pipe", Config{Level: "info", Format: FormatText, Color: ColorAlways}, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := newHandler(&buf, tt.cfg, slog.LevelInfo, tt.terminal)
			slog.New(h).Warn("provider lease renewed", "lease", 30*time.Second)
			out := buf.String()
			var obj map[string]any
			isJSON := json.Unmarshal(buf.Bytes(), &obj) == nil
			if isJSON != tt.wantJSON {
				t.Errorf("JSON = %v, want %v: %q", isJSON, tt.wantJSON, out)
			}
			if got := strings.Contains(out, esc); got != tt.wantColor {
				t.Errorf("coloured = %v, want %v: %q", got, tt.wantColor, out)
			}
			if !strings.Contains(out, "30s") || strings.Contains(out, "30000000000") {
				t.Errorf("duration not written as text: %q", out)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		cfg     Config
		wantErr string
	}{
		{DefaultConfig(), ""},
		{Config{Level: "loud", Format: "auto"}, "log.level"},
		{Config{Level: "info", Format: "xml"}, "log.format"},
		{Config{Level: "info", Format: "text", Color: "rainbow"}, "log.color"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Validate(%+v) = %v, want error naming %q", tt.cfg, err, tt.wantErr)
		}
	}
}
