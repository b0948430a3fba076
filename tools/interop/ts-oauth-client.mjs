// OAuth interop check: the official MCP TypeScript SDK client (@modelcontextprotocol/sdk,
// pinned in package.json) connects to an mcpmesh that requires OAuth, as a public client
// pre-registered at the authorization server (no dynamic client registration): it gets
// the gateway's 401, finds the authorization server from the RFC 9728 metadata, runs the
// authorization code flow with PKCE, with the RFC 8707 resource, then lists and calls
// tools over Streamable HTTP; a tool that needs a scope the first token lacks is
// answered 403 insufficient_scope and the client steps up (a second authorization for
// the larger scope) and calls it again.
//
// The user's browser is played by plain HTTP requests: redirectToAuthorization follows
// the authorization server's redirects to its login form, fills it in, submits it and
// takes the code from the redirect to the client's redirect URI.
//
// Usage: node ts-oauth-client.mjs <mcp-url>
//   Environment: OAUTH_CLIENT_ID, OAUTH_REDIRECT_URI, OAUTH_USERNAME, OAUTH_PASSWORD,
//   STEP_UP_TOOL (a tool the first token may not call; called with {a: 2, b: 3}).
//
// Prints one JSON report on stdout: {ok, sdkVersion, nodeVersion, steps: [{name, ok,
// detail}], http: [{method, url, status, wwwAuthenticate}], authorizations: [{clientId,
// scope, resource, codeChallengeMethod, redirectUri}], tokens: [{sub, aud, scope}]}.
// Exits 0 only if every step passed; 1 on a failed step or the overall timeout; 2 on
// bad usage. Failures are also described on stderr.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const OVERALL_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

const [url] = process.argv.slice(2);
const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`ts-oauth-client: ${name} is not set`);
    process.exit(2);
  }
  return v;
};
if (!url) {
  console.error('usage: node ts-oauth-client.mjs <mcp-url>');
  process.exit(2);
}
const clientId = env('OAUTH_CLIENT_ID');
const redirectUri = env('OAUTH_REDIRECT_URI');
const username = env('OAUTH_USERNAME');
const password = env('OAUTH_PASSWORD');
const stepUpTool = env('STEP_UP_TOOL');

const sdkVersion = JSON.parse(
  readFileSync(new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url), 'utf8'),
).version;
const report = { ok: false, sdkVersion, nodeVersion: process.version, url, steps: [], http: [], authorizations: [], tokens: [] };

function finish(ok) {
  report.ok = ok;
  process.stdout.write(JSON.stringify(report) + '\n');
  process.exit(ok ? 0 : 1);
}

setTimeout(() => {
  console.error(`ts-oauth-client: gave up after ${OVERALL_TIMEOUT_MS} ms`);
  report.timedOut = true;
  finish(false);
}, OVERALL_TIMEOUT_MS);

function check(cond, message) {
  if (!cond) throw new Error(message);
}

function text(content) {
  return (content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

// claims reads a JWT's payload (the client does not verify it: the gateway does).
function claims(jwt) {
  const parts = String(jwt).split('.');
  check(parts.length === 3, 'the access token is not a JWT');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

// Every HTTP exchange the SDK makes (to the gateway and to the authorization server).
const recordingFetch = async (input, init) => {
  const entry = { method: init?.method ?? 'GET', url: String(input instanceof Request ? input.url : input), status: null };
  report.http.push(entry);
  try {
    const res = await fetch(input, init);
    entry.status = res.status;
    const challenge = res.headers.get('www-authenticate');
    if (challenge) entry.wwwAuthenticate = challenge;
    return res;
  } catch (err) {
    entry.error = String(err?.message ?? err);
    throw err;
  }
};

// browse plays the user's browser from the authorization URL to the redirect carrying
// the code: the authorization server's redirect to its login form, the form submitted
// with the user's credentials, the redirects back to the client.
async function browse(authorizationUrl) {
  let location = authorizationUrl;
  let res = await fetch(location, { redirect: 'manual' });
  for (let hop = 0; hop < 10; hop++) {
    if (res.status >= 300 && res.status < 400) {
      location = new URL(res.headers.get('location'), location);
      if (location.href.startsWith(redirectUri)) {
        const err = location.searchParams.get('error');
        check(!err, `the authorization server refused: ${err} ${location.searchParams.get('error_description') ?? ''}`);
        return { code: location.searchParams.get('code'), state: location.searchParams.get('state') };
      }
      res = await fetch(location, { redirect: 'manual' });
      continue;
    }
    const html = await res.text();
    check(res.status === 200, `${location} answered ${res.status}: ${html.slice(0, 300)}`);
    const form = /<form[^>]*method="POST"[^>]*action="([^"]*)"/i.exec(html);
    check(form, `no login form at ${location}: ${html.slice(0, 300)}`);
    const body = new URLSearchParams();
    for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi)) {
      body.set(m[1], m[2]);
    }
    body.set('username', username);
    body.set('password', password);
    location = new URL(form[1], location);
    res = await fetch(location, { method: 'POST', body, redirect: 'manual' });
  }
  throw new Error('more than 10 hops from the authorization URL to the redirect URI');
}

// provider is the SDK's OAuthClientProvider for a pre-registered public client, kept in
// memory. Each authorization is "completed" by browse; the code waits in pendingCode
// for the caller's transport.finishAuth.
let pendingCode;
const store = { tokens: undefined, codeVerifier: undefined, clientInformation: { client_id: clientId }, state: undefined };
const provider = {
  get redirectUrl() {
    return redirectUri;
  },
  get clientMetadata() {
    return { client_name: 'mcpmesh-interop-ts-oauth', redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  },
  state() {
    store.state = randomBytes(16).toString('base64url');
    return store.state;
  },
  clientInformation() {
    return store.clientInformation;
  },
  saveClientInformation(info) {
    store.clientInformation = info;
  },
  tokens() {
    return store.tokens;
  },
  saveTokens(tokens) {
    store.tokens = tokens;
    const c = claims(tokens.access_token);
    report.tokens.push({ sub: c.sub, aud: c.aud, scope: c.scope ?? tokens.scope ?? '' });
  },
  async redirectToAuthorization(authorizationUrl) {
    const q = authorizationUrl.searchParams;
    report.authorizations.push({
      clientId: q.get('client_id'),
      scope: q.get('scope'),
      resource: q.get('resource'),
      codeChallengeMethod: q.get('code_challenge_method'),
      redirectUri: q.get('redirect_uri'),
    });
    const { code, state } = await browse(authorizationUrl);
    check(code, 'the redirect to the client carries no code');
    check(state === store.state, `state ${state} came back, ${store.state} was sent`);
    pendingCode = code;
  },
  saveCodeVerifier(verifier) {
    store.codeVerifier = verifier;
  },
  codeVerifier() {
    return store.codeVerifier;
  },
  invalidateCredentials(scope) {
    if (scope === 'all' || scope === 'tokens') store.tokens = undefined;
    if (scope === 'all' || scope === 'verifier') store.codeVerifier = undefined;
  },
};

// finishAuthorization hands the code of the last authorization to the transport.
async function finishAuthorization(transport) {
  check(pendingCode, 'the SDK asked for authorization but no code came back');
  const code = pendingCode;
  pendingCode = undefined;
  await transport.finishAuth(code);
}

let failed = false;
let transport;
let client;
const opts = { timeout: REQUEST_TIMEOUT_MS };
const newTransport = () => new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: recordingFetch });

async function step(name, fn) {
  try {
    const detail = await fn();
    report.steps.push({ name, ok: true, detail: detail ?? '' });
    return true;
  } catch (err) {
    failed = true;
    const detail = String(err?.stack ?? err);
    report.steps.push({ name, ok: false, detail });
    console.error(`ts-oauth-client ${name}: ${detail}`);
    return false;
  }
}

const connected = await step('authorize and connect', async () => {
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
  return `protocol ${transport.protocolVersion}, session ${transport.sessionId}`;
});

if (connected) {
  await step('tools/list', async () => {
    const { tools } = await client.listTools({}, opts);
    const names = tools.map((t) => t.name);
    check(names.includes('echo'), `echo missing from ${names.join(', ')}`);
    check(!names.includes(stepUpTool), `${stepUpTool} is listed to a token without its scope`);
    return `${names.length} tools, ${stepUpTool} hidden`;
  });

  await step('tools/call echo', async () => {
    const res = await client.callTool({ name: 'echo', arguments: { message: 'hello with a token' } }, undefined, opts);
    const got = text(res.content);
    check(!res.isError && got === 'Echo: hello with a token', `echo returned ${JSON.stringify(res)}`);
    return got;
  });

  await step('step-up', async () => {
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

  await step('tools/list after step-up', async () => {
    const { tools } = await client.listTools({}, opts);
    const names = tools.map((t) => t.name);
    check(names.includes(stepUpTool), `${stepUpTool} still hidden after the step-up: ${names.join(', ')}`);
    return `${names.length} tools`;
  });

  await step('close (DELETE)', async () => {
    await transport.terminateSession();
    await client.close();
  });
}

finish(!failed);
