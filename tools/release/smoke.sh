#!/usr/bin/env bash
# smoke.sh BASE_URL [MCPMESH]: the smoke test after each deployment step (deploy.yml,
# docs/operations/deployment.md): the mesh's aggregate health answers serving
# (`mcpmesh ping`), and a tools/call of the everything provider's echo tool comes back
# with the text sent. BASE_URL is the gateway, e.g. https://mcp.staging.example.com.
# Set MCPMESH_TOKEN to send "Authorization: Bearer <token>" when the gateway
# authenticates.
set -euo pipefail
base=${1:?usage: smoke.sh BASE_URL [MCPMESH]}
mcpmesh=${2:-mcpmesh}
base=${base%/}

"$mcpmesh" ping -addr "$base" -timeout 10s

nonce="smoke-$(date -u +%s)-$$"
auth=()
if [ -n "${MCPMESH_TOKEN:-}" ]; then
  auth=(-H "Authorization: Bearer $MCPMESH_TOKEN")
fi
body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"mcpmesh-smoke","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}},"name":"echo","arguments":{"message":"'"$nonce"'"}}}'
answer=$(curl -sS --fail-with-body --max-time 15 "${auth[@]}" \
  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
  -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: echo' \
  --data "$body" "$base/mcp")
if ! grep -q -- "$nonce" <<<"$answer" || grep -q '"isError":true' <<<"$answer"; then
  echo "smoke: tools/call echo did not echo $nonce: $answer" >&2
  exit 1
fi
echo "smoke: $base healthy; tools/call echo answered"
