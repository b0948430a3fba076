package main

import "runtime/debug"

// buildVersion is stamped by release builds (-ldflags "-X main.buildVersion=v1.2.3",
// as deploy/Dockerfile and make image do); empty otherwise.
var buildVersion string

// version is the stamped version, else the module version of the binary, or "dev" for
// a local build.
func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
