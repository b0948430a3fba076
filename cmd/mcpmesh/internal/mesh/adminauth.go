package mesh

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
)

// bearerFile is a token read from a file, re-read when the file changes (a rotated
// Kubernetes secret), for the admin listener's own credential.
type bearerFile struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	token   []byte
}

func newBearerFile(path string) (*bearerFile, error) {
	b := &bearerFile{path: path}
	if _, err := b.current(); err != nil {
		return nil, err
	}
	return b, nil
}

// current returns the token, re-reading the file when it changed; a file that went
// empty or unreadable keeps the last token.
func (b *bearerFile) current() ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fi, err := os.Stat(b.path)
	if err != nil {
		if b.token != nil {
			return b.token, nil
		}
		return nil, fmt.Errorf("admin.auth.bearer_token_file: %w", err)
	}
	if b.token != nil && fi.ModTime().Equal(b.modTime) && fi.Size() == b.size {
		return b.token, nil
	}
	raw, err := os.ReadFile(b.path)
	token := bytes.TrimSpace(raw)
	switch {
	case err != nil && b.token == nil:
		return nil, fmt.Errorf("admin.auth.bearer_token_file: %w", err)
	case err == nil && len(token) < 16 && b.token == nil:
		return nil, fmt.Errorf("admin.auth.bearer_token_file %s: the token must be at least 16 characters", b.path)
	case err == nil && len(token) >= 16:
		b.token, b.modTime, b.size = token, fi.ModTime(), fi.Size()
	}
	return b.token, nil
}

// requireBearer lets through requests that carry the file's token as a bearer token;
// others get 401 with a challenge and no hint about the token.
func requireBearer(b *bearerFile, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want, err := b.current()
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if err != nil || !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mcpmesh-admin"`)
			http.Error(w, "admin credential required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// requirePeer lets through requests whose verified client certificate has an identity
// (URI or DNS SAN) matching allowed (admin.tls.allowed_peers); others get 403. The TLS
// handshake has already refused clients without a certificate the CA signed.
func requirePeer(allowed []string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !meshtls.PeerOfConnection(r.TLS).Matches(allowed) {
			http.Error(w, "client certificate not allowed on the admin listener", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// publicMetrics is the /metrics handler of the gateway's public listener: none when
// callers must authenticate (auth.mode other than none), since metrics name tools,
// providers and error rates; /metrics is then on the admin listener only.
func (m *Mesh) publicMetrics() http.Handler {
	if m.cfg.AuthOn() {
		return nil
	}
	return m.tel.MetricsHandler()
}
