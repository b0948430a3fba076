#!/usr/bin/env bash
# The container image of one release platform, run by GoReleaser after each build
# (.goreleaser.yaml, builds.hooks.post): the binary just built, the one the archive of
# that platform holds, goes into the image deploy/cmd/mkimage builds without a
# container engine (the runtime stage of deploy/Dockerfile, on an empty base). It
# writes, into dist/:
#   mcpmesh_<version>_linux_<arch>.oci.tar        the image as an OCI layout archive
#   mcpmesh_<version>_linux_<arch>.oci.cdx.json   its CycloneDX SBOM
# which checksums.txt lists (and so its signature covers). Darwin builds have no image.
# IMAGE_REPOSITORY (default ghcr.io/mcpmesh/mcpmesh) names where it is published.
#   usage: image.sh OS ARCH BINARY VERSION COMMIT_TIMESTAMP
set -euo pipefail
os=$1 arch=$2 binary=$3 version=$4 epoch=$5
if [ "$os" != linux ]; then
  exit 0
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
repository=${IMAGE_REPOSITORY:-ghcr.io/mcpmesh/mcpmesh}
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
base="$root/dist/mcpmesh_${version}_linux_${arch}"
# The image tag: a snapshot's version carries build metadata (+commit), which an image
# tag cannot hold.
tag="v${version//+/-}"
unset GOOS GOARCH GOARM GOAMD64 GOARM64
cd "$root/deploy"
SOURCE_DATE_EPOCH="$epoch" GOWORK=off CGO_ENABLED=0 go run ./cmd/mkimage \
  -binary "$binary" -arch "$arch" -dockerfile Dockerfile -version "v$version" \
  -name "$repository:$tag" -repository "$repository" \
  -oci-archive "$base.oci.tar" -sbom "$base.oci.cdx.json"
