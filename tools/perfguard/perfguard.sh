#!/usr/bin/env bash
# perfguard.sh [-update|-auth]: counts the machine instructions of one tools/call
# through -target=all in process (cmd/mcpmesh/internal/mesh TestToolCallsCounted under
# valgrind's callgrind) and fails when it exceeds the committed baseline by more than
# PERFGUARD_TOLERANCE percent (default 10). An instruction count does not depend on how
# busy the machine is, unlike time. -update writes the count as the new baseline; -auth
# counts the call without authentication and with an API key (auth.mode api_key) and
# prints what authentication adds, judging nothing.
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
auth=false
case "${1:-}" in
  -update) update=true ;;
  -auth) auth=true ;;
  "") ;;
  *) echo "usage: perfguard.sh [-update|-auth]" >&2; exit 2 ;;
esac
command -v valgrind >/dev/null || { echo "perfguard: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root/cmd/mcpmesh" && GOWORK=off go test -c -o "$work/mesh.test" ./internal/mesh)
# run AUTH: runs TestToolCallsCounted with MCPMESH_CALLGRIND_AUTH=AUTH under callgrind;
# it leaves one dump per batch (and per mesh), callgrind.out.PID.1, .2, ...
run() {
  rm -f "$work"/callgrind.out.*
  if ! (cd "$root/cmd/mcpmesh/internal/mesh" &&
    MCPMESH_CALLGRIND_CALLS=$calls MCPMESH_CALLGRIND_BATCHES=$batches MCPMESH_CALLGRIND_AUTH=$1 \
      GOGC=off GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 \
      valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out.%p" \
      "$work/mesh.test" -test.run '^TestToolCallsCounted$' -test.count=1 >"$work/log" 2>&1); then
    cat "$work/log" >&2
    echo "perfguard: the counted run failed" >&2
    return 1
  fi
}

# median_per_call WHAT STEP FIRST: the median of the dumps FIRST, FIRST+STEP, ... (in dump
# order), divided by the calls of a batch; a line on stderr gives the range.
median_per_call() {
  local totals
  mapfile -t totals < <(for f in "$work"/callgrind.out.*.*; do echo "${f##*.} $f"; done | sort -n | cut -d' ' -f2- |
    awk -v s="$2" -v f="$3" 'NR >= f && (NR - f) % s == 0' | while read -r f; do sed -n 's/^totals: //p' "$f"; done | sort -n)
  if [ "${#totals[@]}" -ne "$batches" ]; then
    cat "$work/log" >&2
    echo "perfguard: want $batches batch counts of $1, got ${#totals[@]} (was the test skipped?)" >&2
    return 1
  fi
  echo "perfguard: $1: median of $batches batches of $calls; batches ${totals[0]}..${totals[$((batches - 1))]}" >&2
  echo $((totals[$((batches / 2))] / calls))
}

if $auth; then
  # Batches without and with authentication alternate in one process.
  run api_key
  plain=$(median_per_call "no authentication" 2 1)
  keyed=$(median_per_call "an API key" 2 2)
  echo "perfguard: instructions per tools/call: $plain without authentication, $keyed with an API key"
  echo "perfguard: authentication adds $((keyed - plain)) instructions per tools/call: $(awk -v a="$keyed" -v b="$plain" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }')"
  exit 0
fi
run ""
per_call=$(median_per_call "tools/call" 1 1)
echo "perfguard: instructions per tools/call: $per_call"
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
