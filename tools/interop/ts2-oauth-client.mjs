// OAuth interop check on the v2 TypeScript SDK (@modelcontextprotocol/client, pinned in
// package.json), pinned to the stateless generation, 2026-07-28: the same journey as
// ts-oauth-client.mjs on the v1 SDK. The official client connects as the pre-registered
// public client: its server/discover probe gets the gateway's 401, it finds the
// authorization server from the RFC 9728 metadata, runs the authorization code flow with
// PKCE and the RFC 8707 resource, then lists and calls tools; the tool that needs a scope
// the first token lacks is answered 403 insufficient_scope and the SDK steps up (a second
// authorization for the union of the scopes) before the call is made again.
//
// The client is pinned (versionNegotiation: {pin: '2026-07-28'}), so it either speaks
// 2026-07-28 or fails: there is no fallback to initialize. The report's http entries
// carry the MCP-Protocol-Version header of every request to the gateway, and
// protocolVersion/protocolEra are what the SDK says it negotiated.
//
// The user's browser, the provider and the report are in oauth-user.mjs.
//
// Usage: node ts2-oauth-client.mjs <mcp-url>  (environment: see oauth-user.mjs)
// Prints one JSON report on stdout. Exits 0 only if every step passed; 1 on a failed
// step or the overall timeout; 2 on bad usage. Failures are also described on stderr.
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';

import { OAuthRun, check, text } from './oauth-user.mjs';

const PROTOCOL_VERSION = '2026-07-28';
const REQUEST_TIMEOUT_MS = 10_000;

const run = new OAuthRun('ts2-oauth-client.mjs', '@modelcontextprotocol/client');
const { report, stepUpTool } = run;
const provider = run.provider('mcpmesh-interop-ts2-oauth');

// finishAuthorization hands the redirect of the last authorization to the transport,
// which checks its iss (RFC 9207) before redeeming the code.
async function finishAuthorization(transport) {
  await transport.finishAuth(run.takeCallback());
}

let transport;
let client;
const opts = { timeout: REQUEST_TIMEOUT_MS };
const newClient = () =>
  new Client({ name: 'mcpmesh-interop-ts2-oauth', version: '1.0.0' }, { versionNegotiation: { mode: { pin: PROTOCOL_VERSION } } });
const newTransport = () => new StreamableHTTPClientTransport(new URL(run.url), { authProvider: provider, fetch: run.fetch });

const connected = await run.step('authorize and connect', async () => {
  client = newClient();
  transport = newTransport();
  try {
    await client.connect(transport, opts);
    throw new Error('connected without authorization: the gateway did not ask for a token');
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err;
  }
  await finishAuthorization(transport);
  // The failed probe closed the first transport and client; new ones carry the token.
  client = newClient();
  transport = newTransport();
  await client.connect(transport, opts);
  report.protocolVersion = client.getNegotiatedProtocolVersion();
  report.protocolEra = client.getProtocolEra();
  check(report.protocolVersion === PROTOCOL_VERSION, `negotiated ${report.protocolVersion}, want ${PROTOCOL_VERSION}`);
  check(transport.sessionId === undefined, `the stateless generation got a session ${transport.sessionId}`);
  return `protocol ${report.protocolVersion} (${report.protocolEra} era), no session`;
});

if (connected) {
  await run.step('tools/list', async () => {
    const { tools } = await client.listTools(undefined, opts);
    const names = tools.map((t) => t.name);
    check(names.includes('echo'), `echo missing from ${names.join(', ')}`);
    check(!names.includes(stepUpTool), `${stepUpTool} is listed to a token without its scope`);
    return `${names.length} tools, ${stepUpTool} hidden`;
  });

  await run.step('tools/call echo', async () => {
    const res = await client.callTool({ name: 'echo', arguments: { message: 'hello with a token' } }, opts);
    const got = text(res.content);
    check(!res.isError && got === 'Echo: hello with a token', `echo returned ${JSON.stringify(res)}`);
    return got;
  });

  await run.step('tools/call whoami', async () => {
    const res = await client.callTool({ name: 'whoami', arguments: {} }, opts);
    check(!res.isError, `whoami returned ${JSON.stringify(res)}`);
    report.whoami = JSON.parse(text(res.content));
    return text(res.content);
  });

  await run.step('step-up', async () => {
    const before = report.authorizations.length;
    try {
      const res = await client.callTool({ name: stepUpTool, arguments: { a: 2, b: 3 } }, opts);
      throw new Error(`${stepUpTool} answered without a step-up: ${JSON.stringify(res)}`);
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) throw err;
    }
    check(report.authorizations.length === before + 1, 'the 403 did not start a new authorization');
    await finishAuthorization(transport);
    const res = await client.callTool({ name: stepUpTool, arguments: { a: 2, b: 3 } }, opts);
    const got = text(res.content);
    check(!res.isError && JSON.parse(got).sum === 5, `${stepUpTool} returned ${JSON.stringify(res)}`);
    return `${stepUpTool} after step-up to ${JSON.stringify(report.authorizations.at(-1).scope)}: ${got}`;
  });

  await run.step('tools/list after step-up', async () => {
    // The mesh marks this listing private with a ttlMs (it depends on the token's scopes),
    // and the spec says a cache must not serve it to another authorization context. The
    // SDK's response cache is keyed by server and the fixed ClientOptions.cachePartition,
    // not by token, and the transport's step-up does not evict it: the default
    // cacheMode 'use' would serve the listing of the first token without asking. So the
    // call refreshes.
    const { tools } = await client.listTools(undefined, { ...opts, cacheMode: 'refresh' });
    const names = tools.map((t) => t.name);
    check(names.includes(stepUpTool), `${stepUpTool} still hidden after the step-up: ${names.join(', ')}`);
    return `${names.length} tools`;
  });

  await run.step('close', async () => {
    await client.close();
  });
}

run.finish();
