package meshconfig

// Auth is the client authentication of the gateway. Only the mode is read here, to
// decide where operational endpoints are served.
type Auth struct {
	// Mode is how callers authenticate: none, or a mode that identifies them.
	Mode string `koanf:"mode"`
}

// AuthOn reports whether callers must authenticate (auth.mode other than none): then
// /metrics is served on the admin listener only.
func (c Config) AuthOn() bool { return c.Auth.Mode != "" && c.Auth.Mode != "none" }
