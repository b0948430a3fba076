#!/usr/bin/env bash
# coverage.sh: CI's test run with coverage. Runs every module's tests (as `make test`
# does, each with GOWORK=off) with a coverage profile, writes coverage/ (one profile
# per module, the merged profile, and the per-function report), prints the total, and
# fails when it is below COVERAGE_FLOOR percent. Then the short fuzz run of make test.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
floor=${COVERAGE_FLOOR:-60}
modules=$(make --no-print-directory -s print-modules)
rm -rf coverage && mkdir -p coverage
for m in $modules; do
  [ "$m" = gen ] && continue # generated code
  echo "== go test -cover $m"
  (cd "$m" && GOWORK=off go test -count=1 -timeout=15m -covermode=atomic \
    -coverprofile="$OLDPWD/coverage/$(echo "$m" | tr / _).out" ./...)
done
{
  echo "mode: atomic"
  for f in coverage/*.out; do tail -n +2 "$f"; done
} > coverage/all.profile
# go tool cover resolves files through a module: the workspace knows every one.
go tool cover -func=coverage/all.profile > coverage/func.txt
total=$(awk '/^total:/ {sub(/%/, "", $3); print $3}' coverage/func.txt)
echo "coverage: ${total}% of statements (floor ${floor}%)"
if awk -v t="$total" -v f="$floor" 'BEGIN { exit !(t < f) }'; then
  echo "coverage: ${total}% is below the floor of ${floor}%" >&2
  exit 1
fi
make --no-print-directory fuzz
