// OAuth interop check on the v1 TypeScript SDK (@modelcontextprotocol/sdk, pinned in
// package.json), which speaks the stateful generation (2025-11-25): the official client
// connects to an mcpmesh that requires OAuth, as a public client pre-registered at the
// authorization server (no dynamic client registration): it gets the gateway's 401,
// finds the authorization server from the RFC 9728 metadata, runs the authorization code
// flow with PKCE, with the RFC 8707 resource, then lists and calls tools over Streamable
// HTTP in a session; a tool that needs a scope the first token lacks is answered 403
// insufficient_scope and the client steps up (a second authorization for the larger
// scope) and calls it again. ts2-oauth-client.mjs does the same on the v2 SDK over
// 2026-07-28.
//
// The user's browser, the provider and the report are in oauth-user.mjs.
//
// Usage: node ts-oauth-client.mjs <mcp-url>  (environment: see oauth-user.mjs)
// Prints one JSON report on stdout. Exits 0 only if every step passed; 1 on a failed
// step or the overall timeout; 2 on bad usage. Failures are also described on stderr.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { OAuthRun, check, text } from './oauth-user.mjs';

const REQUEST_TIMEOUT_MS = 10_000;

const run = new OAuthRun('ts-oauth-client.mjs', '@modelcontextprotocol/sdk');
const { report, stepUpTool } = run;
const provider = run.provider('mcpmesh-interop-ts-oauth');

// finishAuthorization hands the code of the last authorization to the transport.
async function finishAuthorization(transport) {
  await transport.finishAuth(run.takeCallback().get('code'));
}

let transport;
let client;
const opts = { timeout: REQUEST_TIMEOUT_MS };
const newTransport = () => new StreamableHTTPClientTransport(new URL(run.url), { authProvider: provider, fetch: run.fetch });

const connected = await run.step('authorize and connect', async () => {
  client = new Client({ name: 'mcpmesh-interop-ts-oauth', version: '1.0.0' });
  transport = newTransport();
  try {
    await client.connect(transport, opts);
    throw new Error('connected without authorization: the gateway did not ask for a token');
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err;
  }
  await finishAuthorization(transport);
  // The first transport ended with the failed initialize; a new one carries the token.
  transport = newTransport();
  await client.connect(transport, opts);
  check(transport.sessionId, 'no Mcp-Session-Id: the session is not stateful');
  report.protocolVersion = transport.protocolVersion;
  return `protocol ${transport.protocolVersion}, session ${transport.sessionId}`;
});

if (connected) {
  await run.step('tools/list', async () => {
    const { tools } = await client.listTools({}, opts);
    const names = tools.map((t) => t.name);
    check(names.includes('echo'), `echo missing from ${names.join(', ')}`);
    check(!names.includes(stepUpTool), `${stepUpTool} is listed to a token without its scope`);
    return `${names.length} tools, ${stepUpTool} hidden`;
  });

  await run.step('tools/call echo', async () => {
    const res = await client.callTool({ name: 'echo', arguments: { message: 'hello with a token' } }, undefined, opts);
    const got = text(res.content);
    check(!res.isError && got === 'Echo: hello with a token', `echo returned ${JSON.stringify(res)}`);
    return got;
  });

  await run.step('tools/call whoami', async () => {
    const res = await client.callTool({ name: 'whoami', arguments: {} }, undefined, opts);
    check(!res.isError, `whoami returned ${JSON.stringify(res)}`);
    report.whoami = JSON.parse(text(res.content));
    return text(res.content);
  });

  await run.step('step-up', async () => {
    const before = report.authorizations.length;
    try {
      const res = await client.callTool({ name: stepUpTool, arguments: { a: 2, b: 3 } }, undefined, opts);
      throw new Error(`${stepUpTool} answered without a step-up: ${JSON.stringify(res)}`);
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) throw err;
    }
    check(report.authorizations.length === before + 1, 'the 403 did not start a new authorization');
    await finishAuthorization(transport);
    const res = await client.callTool({ name: stepUpTool, arguments: { a: 2, b: 3 } }, undefined, opts);
    const got = text(res.content);
    check(!res.isError && JSON.parse(got).sum === 5, `${stepUpTool} returned ${JSON.stringify(res)}`);
    return `${stepUpTool} after step-up to ${JSON.stringify(report.authorizations.at(-1).scope)}: ${got}`;
  });

  await run.step('tools/list after step-up', async () => {
    const { tools } = await client.listTools({}, opts);
    const names = tools.map((t) => t.name);
    check(names.includes(stepUpTool), `${stepUpTool} still hidden after the step-up: ${names.join(', ')}`);
    return `${names.length} tools`;
  });

  await run.step('close (DELETE)', async () => {
    await transport.terminateSession();
    await client.close();
  });
}

run.finish();
