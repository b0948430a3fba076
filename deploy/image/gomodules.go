package image

import (
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// GoModules are the Go modules a binary was linked from, as CycloneDX components.
type GoModules struct {
	// Main is the binary's own module, an application component carrying the binary's
	// SHA-256, at the release's version (a release build has no VCS stamp, so the
	// binary itself says "(devel)").
	Main cdx.Component
	// Deps is every other module the linker recorded, in its order.
	Deps []cdx.Component
}

// ReadGoModules lists the modules of the Go binary at path, with version as the
// release's version.
//
// A module replaced by a directory (a replace directive to ./, ../ or an absolute path)
// is one of the repository's own modules, compiled from the release's commit: it is
// listed under its module path at version. The binary records it as the directory at
// "(devel)", which names nothing a vulnerability scanner or a reader could look up. A
// module replaced by another module is listed as the replacement, the code compiled in.
func ReadGoModules(path, version string) (GoModules, error) {
	binary, err := os.ReadFile(path)
	if err != nil {
		return GoModules{}, fmt.Errorf("read binary: %w", err)
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return GoModules{}, fmt.Errorf("%s: no Go build information: %w", path, err)
	}
	platform := platformOf(info)
	main := goModule(info.Main.Path, version, "", info.GoVersion, platform)
	main.Type = cdx.ComponentTypeApplication
	main.Hashes = &[]cdx.Hash{sha256Hash(binary)}
	modules := GoModules{Main: main}
	for _, dep := range info.Deps {
		var c cdx.Component
		switch {
		case dep.Replace != nil && isDirectory(dep.Replace.Path):
			c = goModule(dep.Path, version, "", info.GoVersion, platform)
			*c.Properties = append(*c.Properties, cdx.Property{Name: "go:replace", Value: dep.Replace.Path})
		case dep.Replace != nil:
			c = goModule(dep.Replace.Path, dep.Replace.Version, dep.Replace.Sum, info.GoVersion, platform)
		default:
			c = goModule(dep.Path, dep.Version, dep.Sum, info.GoVersion, platform)
		}
		modules.Deps = append(modules.Deps, c)
	}
	return modules, nil
}

// depRefs are the bom-refs of the modules the main module depends on.
func (m GoModules) depRefs() []string {
	refs := make([]string, 0, len(m.Deps))
	for _, d := range m.Deps {
		refs = append(refs, d.BOMRef)
	}
	return refs
}

// BinarySBOM describes a release archive's binary as a CycloneDX document: the binary
// (metadata.component) and every module of ReadGoModules. created is the document's
// timestamp (the commit's time, so that the document is reproducible).
func BinarySBOM(path, version string, created time.Time) (*cdx.BOM, error) {
	modules, err := ReadGoModules(path, version)
	if err != nil {
		return nil, err
	}
	main := modules.Main
	refs := modules.depRefs()
	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Timestamp: created.UTC().Format("2006-01-02T15:04:05Z"),
		Component: &main,
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{
			{Type: cdx.ComponentTypeApplication, Name: "mcpmesh mksbom"},
		}},
	}
	bom.Components = &modules.Deps
	bom.Dependencies = &[]cdx.Dependency{{Ref: main.BOMRef, Dependencies: &refs}}
	return bom, nil
}

// platform is the GOOS and GOARCH a binary was built for.
type platform struct{ os, arch string }

// platformOf reads GOOS and GOARCH from the build settings the toolchain recorded.
func platformOf(info *buildinfo.BuildInfo) platform {
	var p platform
	for _, s := range info.Settings {
		switch s.Key {
		case "GOOS":
			p.os = s.Value
		case "GOARCH":
			p.arch = s.Value
		}
	}
	return p
}

// isDirectory reports whether a replacement's path is a directory rather than a
// module path, by the rule of the go command (a relative path starts with ./ or ../).
func isDirectory(path string) bool {
	return strings.HasPrefix(path, "./") || strings.HasPrefix(path, "../") || strings.HasPrefix(path, "/")
}

// goModule is a Go module as a pkg:golang package URL names it and, when the module has
// a go.sum hash (h1:, base64 SHA-256), that hash in hex.
func goModule(path, version, sum, goVersion string, p platform) cdx.Component {
	purl := "pkg:golang/" + path + "@" + url.PathEscape(version) + "?type=module&goos=" + p.os + "&goarch=" + p.arch
	c := cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: path, Version: version, PackageURL: purl}
	if h, ok := strings.CutPrefix(sum, "h1:"); ok {
		if raw, err := base64.StdEncoding.DecodeString(h); err == nil {
			c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hex.EncodeToString(raw)}}
		}
	}
	c.Properties = &[]cdx.Property{{Name: "go:toolchain", Value: goVersion}}
	return c
}
