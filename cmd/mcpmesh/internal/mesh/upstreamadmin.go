package mesh

import (
	"context"
	"fmt"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"

	federationv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/federation/v1"
	"github.com/mcpmesh/mcpmesh/gen/openapi"
	"github.com/mcpmesh/mcpmesh/services/federation"
	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
)

// The federation's upstream admin API (UpstreamAdminService): over gRPC on the
// process's gRPC server, which grpc.tls (mutual TLS, allowed peers) protects like
// every internal service; over HTTP (REST, /v1/admin/upstreams) on the admin
// listener only, and only when that listener asks callers for a credential
// (admin.auth.bearer_token_file, or admin.tls with client_auth: require). Never on the
// gateway's public listener. The admin listener serves the API's own OpenAPI
// document at /openapi.json beside the routes, behind the same credential; the
// gateway's /openapi.json leaves the API out.

// upstreamAdminBodyLimit bounds a request body of the REST routes: an upstream's spec
// is small.
const upstreamAdminBodyLimit = 1 << 20

// serveUpstreamAdmin registers the federation's admin service on the gRPC server and,
// when the admin listener protects it, its REST routes there.
func (m *Mesh) serveUpstreamAdmin(f *federation.Service) error {
	m.grpcServer.Register(&federationv1.UpstreamAdminService_ServiceDesc, f.Admin())
	switch {
	case m.adminRoutes == nil:
		m.logger.Info("upstream admin API over gRPC only: admin.listen is not set, so /v1/admin/upstreams is not served over HTTP")
		return nil
	case !m.adminProtected():
		m.logger.Warn("/v1/admin/upstreams not served on the admin listener: it asks callers for no credential; set admin.auth.bearer_token_file or admin.tls with client_auth: require")
		return nil
	}
	conn, err := m.dialer.Conn(dial.InProcessScheme)
	if err != nil {
		return fmt.Errorf("upstream admin API: %w", err)
	}
	mux := runtime.NewServeMux(
		// Unknown fields are refused (400), not dropped: a misspelt key must not turn
		// into a different upstream than the caller meant.
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}),
		runtime.WithIncomingHeaderMatcher(func(key string) (string, bool) {
			// The admin credential stays on the admin listener.
			if http.CanonicalHeaderKey(key) == "Authorization" {
				return "", false
			}
			return runtime.DefaultHeaderMatcher(key)
		}),
	)
	if err := federationv1.RegisterUpstreamAdminServiceHandlerClient(context.Background(), mux, federationv1.NewUpstreamAdminServiceClient(conn)); err != nil {
		return fmt.Errorf("upstream admin REST routes: %w", err)
	}
	m.adminRoutes.Handle("/v1/admin/upstreams", http.MaxBytesHandler(mux, upstreamAdminBodyLimit))
	m.adminRoutes.Handle("/v1/admin/upstreams/", http.MaxBytesHandler(mux, upstreamAdminBodyLimit))
	m.adminRoutes.HandleFunc("GET /openapi.json", serveAdminOpenAPI)
	m.upstreamAdminServed = true
	return nil
}

// serveAdminOpenAPI answers with the generated OpenAPI document of the upstream admin
// API (gen/openapi, from buf.gen.yaml).
func serveAdminOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapi.AdminJSON)
}

// UpstreamAdminURL is the URL of the upstream admin API's REST routes, or "" when
// this process does not serve them.
func (m *Mesh) UpstreamAdminURL() string {
	if !m.upstreamAdminServed {
		return ""
	}
	scheme := "http"
	if m.admin.TLSConfig != nil {
		scheme = "https"
	}
	return scheme + "://" + m.AdminAddress() + "/v1/admin/upstreams"
}

// adminProtected reports whether the admin listener asks every caller for a
// credential: its bearer token, or a client certificate its CA signed.
func (m *Mesh) adminProtected() bool {
	a := m.cfg.Admin
	t := a.TLS.Meshtls()
	return a.Auth.BearerTokenFile != "" || (t.Enabled() && t.ClientAuth == meshtls.ClientAuthRequire)
}
