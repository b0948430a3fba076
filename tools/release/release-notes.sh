#!/usr/bin/env bash
# release-notes.sh VERSION [CHANGELOG]: prints the CHANGELOG.md section of VERSION
# ("v1.2.3" or "1.2.3"; "Unreleased" for a snapshot), without its heading, for
# `goreleaser release --release-notes`. Fails when the section is missing or empty, so
# that no release goes out without notes.
set -euo pipefail
version=${1:?usage: release-notes.sh VERSION [CHANGELOG]}
changelog=${2:-CHANGELOG.md}
version=${version#v}
notes=$(awk -v want="$version" '
  /^## \[/ {
    heading = $0
    sub(/^## \[/, "", heading); sub(/\].*$/, "", heading)
    if (printing) exit
    printing = (heading == want)
    next
  }
  /^\[[^]]+\]: / { if (printing) exit }
  printing { print }
' "$changelog")
if [ -z "$(printf '%s' "$notes" | tr -d '[:space:]')" ]; then
  echo "release-notes.sh: $changelog has no notes under \"## [$version]\"" >&2
  exit 1
fi
printf '%s\n' "$notes"
