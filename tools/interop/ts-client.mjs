// Interop check: the official MCP TypeScript SDK client (@modelcontextprotocol/sdk, pinned in
// package.json) drives a scripted session against a running mcpmesh over Streamable HTTP.
//
// Usage: node ts-client.mjs <mcp-url> [versions]
//   versions: comma-separated runs; "default" lets the SDK send its own latest protocol
//   version, anything else (e.g. 2025-03-26) is sent as the initialize request's
//   protocolVersion instead. Default: default,2025-06-18,2025-03-26.
//
// Each run covers: initialize, ping, tools (list, call echo and add), resources (list, read
// test://static-text), prompts (list, get greet with arguments), sampling and elicitation
// round trips (the everything tools "sample" and "elicit" make the mesh ask this client), a
// resource subscription (subscribe to test://watched-resource, call touch-resource until
// notifications/resources/updated arrives on the client's GET stream, read, unsubscribe),
// and the end of the session (HTTP DELETE).
//
// Prints one JSON report on stdout: {ok, sdkVersion, nodeVersion, runs: [{requested,
// protocolVersion, sessionId, steps: [{name, ok, detail}], http: [{method, status}],
// transportErrors: [{during, error}]}]}.
// Exits 0 only if every step of every run passed; 1 on a failed step or the overall
// timeout; 2 on bad usage. Failures are also described on stderr.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

import { check, newReport, text } from './report.mjs';

const REQUEST_TIMEOUT_MS = 10_000;
const UPDATE_DEADLINE_MS = 10_000;
const WATCHED_URI = 'test://watched-resource';
const STATIC_URI = 'test://static-text';
const SAMPLED_ANSWER = 'four, says the TypeScript client';

const [url, versionsArg = 'default,2025-06-18,2025-03-26'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node ts-client.mjs <mcp-url> [default,2025-06-18,...]');
  process.exit(2);
}

const { report, finish } = newReport('ts-client', '@modelcontextprotocol/sdk', url, { runs: [] });

// listAll follows nextCursor through every page of a list method.
async function listAll(list, key) {
  const items = [];
  let cursor;
  for (let page = 0; page < 100; page++) {
    const res = await list(cursor === undefined ? {} : { cursor }, { timeout: REQUEST_TIMEOUT_MS });
    items.push(...res[key]);
    cursor = res.nextCursor;
    if (!cursor) return items;
  }
  throw new Error(`${key}: more than 100 pages`);
}

async function runOnce(requested) {
  const run = { requested, protocolVersion: null, sessionId: null, steps: [], http: [], transportErrors: [] };
  report.runs.push(run);
  const opts = { timeout: REQUEST_TIMEOUT_MS };

  // Every HTTP exchange (method and status) goes into the report: the GET stream and the
  // final DELETE are checked from it.
  const recordingFetch = async (input, init) => {
    const method = init?.method ?? 'GET';
    const entry = { method, status: null };
    run.http.push(entry);
    try {
      const res = await fetch(input, init);
      entry.status = res.status;
      entry.contentType = res.headers.get('content-type');
      return res;
    } catch (err) {
      entry.error = String(err?.message ?? err);
      throw err;
    }
  };
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: recordingFetch,
    // One reconnection attempt at most, quickly: the check must not hang on retries.
    reconnectionOptions: { initialReconnectionDelay: 200, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1.5, maxRetries: 1 },
  });
  if (requested !== 'default') {
    // SDK 1.32.2 has no option for the initialize request's protocolVersion (it always
    // sends LATEST_PROTOCOL_VERSION); rewrite that one message on its way out. The SDK
    // accepts any version in SUPPORTED_PROTOCOL_VERSIONS that the server answers with.
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      if (message.method === 'initialize') {
        message = { ...message, params: { ...message.params, protocolVersion: requested } };
      }
      return send(message, options);
    };
  }

  const client = new Client(
    { name: 'mcpmesh-interop-ts', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: { form: {} } } },
  );
  // Errors the SDK reports outside a request (SSE streams breaking, unparsable messages),
  // with the step that was running.
  let current = 'connect';
  client.onerror = (err) => run.transportErrors.push({ during: current, error: String(err?.message ?? err) });

  const sampled = [];
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
    sampled.push(req.params.messages.map((m) => m.content?.text ?? '').join(' '));
    return { role: 'assistant', model: 'ts-test-model', content: { type: 'text', text: SAMPLED_ANSWER } };
  });
  const elicited = [];
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    elicited.push(req.params.message);
    return { action: 'accept', content: { username: 'ada', email: 'ada@example.com' } };
  });
  const updates = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updates.push(n.params.uri);
  });

  // Steps are independent once the session is up: a failure does not stop the others.
  let failed = false;
  let connected = false;
  const step = async (name, fn) => {
    if (!connected && name !== 'initialize') {
      run.steps.push({ name, ok: false, detail: 'skipped: no session' });
      return;
    }
    current = name;
    try {
      const detail = await fn();
      run.steps.push({ name, ok: true, detail: detail ?? '' });
    } catch (err) {
      failed = true;
      const detail = String(err?.stack ?? err);
      run.steps.push({ name, ok: false, detail });
      console.error(`ts-client [${requested}] ${name}: ${detail}`);
    }
  };
  const callText = async (name, args) => {
    const res = await client.callTool({ name, arguments: args }, undefined, opts);
    check(!res.isError, `${name} returned an error result: ${JSON.stringify(res)}`);
    return { res, text: text(res.content) };
  };

  await step('initialize', async () => {
    await client.connect(transport, opts);
    connected = true;
    run.protocolVersion = transport.protocolVersion ?? null;
    run.sessionId = transport.sessionId ?? null;
    const caps = client.getServerCapabilities() ?? {};
    check(run.sessionId, 'no Mcp-Session-Id: the session is not stateful');
    check(caps.tools && caps.resources?.subscribe && caps.prompts, `capabilities ${JSON.stringify(caps)} lack tools, resource subscriptions or prompts`);
    if (requested !== 'default') {
      check(run.protocolVersion === requested, `negotiated ${run.protocolVersion}, asked for ${requested}`);
    }
    return `protocol ${run.protocolVersion}, server ${JSON.stringify(client.getServerVersion())}`;
  });

  await step('ping', async () => {
    await client.ping(opts);
  });

  await step('tools/list', async () => {
    const names = (await listAll((p, o) => client.listTools(p, o), 'tools')).map((t) => t.name);
    for (const want of ['echo', 'add', 'sample', 'elicit', 'touch-resource']) {
      check(names.includes(want), `tool ${want} missing from ${names.join(', ')}`);
    }
    return `${names.length} tools`;
  });

  await step('tools/call echo', async () => {
    const { text: got } = await callText('echo', { message: 'hello from TypeScript' });
    check(got === 'Echo: hello from TypeScript', `echo returned ${JSON.stringify(got)}`);
    return got;
  });

  await step('tools/call add', async () => {
    // The SDK checks structuredContent against the outputSchema cached by tools/list.
    // 2025-03-26 has no structuredContent: the sum then travels as JSON text only.
    const { res, text: got } = await callText('add', { a: 2, b: 3.5 });
    if (run.protocolVersion === '2025-03-26') {
      check(res.structuredContent === undefined && JSON.parse(got).sum === 5.5, `add returned ${JSON.stringify(res)}`);
      return `sum ${got} (text only)`;
    }
    check(res.structuredContent?.sum === 5.5, `add returned ${JSON.stringify(res)}`);
    return `sum ${res.structuredContent.sum} (structured)`;
  });

  await step('resources/list', async () => {
    const uris = (await listAll((p, o) => client.listResources(p, o), 'resources')).map((r) => r.uri);
    check(uris.includes(STATIC_URI) && uris.includes(WATCHED_URI), `resources ${uris.join(', ')} lack ${STATIC_URI} or ${WATCHED_URI}`);
    return `${uris.length} resources`;
  });

  await step('resources/read', async () => {
    const res = await client.readResource({ uri: STATIC_URI }, opts);
    const got = res.contents?.[0];
    check(got?.uri === STATIC_URI && got?.text === 'This is the content of the static text resource.', `read returned ${JSON.stringify(res)}`);
    return got.text;
  });

  await step('prompts/list', async () => {
    const prompts = await listAll((p, o) => client.listPrompts(p, o), 'prompts');
    const greet = prompts.find((p) => p.name === 'greet');
    check(greet, `prompt greet missing from ${prompts.map((p) => p.name).join(', ')}`);
    const args = (greet.arguments ?? []).map((a) => `${a.name}${a.required ? '*' : ''}`);
    check(args.includes('name*') && args.includes('style'), `greet arguments ${JSON.stringify(greet.arguments)}`);
    return `${prompts.length} prompts; greet(${args.join(', ')})`;
  });

  await step('prompts/get', async () => {
    const res = await client.getPrompt({ name: 'greet', arguments: { name: 'Ada', style: 'pirate' } }, opts);
    const got = res.messages?.[0];
    check(got?.role === 'user' && got?.content?.text === 'Write a pirate greeting for Ada.', `greet returned ${JSON.stringify(res)}`);
    return got.content.text;
  });

  await step('sampling', async () => {
    const { text: got } = await callText('sample', { prompt: 'What is 2+2?' });
    check(sampled.length > 0, 'the sampling/createMessage handler was never called');
    check(sampled.some((s) => s.includes('What is 2+2?')), `the handler saw ${JSON.stringify(sampled)}, not the prompt`);
    check(got.includes(SAMPLED_ANSWER), `sample returned ${JSON.stringify(got)}`);
    return got;
  });

  await step('elicitation', async () => {
    const { text: got } = await callText('elicit', { message: 'Who are you?' });
    check(elicited.includes('Who are you?'), `the elicitation/create handler saw ${JSON.stringify(elicited)}`);
    check(got.includes('action=accept') && got.includes('ada'), `elicit returned ${JSON.stringify(got)}`);
    return got;
  });

  await step('resources/subscribe and updated', async () => {
    await client.subscribeResource({ uri: WATCHED_URI }, opts);
    // The GET stream opens asynchronously after notifications/initialized, so the first
    // touches may change the resource before the stream listens: touch until an update
    // for the watched resource arrives or the deadline passes.
    const deadline = Date.now() + UPDATE_DEADLINE_MS;
    let touches = 0;
    while (!updates.includes(WATCHED_URI)) {
      check(Date.now() < deadline, `no notifications/resources/updated within ${UPDATE_DEADLINE_MS} ms (${touches} touches; updates ${JSON.stringify(updates)})`);
      await callText('touch-resource', {});
      touches++;
      for (let i = 0; i < 10 && !updates.includes(WATCHED_URI); i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    const foreign = updates.filter((u) => u !== WATCHED_URI);
    check(foreign.length === 0, `updates for resources not subscribed to: ${foreign.join(', ')}`);
    const get = run.http.find((h) => h.method === 'GET');
    check(get?.status === 200 && get.contentType?.startsWith('text/event-stream'), `the GET stream was not opened: ${JSON.stringify(get)}`);
    const read = await client.readResource({ uri: WATCHED_URI }, opts);
    check(read.contents?.[0]?.text?.includes('revision'), `read after the update returned ${JSON.stringify(read)}`);
    await client.unsubscribeResource({ uri: WATCHED_URI }, opts);
    return `updated after ${touches} touch(es); now ${JSON.stringify(read.contents[0].text)}`;
  });

  // The session ends with DELETE whatever happened before, if it started.
  connected = true;
  await step('close (DELETE)', async () => {
    check(transport.sessionId, 'no session to end');
    await transport.terminateSession();
    const del = run.http.filter((h) => h.method === 'DELETE');
    check(del.length === 1 && del[0].status >= 200 && del[0].status < 300, `DELETE answered ${JSON.stringify(del)}`);
    await client.close();
    return `DELETE ${del[0].status}`;
  });

  // Closing aborts the client's own GET stream, which the SDK reports through onerror as
  // "SSE stream disconnected: AbortError"; any other error means a stream broke.
  const unexpected = run.transportErrors.filter((e) => !(e.during === 'close (DELETE)' && e.error.includes('AbortError')));
  run.steps.push({ name: 'no stream errors', ok: unexpected.length === 0, detail: JSON.stringify(unexpected) });
  if (unexpected.length > 0) {
    console.error(`ts-client [${requested}] stream errors: ${JSON.stringify(unexpected)}`);
    failed = true;
  }
  return !failed;
}

let ok = true;
for (const requested of versionsArg.split(',').map((v) => v.trim()).filter(Boolean)) {
  ok = (await runOnce(requested)) && ok;
}
finish(ok);
