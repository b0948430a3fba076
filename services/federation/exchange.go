package federation

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/tokenexchange"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// exchanger gets, and keeps until shortly before they expire, the exchanged tokens of
// one token_exchange upstream, per caller.
type exchanger struct {
	upstream string
	cfg      TokenExchange
	verifier *assertion.Verifier
	client   *http.Client
	logger   *slog.Logger
	now      func() time.Time
	timeout  time.Duration // of one token request

	mu       sync.Mutex
	cache    map[callerKey]exchangedToken
	inflight map[callerKey]*exchangeFlight
}

// callerKey names a caller as principal.Key does, the issuer that authenticated the
// principal and its subject, and what else of the caller the identity provider may
// base the token on (the client it came through, its scopes, how it authenticated):
// all from a verified assertion, so a token kept for one caller is never another's,
// nor a caller's through a client with broader scopes.
type callerKey struct{ issuer, subject, clientID, scope, method string }

type exchangedToken struct {
	token  string
	expiry time.Time // zero: not kept
}

// exchangeFlight is one token request that concurrent calls of the same caller wait for.
type exchangeFlight struct {
	done chan struct{}
	tok  exchangedToken
	err  error
}

const (
	// maxExchangedTokens bounds the cache; past it, expired tokens are dropped, and if
	// none has expired it starts over (one more token request per caller).
	maxExchangedTokens = 4096
	// renewExchangedBefore is how long before its expiry a token is exchanged anew, so
	// that a call never starts with a token about to expire.
	renewExchangedBefore = 30 * time.Second
)

func newExchanger(upstream string, cfg TokenExchange, timeout time.Duration, logger *slog.Logger) *exchanger {
	return &exchanger{
		upstream: upstream, cfg: cfg, logger: logger, now: time.Now, timeout: timeout,
		// The mesh's keys are fetched at the first call and again when a key id is
		// unknown (rotation), at most every 30 s.
		verifier: &assertion.Verifier{Keys: &assertion.RemoteKeys{URL: cfg.AssertionJWKSURL}, Audience: upstream, Issuer: cfg.AssertionIssuer},
		// A token endpoint that redirects is not followed: the request carries the
		// client secret and the caller's assertion.
		client: &http.Client{
			Transport:     http.DefaultTransport.(*http.Transport).Clone(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		cache:    map[callerKey]exchangedToken{},
		inflight: map[callerKey]*exchangeFlight{},
	}
}

// callerFor returns the caller ctx's assertion names, with its exchanged token for
// the upstream, or the gRPC status the call fails with: a call that names no
// authenticated caller is refused, never made with the federation's own token.
func (e *exchanger) callerFor(ctx context.Context) (caller, error) {
	raw, err := assertion.FromIncoming(ctx)
	if errors.Is(err, assertion.ErrMissing) {
		return caller{}, status.Errorf(codes.Unauthenticated, "upstream %s is called on behalf of the caller (token exchange), and the call carries no identity assertion of a caller", e.upstream)
	}
	var claims *assertion.Claims
	if err == nil {
		claims, err = e.verifier.Verify(ctx, raw)
	}
	if err != nil {
		e.logger.WarnContext(ctx, "caller assertion rejected; no token exchange", "error", err)
		return caller{}, status.Errorf(codes.Unauthenticated, "upstream %s is called on behalf of the caller (token exchange), and the caller's identity assertion was rejected", e.upstream)
	}
	if claims.AuthMethod == string(principal.MethodAnonymous) {
		return caller{}, status.Errorf(codes.Unauthenticated, "upstream %s is called on behalf of the caller (token exchange), and the caller is anonymous: authenticate to the mesh", e.upstream)
	}
	key := callerKey{issuer: claims.PrincipalIssuer, subject: claims.Subject, clientID: claims.ClientID, scope: claims.Scope, method: claims.AuthMethod}
	tok, err := e.token(ctx, key, raw)
	if err != nil {
		return caller{}, err
	}
	return caller{key: key, token: tok}, nil
}

// token returns the caller's cached token, or exchanges raw for one. Concurrent calls
// of one caller share a token request, which runs on its own (bounded by the
// upstream's call timeout), so that the caller that started it may go away without
// failing the others.
func (e *exchanger) token(ctx context.Context, key callerKey, raw string) (string, error) {
	e.mu.Lock()
	if t, ok := e.cache[key]; ok && e.now().Before(t.expiry.Add(-renewExchangedBefore)) {
		e.mu.Unlock()
		return t.token, nil
	}
	f, waiting := e.inflight[key]
	if !waiting {
		f = &exchangeFlight{done: make(chan struct{})}
		e.inflight[key] = f
		go e.fly(context.WithoutCancel(ctx), key, raw, f)
	}
	e.mu.Unlock()
	select {
	case <-f.done:
		return f.tok.token, f.err
	case <-ctx.Done():
		return "", status.FromContextError(ctx.Err()).Err()
	}
}

// fly makes the token request of f and keeps its token.
func (e *exchanger) fly(ctx context.Context, key callerKey, raw string, f *exchangeFlight) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	f.tok, f.err = e.exchange(ctx, key, raw)
	e.mu.Lock()
	delete(e.inflight, key)
	if f.err == nil && !f.tok.expiry.IsZero() {
		e.keep(key, f.tok)
	}
	e.mu.Unlock()
	close(f.done)
}

// keep caches t; e.mu is held.
func (e *exchanger) keep(key callerKey, t exchangedToken) {
	if len(e.cache) >= maxExchangedTokens {
		now := e.now()
		for k, c := range e.cache {
			if !now.Before(c.expiry.Add(-renewExchangedBefore)) {
				delete(e.cache, k)
			}
		}
		if len(e.cache) >= maxExchangedTokens {
			clear(e.cache)
		}
	}
	e.cache[key] = t
}

// exchange asks the identity provider for the caller's token (RFC 8693): the subject
// token is the mesh's assertion, the federation authenticates as its client. Neither
// the tokens nor the provider's answer are logged or returned: an error names the
// upstream and the OAuth error code only.
func (e *exchanger) exchange(ctx context.Context, key callerKey, raw string) (exchangedToken, error) {
	secret, err := readSecret(e.cfg.ClientSecretFile)
	if err != nil {
		e.logger.ErrorContext(ctx, "token exchange: cannot read the client secret", "error", err)
		return exchangedToken{}, status.Errorf(codes.Unavailable, "the token exchange for upstream %s failed: the federation's client secret is unreadable", e.upstream)
	}
	te, err := tokenexchange.NewTokenExchangerClientCredentials(ctx, "", e.cfg.ClientID, secret,
		tokenexchange.WithHTTPClient(e.client), tokenexchange.WithStaticTokenEndpoint("", e.cfg.TokenURL))
	if err != nil {
		return exchangedToken{}, status.Errorf(codes.Internal, "the token exchange for upstream %s: %v", e.upstream, err)
	}
	var audience, resource []string
	if e.cfg.Audience != "" {
		audience = []string{e.cfg.Audience}
	}
	if e.cfg.Resource != "" {
		resource = []string{e.cfg.Resource}
	}
	issued := e.now()
	resp, err := tokenexchange.ExchangeToken(ctx, te, raw, oidc.JWTTokenType, "", "", resource, audience, e.cfg.Scopes, oidc.AccessTokenType)
	if err != nil {
		return exchangedToken{}, e.failure(ctx, key, err)
	}
	if resp.AccessToken == "" || (resp.TokenType != "" && !strings.EqualFold(resp.TokenType, oidc.BearerToken)) {
		e.logger.WarnContext(ctx, "token exchange: the identity provider's answer holds no bearer access token", "token_type", resp.TokenType, "issued_token_type", resp.IssuedTokenType)
		return exchangedToken{}, status.Errorf(codes.Unavailable, "the token exchange for upstream %s failed: the identity provider issued no bearer access token", e.upstream)
	}
	tok := exchangedToken{token: resp.AccessToken}
	if resp.ExpiresIn > 0 {
		tok.expiry = issued.Add(time.Duration(resp.ExpiresIn) * time.Second) //nolint:gosec // seconds of a token's life
	}
	e.logger.DebugContext(ctx, "token exchanged", "principal_iss", key.issuer, "sub", key.subject, "expires_in", resp.ExpiresIn)
	return tok, nil
}

// failure is the status of a failed token request. The library's own errors may
// quote the provider's answer, so only the OAuth error code (a refusal) or the
// transport's error reach the log.
func (e *exchanger) failure(ctx context.Context, key callerKey, err error) error {
	var refused *oidc.Error
	var transport *url.Error
	switch {
	case errors.As(err, &refused):
		e.logger.WarnContext(ctx, "token exchange refused by the identity provider", "principal_iss", key.issuer, "sub", key.subject, "client_id", key.clientID, "error", string(refused.ErrorType))
		return status.Errorf(codes.PermissionDenied, "the token exchange for upstream %s was refused by the identity provider (%s)", e.upstream, refused.ErrorType)
	case errors.Is(err, context.DeadlineExceeded):
		return status.Errorf(codes.DeadlineExceeded, "the token exchange for upstream %s: the identity provider did not answer in time", e.upstream)
	case errors.Is(err, context.Canceled):
		return status.FromContextError(err).Err()
	case errors.As(err, &transport):
		e.logger.WarnContext(ctx, "token exchange failed", "error", transport.Err, "token_url", e.cfg.TokenURL)
	default:
		e.logger.WarnContext(ctx, "token exchange failed: the token endpoint's answer is no token response", "token_url", e.cfg.TokenURL)
	}
	return status.Errorf(codes.Unavailable, "the token exchange for upstream %s failed: the identity provider did not answer with a token", e.upstream)
}

// caller is a verified caller of a token_exchange upstream and its exchanged token.
type caller struct {
	key   callerKey
	token string
}

type callerContextKey struct{}

// withCaller marks ctx's upstream requests as made for c: they carry c's token
// (callerOrOwn sends it), over c's own session when the upstream keeps sessions
// (callersession.go).
func withCaller(ctx context.Context, c caller) context.Context {
	return context.WithValue(ctx, callerContextKey{}, c)
}

func callerOf(ctx context.Context) (caller, bool) {
	c, ok := ctx.Value(callerContextKey{}).(caller)
	return c, ok && c.token != ""
}

func callerToken(ctx context.Context) (string, bool) {
	c, ok := callerOf(ctx)
	return c.token, ok
}
