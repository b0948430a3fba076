package testop

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// SecondUsername is the login name of the example's second user (subject
// SecondUserSubject); its password is Password too.
const (
	SecondUsername    = "test-user2"
	SecondUserSubject = "id2"
)

// UserToken signs username in as a user's browser and the public client would (the
// authorization code flow with PKCE, through the provider's login form) and returns
// the access token for resource with scopes.
func (p *Provider) UserToken(ctx context.Context, username, password, resource string, scopes ...string) (string, error) {
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	verifier := base64.RawURLEncoding.EncodeToString(raw[:])
	challenge := sha256.Sum256([]byte(verifier))
	// Redirects are followed by hand: the last one goes to the client's redirect URI,
	// where nothing listens.
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	step := func(method, target string, form url.Values) (*url.URL, error) {
		var body *strings.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		} else {
			body = strings.NewReader("")
		}
		req, err := http.NewRequestWithContext(ctx, method, target, body)
		if err != nil {
			return nil, err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := browser.Do(req)
		if err != nil {
			return nil, err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
			return nil, fmt.Errorf("%s %s: status %d", method, target, resp.StatusCode)
		}
		return resp.Request.URL.Parse(resp.Header.Get("Location"))
	}
	authorize := p.Issuer + "/authorize?" + url.Values{
		"client_id": {PublicClientID}, "redirect_uri": {PublicRedirectURI}, "response_type": {"code"},
		"scope": {strings.Join(append([]string{"openid"}, scopes...), " ")}, "state": {"s"}, "resource": {resource},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"},
	}.Encode()
	login, err := step(http.MethodGet, authorize, nil)
	if err != nil {
		return "", fmt.Errorf("authorize: %w", err)
	}
	id := login.Query().Get("authRequestID")
	if id == "" {
		return "", fmt.Errorf("authorize redirected to %s, not to the login form", login)
	}
	callback, err := step(http.MethodPost, p.Issuer+"/login/username", url.Values{"id": {id}, "username": {username}, "password": {password}})
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	redirect, err := step(http.MethodGet, callback.String(), nil)
	if err != nil {
		return "", fmt.Errorf("callback: %w", err)
	}
	code := redirect.Query().Get("code")
	if code == "" {
		return "", fmt.Errorf("no code in the redirect to %s", redirect)
	}
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {PublicRedirectURI},
		"client_id": {PublicClientID}, "code_verifier": {verifier}, "resource": {resource},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("token response (%d): %w", resp.StatusCode, err)
	}
	if out.AccessToken == "" {
		return "", errors.New("token endpoint answered " + out.Error)
	}
	return out.AccessToken, nil
}
