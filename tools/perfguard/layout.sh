#!/usr/bin/env bash
# layout.sh LAYOUT [BINARY ...]: counts the machine instructions one tools/call costs
# across the processes of `mcpmesh-bench -layouts LAYOUT` (six: gateway, transport,
# session, registry, health and the everything provider; all: one process), each under
# valgrind's callgrind, for each BINARY (default ./bin/mcpmesh). Throughput on two cores
# moves by 10-30% between back-to-back runs; this count does not, so it compares builds
# (run it for the old and the new binary) where a throughput pair cannot.
#
# The load is SIX_C sessions (default 4) calling echo in a closed loop; after SIX_WARMUP
# seconds of load (default 25) the counters of every process are zeroed, and after
# SIX_WINDOW seconds (default 40) dumped; the gateway's request counter over the same
# window divides them. It judges nothing: it prints a line per process and the total.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
layout=${1:-}
case "$layout" in
  six | all) shift ;;
  *) echo "usage: layout.sh six|all [BINARY ...]" >&2; exit 2 ;;
esac
conns=${SIX_C:-4}
warmup=${SIX_WARMUP:-25}
window=${SIX_WINDOW:-40}
for tool in valgrind callgrind_control curl; do
  command -v "$tool" >/dev/null || { echo "layout.sh: $tool is not installed" >&2; exit 1; }
done
[ -x "$root/bin/mcpmesh-bench" ] || { echo "layout.sh: build the bench first (make bin/mcpmesh-bench)" >&2; exit 1; }
[ $# -gt 0 ] || set -- "$root/bin/mcpmesh"

# answered is the gateway's count of tools/call answers (POST /mcp, 200).
answered() {
  curl -fsS "$1/metrics" | awk '/^http_server_request_duration_seconds_count\{/ && /http_request_method="POST"/ &&
    /http_response_status_code="200"/ && /http_route="\/mcp"/ { n += $2 } END { print n + 0 }'
}

count() {
  local binary work wrapper bench url pids c0 c1 total
  binary=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  work=$(mktemp -d)
  wrapper=$work/callgrind-mcpmesh
  # Asynchronous preemption off: callgrind does not survive its signals.
  cat > "$wrapper" <<EOF
#!/usr/bin/env bash
GODEBUG=asyncpreemptoff=1 exec valgrind --tool=callgrind --callgrind-out-file=$work/callgrind.out.%p "$binary" "\$@"
EOF
  chmod +x "$wrapper"
  "$root/bin/mcpmesh-bench" -c "$conns" -d $((warmup + window + 60))s -warmup 5s -layouts "$layout" -idle-sessions 0 \
    -binary "$wrapper" > "$work/bench.txt" 2>&1 &
  bench=$!
  url=""
  for _ in $(seq 1 180); do
    url=$(grep -o 'against http://[0-9.:]*' "$work/bench.txt" | cut -d' ' -f2 || true)
    [ -n "$url" ] && break
    kill -0 "$bench" 2>/dev/null || { cat "$work/bench.txt" >&2; exit 1; }
    sleep 1
  done
  [ -n "$url" ] || { echo "layout.sh: the processes did not start" >&2; cat "$work/bench.txt" >&2; exit 1; }
  sleep "$warmup"
  pids=$(pgrep -f "valgrind.bin.*$work" || true)
  c0=$(answered "$url")
  for p in $pids; do callgrind_control -z "$p" >/dev/null 2>&1; done
  sleep "$window"
  for p in $pids; do callgrind_control -d "$p" >/dev/null 2>&1; done
  c1=$(answered "$url")
  sleep 3
  kill "$bench" 2>/dev/null || true
  wait "$bench" 2>/dev/null || true
  pkill -f "valgrind.bin.*$work" 2>/dev/null || true
  local calls=$((c1 - c0))
  [ "$calls" -gt 0 ] || { echo "layout.sh: no tools/call answered in the window" >&2; exit 1; }
  total=0
  for p in $pids; do
    local f n target
    f=$(ls "$work"/callgrind.out."$p".* 2>/dev/null | sort | tail -1)
    n=$(sed -n 's/^summary: //p' "$f")
    target=$(grep -o -- '-target=[a-z-]*' "$f" | head -1 || true)
    printf '%s %-32s %10d instructions per tools/call\n' "$(basename "$binary")" "${target#-target=}" $((n / calls))
    total=$((total + n))
  done
  printf '%s %-32s %10d instructions per tools/call (%d calls counted)\n' "$(basename "$binary")" total $((total / calls)) "$calls"
  rm -rf "$work"
}

for b in "$@"; do count "$b"; done
