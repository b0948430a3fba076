package gateway

import (
	"net/http"
	"strconv"
)

// serveJWKS serves the public keys of the mesh's identity assertions, for providers
// to verify who is calling. They change only when the process restarts with other key
// files; a short cache lifetime lets a rotation reach providers within minutes (they
// also refetch on an unknown key id).
func serveJWKS(jwks []byte) http.HandlerFunc {
	length := strconv.Itoa(len(jwks))
	return func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("Content-Length", length)
		_, _ = w.Write(jwks)
	}
}
