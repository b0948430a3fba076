#!/usr/bin/env bash
# make release-snapshot: the release GoReleaser would make of HEAD, into dist/, with
# nothing published. It runs in a fresh clone of HEAD (so uncommitted changes are not
# part of it, as in a real release), tagged v0.0.0 there when no v* tag is reachable
# (GoReleaser only reads the commit and its date from git when a tag exists). The
# checksums are signed with the key file COSIGN_KEY (password in COSIGN_PASSWORD);
# without one, with a throwaway key whose public half is left in dist/cosign.pub.
# GoReleaser and cosign come from PATH (bin/).
set -euo pipefail
root=$(git rev-parse --show-toplevel)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mcpmesh-snapshot.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

public=""
if [ -z "${COSIGN_KEY:-}" ]; then
  export COSIGN_PASSWORD="throwaway-$$-$RANDOM"
  (cd "$scratch" && cosign generate-key-pair >/dev/null)
  export COSIGN_KEY="$scratch/cosign.key"
  public="$scratch/cosign.pub"
fi

src="$scratch/src"
git clone -q --no-checkout "$root" "$src"
git -C "$src" checkout -q --detach "$(git -C "$root" rev-parse HEAD)"
if ! git -C "$src" describe --tags --match 'v[0-9]*' >/dev/null 2>&1; then
  git -C "$src" tag v0.0.0
fi

"$root/tools/release/release-notes.sh" Unreleased "$src/CHANGELOG.md" > "$scratch/notes.md"
(cd "$src" && goreleaser release --snapshot --clean --release-notes "$scratch/notes.md")
rm -rf "$root/dist"
mv "$src/dist" "$root/dist"
if [ -n "$public" ]; then
  cp "$public" "$root/dist/cosign.pub"
fi
echo "release-snapshot: dist/ holds the archives, dist/checksums.txt and its signature dist/checksums.txt.sig"
