// What the two OAuth interop clients (ts-oauth-client.mjs on the v1 SDK, ts2-oauth-client.mjs
// on the v2 SDK) share and what does not depend on the SDK: the settings from the
// environment, the JSON report, a fetch that records every HTTP exchange, the user's
// browser played by plain HTTP requests against the authorization server's login form,
// and an in-memory OAuth client provider for a pre-registered public client. Both SDK
// generations call the provider through the same methods.
//
// Environment: OAUTH_CLIENT_ID, OAUTH_REDIRECT_URI, OAUTH_USERNAME, OAUTH_PASSWORD,
// STEP_UP_TOOL (a tool the first token may not call; called with {a: 2, b: 3}).
//
// The report: {ok, sdkPackage, sdkVersion, nodeVersion, url, protocolVersion,
// protocolEra, steps: [{name, ok, detail}], http: [{method, url, status, wwwAuthenticate,
// protocolVersion, mcpMethod}], authorizations: [{clientId, scope, resource,
// codeChallengeMethod, redirectUri}], tokens: [{sub, aud, scope, signature}], whoami}.
// The top-level protocolVersion (and protocolEra, v2 only) is what the SDK says it
// negotiated; an http entry's protocolVersion is the MCP-Protocol-Version header the
// client sent and mcpMethod the JSON-RPC method of the body, both only on requests to
// the MCP endpoint; whoami is what the witness provider's tool of that name answered
// (the claims of the mesh's assertion it received).
import { randomBytes } from 'node:crypto';

import { OVERALL_TIMEOUT_MS, check, sdkVersion } from './report.mjs';

export { check, text } from './report.mjs';

// OAuthRun is one run of a client script: its settings, its report and its steps.
export class OAuthRun {
  constructor(scriptName, sdkPackage) {
    this.scriptName = scriptName;
    const [url] = process.argv.slice(2);
    if (!url) {
      console.error(`usage: node ${scriptName} <mcp-url>`);
      process.exit(2);
    }
    this.url = url;
    this.clientId = this.#env('OAUTH_CLIENT_ID');
    this.redirectUri = this.#env('OAUTH_REDIRECT_URI');
    this.username = this.#env('OAUTH_USERNAME');
    this.password = this.#env('OAUTH_PASSWORD');
    this.stepUpTool = this.#env('STEP_UP_TOOL');
    this.report = { ok: false, sdkPackage, sdkVersion: sdkVersion(sdkPackage), nodeVersion: process.version, url, steps: [], http: [], authorizations: [], tokens: [] };
    this.failed = false;
    setTimeout(() => {
      console.error(`${scriptName}: gave up after ${OVERALL_TIMEOUT_MS} ms`);
      this.report.timedOut = true;
      this.finish();
    }, OVERALL_TIMEOUT_MS);
  }

  #env(name) {
    const v = process.env[name];
    if (!v) {
      console.error(`${this.scriptName}: ${name} is not set`);
      process.exit(2);
    }
    return v;
  }

  // finish prints the report and exits: 0 only if every step passed.
  finish() {
    const ok = !this.failed && !this.report.timedOut;
    this.report.ok = ok;
    process.stdout.write(JSON.stringify(this.report) + '\n');
    process.exit(ok ? 0 : 1);
  }

  // step runs fn and records it as a step; a failure is also described on stderr.
  async step(name, fn) {
    try {
      const detail = await fn();
      this.report.steps.push({ name, ok: true, detail: detail ?? '' });
      return true;
    } catch (err) {
      this.failed = true;
      const detail = String(err?.stack ?? err);
      this.report.steps.push({ name, ok: false, detail });
      console.error(`${this.scriptName} ${name}: ${detail}`);
      return false;
    }
  }

  // fetch is the fetch the SDK is given: every HTTP exchange it makes (to the gateway
  // and to the authorization server) goes into the report.
  fetch = async (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const entry = { method: init?.method ?? request?.method ?? 'GET', url: String(request ? request.url : input), status: null };
    if (entry.url === this.url) {
      const headers = new Headers(init?.headers ?? request?.headers);
      const version = headers.get('mcp-protocol-version');
      if (version) entry.protocolVersion = version;
      if (typeof init?.body === 'string') {
        try {
          const body = JSON.parse(init.body);
          entry.mcpMethod = (Array.isArray(body) ? body : [body]).map((m) => m.method ?? '(response)').join(',');
        } catch {
          // Not JSON: nothing to note.
        }
      }
    }
    this.report.http.push(entry);
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

  // browse plays the user's browser from the authorization URL to the redirect to the
  // client: the authorization server's redirect to its login form, the form submitted
  // with the user's credentials, the redirects back. It returns the redirect's query.
  async browse(authorizationUrl) {
    let location = authorizationUrl;
    let res = await fetch(location, { redirect: 'manual' });
    for (let hop = 0; hop < 10; hop++) {
      if (res.status >= 300 && res.status < 400) {
        location = new URL(res.headers.get('location'), location);
        if (location.href.startsWith(this.redirectUri)) {
          const err = location.searchParams.get('error');
          check(!err, `the authorization server refused: ${err} ${location.searchParams.get('error_description') ?? ''}`);
          return location.searchParams;
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
      body.set('username', this.username);
      body.set('password', this.password);
      location = new URL(form[1], location);
      res = await fetch(location, { method: 'POST', body, redirect: 'manual' });
    }
    throw new Error('more than 10 hops from the authorization URL to the redirect URI');
  }

  // provider is the SDK's OAuthClientProvider for the pre-registered public client, kept
  // in memory. Each authorization is "completed" by browse; the redirect's query waits
  // in the pending callback for takeCallback and the transport's finishAuth.
  provider(clientName) {
    const run = this;
    const store = { tokens: undefined, codeVerifier: undefined, clientInformation: { client_id: this.clientId }, state: undefined };
    return {
      get redirectUrl() {
        return run.redirectUri;
      },
      get clientMetadata() {
        return { client_name: clientName, redirect_uris: [run.redirectUri], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' };
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
        // The signature alone, for the test's check that no provider ever receives the token.
        const signature = String(tokens.access_token).split('.')[2];
        run.report.tokens.push({ sub: c.sub, aud: c.aud, scope: c.scope ?? tokens.scope ?? '', signature });
      },
      async redirectToAuthorization(authorizationUrl) {
        const q = authorizationUrl.searchParams;
        run.report.authorizations.push({
          clientId: q.get('client_id'),
          scope: q.get('scope'),
          resource: q.get('resource'),
          codeChallengeMethod: q.get('code_challenge_method'),
          redirectUri: q.get('redirect_uri'),
        });
        const callback = await run.browse(authorizationUrl);
        check(callback.get('code'), 'the redirect to the client carries no code');
        check(callback.get('state') === store.state, `state ${callback.get('state')} came back, ${store.state} was sent`);
        run.pendingCallback = callback;
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
  }

  // takeCallback hands over the query of the last authorization's redirect, once.
  takeCallback() {
    check(this.pendingCallback, 'the SDK asked for authorization but no code came back');
    const callback = this.pendingCallback;
    this.pendingCallback = undefined;
    return callback;
  }
}

// claims reads a JWT's payload (the client does not verify it: the gateway does).
function claims(jwt) {
  const parts = String(jwt).split('.');
  check(parts.length === 3, 'the access token is not a JWT');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}
