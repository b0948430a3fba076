package httprecord_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/kit/httprecord"
)

func TestWriterRemembersStatusAndSize(t *testing.T) {
	tests := []struct {
		name       string
		handle     func(w http.ResponseWriter)
		wantStatus int
		wantBytes  int64
	}{
		{"nothing written", func(http.ResponseWriter) {}, http.StatusOK, 0},
		{"explicit status, first wins", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusTeapot)
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusTeapot, 0},
		{"body implies 200", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte("abc"))
			_, _ = io.WriteString(w, "de")
			w.WriteHeader(http.StatusBadGateway)
		}, http.StatusOK, 5},
		{"flush implies 200", func(w http.ResponseWriter) {
			w.(http.Flusher).Flush()
			w.WriteHeader(http.StatusBadGateway)
		}, http.StatusOK, 0},
		{"status through ResponseController", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusAccepted)
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("ResponseController cannot flush through the writer: %v", err)
			}
		}, http.StatusAccepted, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			under := httptest.NewRecorder()
			w := httprecord.Wrap(under)
			tc.handle(&w)
			if w.Status() != tc.wantStatus || w.Bytes() != tc.wantBytes {
				t.Errorf("status %d bytes %d, want %d and %d", w.Status(), w.Bytes(), tc.wantStatus, tc.wantBytes)
			}
			if tc.wantBytes > 0 && int64(under.Body.Len()) != tc.wantBytes {
				t.Errorf("underlying writer got %d bytes, want %d", under.Body.Len(), tc.wantBytes)
			}
		})
	}
}

func TestMethodIsBounded(t *testing.T) {
	for method, want := range map[string]string{
		http.MethodGet: http.MethodGet, http.MethodPost: http.MethodPost, http.MethodTrace: http.MethodTrace,
		"get": httprecord.OtherMethod, "BREW": httprecord.OtherMethod, "": httprecord.OtherMethod,
	} {
		if got := httprecord.Method(method); got != want {
			t.Errorf("Method(%q) = %q, want %q", method, got, want)
		}
	}
}
