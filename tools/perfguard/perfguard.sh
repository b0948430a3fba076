#!/usr/bin/env bash
# perfguard.sh [-update]: counts the machine instructions of one tools/call through
# -target=all in process (cmd/mcpmesh/internal/mesh TestToolCallsCounted under
# valgrind's callgrind) and fails when it exceeds the committed baseline by more than
# PERFGUARD_TOLERANCE percent (default 10). An instruction count does not depend on how
# busy the machine is, unlike time. -update writes the count as the new baseline.
#
# The count is the median of BATCHES batches of CALLS calls each, divided by CALLS,
# with GOGC=off (a collection's cost depends on when it starts, not on the calls; the
# allocations themselves are counted), GOMAXPROCS=1 and asynchronous preemption off
# (callgrind does not survive its signals). It changes with the Go toolchain: update
# the baseline with the toolchain.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
baseline_file=$root/tools/perfguard/baseline.txt
calls=${PERFGUARD_CALLS:-20}
batches=${PERFGUARD_BATCHES:-9}
tolerance=${PERFGUARD_TOLERANCE:-10}
update=false
case "${1:-}" in
  -update) update=true ;;
  "") ;;
  *) echo "usage: perfguard.sh [-update]" >&2; exit 2 ;;
esac
command -v valgrind >/dev/null || { echo "perfguard: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root/cmd/mcpmesh" && GOWORK=off go test -c -o "$work/mesh.test" ./internal/mesh)
if ! (cd "$root/cmd/mcpmesh/internal/mesh" &&
  MCPMESH_CALLGRIND_CALLS=$calls MCPMESH_CALLGRIND_BATCHES=$batches \
    GOGC=off GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 \
    valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out.%p" \
    "$work/mesh.test" -test.run '^TestToolCallsCounted$' -test.count=1 >"$work/log" 2>&1); then
  cat "$work/log" >&2
  echo "perfguard: the counted run failed" >&2
  exit 1
fi
# One dump per batch: callgrind.out.PID.1 .. .BATCHES, each with a "totals:" line.
mapfile -t totals < <(for f in "$work"/callgrind.out.*.*; do sed -n 's/^totals: //p' "$f"; done | sort -n)
if [ "${#totals[@]}" -ne "$batches" ]; then
  cat "$work/log" >&2
  echo "perfguard: want $batches batch counts, got ${#totals[@]} (was the test skipped?)" >&2
  exit 1
fi
median=${totals[$((batches / 2))]}
per_call=$((median / calls))
echo "perfguard: instructions per tools/call: $per_call (median of $batches batches of $calls; batches ${totals[0]}..${totals[$((batches - 1))]})"
if $update; then
  printf '# Instructions per tools/call through -target=all (make perfguard-update; %s, %s).\n%s\n' \
    "$(go env GOVERSION)" "$(valgrind --version)" "$per_call" >"$baseline_file"
  echo "perfguard: baseline written to ${baseline_file#"$root"/}"
  exit 0
fi
baseline=$(grep -v '^#' "$baseline_file" | head -n1)
limit=$((baseline + baseline * tolerance / 100))
echo "perfguard: baseline $baseline, limit $limit (+$tolerance%): $(awk -v a="$per_call" -v b="$baseline" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }')"
if [ "$per_call" -gt "$limit" ]; then
  echo "perfguard: FAIL: a tools/call costs more than $tolerance% over the baseline; profile it (docs/performance.md) or, if the cost is meant, run make perfguard-update" >&2
  exit 1
fi
