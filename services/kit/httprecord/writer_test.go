package httprecord_test

import (
	"crypto/tls"
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

func TestSchemeAndProtocolVersion(t *testing.T) {
	for _, tc := range []struct {
		major, minor int
		tls          bool
		wantScheme   string
		wantVersion  string
	}{
		{1, 1, false, "http", "1.1"},
		{1, 0, false, "http", "1.0"},
		{2, 0, true, "https", "2"},
		{3, 0, true, "https", ""}, // not one this server speaks: no unbounded value
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.ProtoMajor, r.ProtoMinor = tc.major, tc.minor
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := httprecord.Scheme(r); got != tc.wantScheme {
			t.Errorf("HTTP/%d.%d tls=%v: Scheme %q, want %q", tc.major, tc.minor, tc.tls, got, tc.wantScheme)
		}
		if got := httprecord.ProtocolVersion(r); got != tc.wantVersion {
			t.Errorf("HTTP/%d.%d: ProtocolVersion %q, want %q", tc.major, tc.minor, got, tc.wantVersion)
		}
	}
}
