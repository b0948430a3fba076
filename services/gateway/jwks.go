package gateway

import (
	"net/http"
	"strconv"
)

// JWKSSource gives the public keys of the mesh's identity assertions: a fixed
// kit/assertion KeySet, or FileKeys, which re-reads auth.assertion.signing_key_files
// when they change and keeps a removed key published for a grace period.
type JWKSSource interface {
	JWKS() []byte
}

// serveJWKS serves the public keys of the mesh's identity assertions, for providers
// to verify who is calling, as they are at each request (key files are re-read when
// they change). A short cache lifetime lets a rotation reach providers within minutes
// (they also refetch on an unknown key id; a retired key stays published longer).
func serveJWKS(keys JWKSSource) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		jwks := keys.JWKS()
		h := w.Header()
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("Content-Length", strconv.Itoa(len(jwks)))
		_, _ = w.Write(jwks)
	}
}
