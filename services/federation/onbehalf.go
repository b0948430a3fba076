package federation

import (
	"context"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

// provider is what serves u's ProviderService: u itself, or for a token_exchange
// upstream u behind onBehalf.
func (u *upstream) provider() providerv1.ProviderServiceServer {
	if !u.cfg.Auth.TokenExchange.configured() {
		return u
	}
	return onBehalf{upstream: u, tokens: newExchanger(u.cfg.Name, u.cfg.Auth.TokenExchange, u.timeout(), u.logger)}
}

// onBehalf serves a token_exchange upstream: the requests made for a caller (tool
// calls, resource reads, prompts, completions) carry that caller's exchanged token,
// got before the request starts, and go over that caller's own session when the
// upstream keeps sessions (callersession.go); the rest (Describe, subscriptions) are
// the federation's own and carry its token (callerOrOwn).
type onBehalf struct {
	*upstream
	tokens *exchanger
}

// forCaller returns ctx carrying the caller and its token for the upstream.
func (o onBehalf) forCaller(ctx context.Context) (context.Context, error) {
	c, err := o.tokens.callerFor(ctx)
	if err != nil {
		return nil, err
	}
	return withCaller(ctx, c), nil
}

// CallTool answers a call without a token for its caller with a tool error that says
// why (the session service shows providers' failures only as "returned an error"); a
// cancelled or late call stays a failure.
func (o onBehalf) CallTool(req *providerv1.CallToolRequest, stream grpc.ServerStreamingServer[providerv1.CallToolResponse]) error {
	ctx, err := o.forCaller(stream.Context())
	if err != nil {
		switch st := status.Convert(err); st.Code() {
		case codes.Unauthenticated, codes.PermissionDenied, codes.Unavailable:
			return sendIgnoringEOF(stream, toolError(st.Message()))
		}
		return err
	}
	return o.upstream.CallTool(req, callerStream{ServerStreamingServer: stream, ctx: ctx})
}

func (o onBehalf) ReadResource(ctx context.Context, req *providerv1.ReadResourceRequest) (*providerv1.ReadResourceResponse, error) {
	ctx, err := o.forCaller(ctx)
	if err != nil {
		return nil, err
	}
	return o.upstream.ReadResource(ctx, req)
}

func (o onBehalf) GetPrompt(ctx context.Context, req *providerv1.GetPromptRequest) (*providerv1.GetPromptResponse, error) {
	ctx, err := o.forCaller(ctx)
	if err != nil {
		return nil, err
	}
	return o.upstream.GetPrompt(ctx, req)
}

func (o onBehalf) Complete(ctx context.Context, req *providerv1.CompleteRequest) (*providerv1.CompleteResponse, error) {
	ctx, err := o.forCaller(ctx)
	if err != nil {
		return nil, err
	}
	return o.upstream.Complete(ctx, req)
}

// callerStream is a CallTool stream whose context carries the caller's token.
type callerStream struct {
	grpc.ServerStreamingServer[providerv1.CallToolResponse]
	ctx context.Context
}

func (s callerStream) Context() context.Context { return s.ctx }

// httpClient sends each request with the caller's exchanged token when its context
// carries one. Otherwise, on the federation's own connection (last nil), it sends the
// federation's own token: the client credentials grant of the same client, for the
// same audience, resource and scopes; on a caller's connection, the caller's last
// token (its session's stream and the DELETE that ends it).
func (x TokenExchange) httpClient(ctx context.Context, base http.RoundTripper, last func() string) (*http.Client, error) {
	if last != nil {
		return &http.Client{Transport: callerOrOwn{last: last, next: base}}, nil
	}
	secret, err := readSecret(x.ClientSecretFile)
	if err != nil {
		return nil, fmt.Errorf("auth.token_exchange.client_secret_file: %w", err)
	}
	cc := clientcredentials.Config{
		ClientID: x.ClientID, ClientSecret: secret, TokenURL: x.TokenURL,
		Scopes: x.Scopes, EndpointParams: map[string][]string{},
	}
	if x.Audience != "" {
		cc.EndpointParams.Set("audience", x.Audience)
	}
	if x.Resource != "" {
		cc.EndpointParams.Set("resource", x.Resource)
	}
	ctx = context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, &http.Client{Transport: base})
	return &http.Client{Transport: callerOrOwn{own: cc.TokenSource(ctx), next: base}}, nil
}

// callerOrOwn sets the bearer token of each request: the caller's, or else the
// caller's last on a caller's connection, the federation's own on its own.
type callerOrOwn struct {
	own  oauth2.TokenSource // the federation's connection
	last func() string      // a caller's connection
	next http.RoundTripper
}

func (t callerOrOwn) RoundTrip(req *http.Request) (*http.Response, error) {
	token, ok := callerToken(req.Context())
	switch {
	case ok:
	case t.last != nil:
		token = t.last()
	default:
		own, err := t.own.Token()
		if err != nil {
			return nil, fmt.Errorf("the federation's own token (client credentials): %w", err)
		}
		token = own.AccessToken
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := t.next.RoundTrip(req)
	if err == nil && resp.StatusCode >= 400 && resp.StatusCode < 500 {
		noteRefusal(req.Context(), resp.StatusCode)
	}
	return resp, err
}
