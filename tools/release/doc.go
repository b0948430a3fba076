// Package release pins the release tools (GoReleaser, cosign, actionlint) as Go tool
// directives and tests what they make: the snapshot release of
// `make release-snapshot` (checksums, CycloneDX SBOMs, the cosign signature, the
// container images of the linux platforms) and the
// GitHub workflows (actionlint, actions pinned by commit).
//
// It is a module of its own and not part of go.work: its ~450 modules would otherwise
// join the workspace's build list and lift the versions the server is built with.
// Run it with `make release-test`.
package release
