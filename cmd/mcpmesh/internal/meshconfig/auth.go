package meshconfig

// AuthOn reports whether callers must authenticate (auth.mode other than none): then
// /metrics is served on the admin listener only.
func (c Config) AuthOn() bool { return c.Auth.Mode != "" && c.Auth.Mode != "none" }
