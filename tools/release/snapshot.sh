#!/usr/bin/env bash
# make release-snapshot: the release GoReleaser would make of HEAD, into dist/, with
# nothing published. The checksums are signed with the key file COSIGN_KEY (password in
# COSIGN_PASSWORD); without one, with a throwaway key whose public half is left in
# dist/cosign.pub. GoReleaser, cosign and cyclonedx-gomod come from PATH (bin/).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mcpmesh-snapshot.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

public=""
if [ -z "${COSIGN_KEY:-}" ]; then
  export COSIGN_PASSWORD="throwaway-$$-$RANDOM"
  (cd "$scratch" && cosign generate-key-pair >/dev/null)
  export COSIGN_KEY="$scratch/cosign.key"
  public="$scratch/cosign.pub"
fi

tools/release/release-notes.sh Unreleased > "$scratch/notes.md"
goreleaser release --snapshot --clean --release-notes "$scratch/notes.md"
if [ -n "$public" ]; then
  cp "$public" dist/cosign.pub
fi
echo "release-snapshot: dist/ holds the archives, dist/checksums.txt and its signature dist/checksums.txt.sig"
