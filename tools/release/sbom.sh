#!/usr/bin/env bash
# The CycloneDX SBOM of one release archive's binary, run by GoReleaser's sboms step
# (.goreleaser.yaml) in dist/: deploy/cmd/mksbom lists the binary and every Go module
# the linker recorded in it, the repository's own modules (replaced by their folders in
# cmd/mcpmesh/go.mod) under their module paths at the release's version.
#   usage: sbom.sh BINARY DOCUMENT VERSION COMMIT_TIMESTAMP   (paths relative to dist/)
set -euo pipefail
binary=$(realpath "$1") document=$(realpath -m "$2") version=$3 epoch=$4
root=$(cd "$(dirname "$0")/../.." && pwd)
unset GOOS GOARCH GOARM GOAMD64 GOARM64
cd "$root/deploy"
SOURCE_DATE_EPOCH="$epoch" GOWORK=off CGO_ENABLED=0 go run ./cmd/mksbom \
  -binary "$binary" -version "$version" -output "$document"
