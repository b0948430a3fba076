package federation

// AdminSettings are the rules of the upstream admin API (UpstreamAdminService,
// docs/federation.md "Managing upstreams at run time").
type AdminSettings struct {
	// AllowCommands lets the API put stdio upstreams (command): each replica of the
	// federation then starts the program named by whoever can call the API. Off by
	// default: the API takes HTTP upstreams only.
	AllowCommands bool `koanf:"allow_commands"`
}
