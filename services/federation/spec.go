package federation

import (
	"strings"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	federationv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/federation/v1"
)

// The admin API's Upstream message and the configuration's Upstream, one into the
// other. The message is also the stored form (PostgreSQL keeps its JSON).

// upstreamFromProto is the Upstream a message describes; its output-only fields are
// ignored.
func upstreamFromProto(p *federationv1.Upstream) Upstream {
	u := Upstream{
		Name:      p.GetName(),
		URL:       p.GetUrl(),
		Transport: p.GetTransport(),
		Command:   p.GetCommand(),
		Env:       p.GetEnv(),
		Prefix:    p.GetPrefix(),
		Tools:     filterFromProto(p.GetTools()),
		Resources: filterFromProto(p.GetResources()),
		Prompts:   filterFromProto(p.GetPrompts()),
	}
	if d := p.GetCallTimeout(); d != nil {
		u.CallTimeout = d.AsDuration()
	}
	switch a := p.GetAuth().GetKind().(type) {
	case *federationv1.Auth_BearerFile:
		u.Auth.BearerFile = a.BearerFile
	case *federationv1.Auth_Oauth:
		o := a.Oauth
		u.Auth.OAuth = OAuthClient{
			TokenURL: o.GetTokenUrl(), ClientID: o.GetClientId(), ClientSecretFile: o.GetClientSecretFile(),
			Scopes: o.GetScopes(), Audience: o.GetAudience(), Resource: o.GetResource(),
		}
	case *federationv1.Auth_TokenExchange:
		x := a.TokenExchange
		u.Auth.TokenExchange = TokenExchange{
			TokenURL: x.GetTokenUrl(), ClientID: x.GetClientId(), ClientSecretFile: x.GetClientSecretFile(),
			Scopes: x.GetScopes(), Audience: x.GetAudience(), Resource: x.GetResource(),
			AssertionJWKSURL: x.GetAssertionJwksUrl(), AssertionIssuer: x.GetAssertionIssuer(),
		}
	}
	return u
}

func filterFromProto(f *federationv1.Filter) Filter {
	return Filter{Include: f.GetInclude(), Exclude: f.GetExclude()}
}

// upstreamProto is u as a message, without its output-only fields: the stored form.
func upstreamProto(u Upstream) *federationv1.Upstream {
	p := &federationv1.Upstream{
		Name:      u.Name,
		Url:       u.URL,
		Transport: u.Transport,
		Command:   u.Command,
		Env:       u.Env,
		Prefix:    u.Prefix,
		Tools:     filterProto(u.Tools),
		Resources: filterProto(u.Resources),
		Prompts:   filterProto(u.Prompts),
	}
	if u.CallTimeout > 0 {
		p.CallTimeout = durationpb.New(u.CallTimeout)
	}
	switch {
	case u.Auth.BearerFile != "":
		p.Auth = &federationv1.Auth{Kind: &federationv1.Auth_BearerFile{BearerFile: u.Auth.BearerFile}}
	case u.Auth.OAuth.configured():
		o := u.Auth.OAuth
		p.Auth = &federationv1.Auth{Kind: &federationv1.Auth_Oauth{Oauth: &federationv1.OAuthClient{
			TokenUrl: o.TokenURL, ClientId: o.ClientID, ClientSecretFile: o.ClientSecretFile,
			Scopes: o.Scopes, Audience: o.Audience, Resource: o.Resource,
		}}}
	case u.Auth.TokenExchange.configured():
		x := u.Auth.TokenExchange
		p.Auth = &federationv1.Auth{Kind: &federationv1.Auth_TokenExchange{TokenExchange: &federationv1.TokenExchange{
			TokenUrl: x.TokenURL, ClientId: x.ClientID, ClientSecretFile: x.ClientSecretFile,
			Scopes: x.Scopes, Audience: x.Audience, Resource: x.Resource,
			AssertionJwksUrl: x.AssertionJWKSURL, AssertionIssuer: x.AssertionIssuer,
		}}}
	}
	return p
}

func filterProto(f Filter) *federationv1.Filter {
	if len(f.Include) == 0 && len(f.Exclude) == 0 {
		return nil
	}
	return &federationv1.Filter{Include: f.Include, Exclude: f.Exclude}
}

// upstreamAnswer is u as the API shows it: with its source and, for a stored one, its
// update time; environment values masked (a stdio upstream's environment may hold a
// secret, and the API shows none).
func upstreamAnswer(u Upstream, source federationv1.UpstreamSource, updated *timestamppb.Timestamp) *federationv1.Upstream {
	p := upstreamProto(u)
	p.Source = source
	p.UpdateTime = updated
	if len(p.Env) > 0 {
		masked := make([]string, len(p.Env))
		for i, kv := range p.Env {
			name, _, _ := strings.Cut(kv, "=")
			masked[i] = name + "=" + maskedValue
		}
		p.Env = masked
	}
	return p
}

// maskedValue stands for an environment value in answers.
const maskedValue = "****"
