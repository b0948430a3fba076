package policy

// Config is the section auth.policy.
type Config struct {
	// Rules decide who may use which tools, resources and prompts. Every rule that
	// matches a capability must pass (see Policy).
	Rules []Rule `koanf:"rules"`
	// Default is what happens to a capability that no rule matches: "allow" or "deny".
	// Empty means deny when there is at least one rule and allow when there is none, so
	// a mesh without rules works out of the box and a mesh with rules does not expose
	// a tool nobody wrote a rule for.
	Default string `koanf:"default"`
}

// Default values of Config.Default.
const (
	DefaultAllow = "allow"
	DefaultDeny  = "deny"
)

// Rule is one entry of auth.policy.rules.
type Rule struct {
	// Name identifies the rule in configuration errors and audit lines; empty means
	// "rules[<index>]".
	Name string `koanf:"name"`
	// Tools, Resources and Prompts are name patterns ('*' matches any run of
	// characters): tool names, resource URIs (or URI templates in listings), prompt
	// names. A rule names at least one.
	Tools     []string `koanf:"tools"`
	Resources []string `koanf:"resources"`
	Prompts   []string `koanf:"prompts"`
	// RequireScopes must all be held by the principal. A call short of one gets the
	// step-up answer (insufficient_scope) naming every scope the capability needs.
	RequireScopes []string `koanf:"require_scopes"`
	// Allow is an optional CEL expression that must evaluate to true. It sees
	// principal (subject, issuer, client_id, scopes, claims, method), capability
	// (name, kind, provider) and arguments (the call's arguments: a tool's arguments
	// object, a prompt's arguments, completion's context arguments; empty otherwise).
	Allow string `koanf:"allow"`
}
