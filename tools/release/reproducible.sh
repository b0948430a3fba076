#!/usr/bin/env bash
# make reproducible: builds the commit checked out (HEAD) twice with `make build`, in two
# fresh clones under two different folders, at two different times, with a different
# time zone, umask, locale, HOME and an empty Go build cache for the second build, then
# compares the sha256 of the two binaries. Uncommitted changes are not part of the
# check: commit first.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
commit=$(git -C "$root" rev-parse HEAD)
work=$(mktemp -d "${TMPDIR:-/tmp}/mcpmesh-reproducible.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

clone() {
  git clone -q --no-checkout "$root" "$1"
  git -C "$1" checkout -q --detach "$commit"
}

first="$work/one/mcpmesh"
second="$work/two/a/much/deeper/folder/named/differently"
clone "$first"
clone "$second"

echo "== build 1 of $commit in $first"
(cd "$first" && make --no-print-directory build)
# Commit dates, not build times, go into the binary: a later build must not differ.
sleep 2
echo "== build 2 of $commit in $second (TZ, umask, locale, HOME and a cold GOCACHE changed)"
mkdir -p "$work/home" "$work/gocache"
# The module cache stays (its contents are checked against go.sum); only the build
# cache is new, so every package is compiled again.
gomodcache=$(go env GOMODCACHE)
(cd "$second" && umask 077 && \
  TZ=Pacific/Kiritimati LC_ALL=C LANG=C HOME="$work/home" GOCACHE="$work/gocache" \
  GOMODCACHE="$gomodcache" \
  make --no-print-directory build)

sum1=$(sha256sum "$first/bin/mcpmesh" | cut -d' ' -f1)
sum2=$(sha256sum "$second/bin/mcpmesh" | cut -d' ' -f1)
echo "$sum1  build 1"
echo "$sum2  build 2"
if [ "$sum1" != "$sum2" ]; then
  echo "make reproducible: the two builds of $commit differ; their build information:" >&2
  diff <(go version -m "$first/bin/mcpmesh") <(go version -m "$second/bin/mcpmesh") >&2 || true
  exit 1
fi
echo "make reproducible: $commit builds byte for byte the same ($sum1)"
