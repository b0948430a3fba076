// Interop check on the v2 TypeScript client (@modelcontextprotocol/client, pinned in
// package.json), pinned to 2026-07-28, the stateless generation: the counterpart of
// ts-client.mjs, which drives the v1 SDK over the stateful versions.
//
// Usage: node ts2-client.mjs <mcp-url>
//
// One run: server/discover (versionNegotiation pinned, so no fallback to initialize),
// tools (list, call echo and add), resources (list, read test://static-text), prompts
// (list, get greet with arguments), sampling and elicitation (the everything tools
// "sample" and "elicit" answer input_required, which the SDK fulfils through this
// client's handlers and retries), a resource subscription (subscriptions/listen for
// test://watched-resource, touch-resource until notifications/resources/updated arrives
// on the listen stream, read, close the subscription), and the client's close.
//
// Prints one JSON report on stdout: {ok, sdkVersion, nodeVersion, runs: [{requested,
// protocolVersion, protocolEra, sessionId, steps: [{name, ok, detail}], http: [{method,
// status, protocolVersion, mcpMethod, mcpName}], transportErrors: [{during, error}]}]}, the
// shape of ts-client.mjs's report with one run. Exits 0 only if every step passed; 1 on
// a failed step or the overall timeout; 2 on bad usage. Failures are also described on
// stderr.

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

import { check, newReport, text } from './report.mjs';

const PROTOCOL_VERSION = '2026-07-28';
const REQUEST_TIMEOUT_MS = 10_000;
const UPDATE_DEADLINE_MS = 10_000;
const WATCHED_URI = 'test://watched-resource';
const STATIC_URI = 'test://static-text';
const SAMPLED_ANSWER = 'four, says the TypeScript client';

const [url] = process.argv.slice(2);
if (!url) {
  console.error('usage: node ts2-client.mjs <mcp-url>');
  process.exit(2);
}

const { report, finish } = newReport('ts2-client', '@modelcontextprotocol/client', url, { runs: [] });

const run = { requested: PROTOCOL_VERSION, protocolVersion: null, protocolEra: null, sessionId: null, steps: [], http: [], transportErrors: [] };
report.runs.push(run);
const opts = { timeout: REQUEST_TIMEOUT_MS };

// Every HTTP exchange goes into the report, with the MCP-Protocol-Version and Mcp-Name
// headers and the JSON-RPC method of each POST: the test checks that all of them are
// 2026-07-28, and counts the rounds of the tools that ask for input.
const recordingFetch = async (input, init) => {
  const entry = { method: init?.method ?? 'GET', status: null };
  const headers = new Headers(init?.headers);
  const version = headers.get('mcp-protocol-version');
  if (version) entry.protocolVersion = version;
  const name = headers.get('mcp-name');
  if (name) entry.mcpName = name;
  if (typeof init?.body === 'string') {
    try {
      const body = JSON.parse(init.body);
      entry.mcpMethod = (Array.isArray(body) ? body : [body]).map((m) => m.method ?? '(response)').join(',');
    } catch {
      // Not JSON: nothing to note.
    }
  }
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
const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: recordingFetch });
const client = new Client(
  { name: 'mcpmesh-interop-ts2', version: '1.0.0' },
  { capabilities: { sampling: {}, elicitation: { form: {} } }, versionNegotiation: { mode: { pin: PROTOCOL_VERSION } } },
);
// Errors the SDK reports outside a request, with the step that was running.
let current = 'connect';
client.onerror = (err) => run.transportErrors.push({ during: current, error: String(err?.message ?? err) });

const sampled = [];
client.setRequestHandler('sampling/createMessage', async (req) => {
  sampled.push(req.params.messages.map((m) => m.content?.text ?? '').join(' '));
  return { role: 'assistant', model: 'ts-test-model', content: { type: 'text', text: SAMPLED_ANSWER } };
});
const elicited = [];
client.setRequestHandler('elicitation/create', async (req) => {
  elicited.push(req.params.message);
  return { action: 'accept', content: { username: 'ada', email: 'ada@example.com' } };
});
const updates = [];
client.setNotificationHandler('notifications/resources/updated', (n) => {
  updates.push(n.params.uri);
});

// Steps are independent once connected: a failure does not stop the others.
let failed = false;
let connected = false;
const step = async (name, fn) => {
  if (!connected && name !== 'server/discover') {
    run.steps.push({ name, ok: false, detail: 'skipped: not connected' });
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
    console.error(`ts2-client ${name}: ${detail}`);
  }
};
const callText = async (name, args) => {
  const res = await client.callTool({ name, arguments: args }, opts);
  check(!res.isError, `${name} returned an error result: ${JSON.stringify(res)}`);
  return { res, text: text(res.content) };
};

await step('server/discover', async () => {
  await client.connect(transport, opts);
  connected = true;
  run.protocolVersion = client.getNegotiatedProtocolVersion() ?? null;
  run.protocolEra = client.getProtocolEra() ?? null;
  run.sessionId = transport.sessionId ?? null;
  const caps = client.getServerCapabilities() ?? {};
  check(run.protocolVersion === PROTOCOL_VERSION, `negotiated ${run.protocolVersion}, want ${PROTOCOL_VERSION}`);
  check(run.sessionId === null, `the stateless generation got a session ${run.sessionId}`);
  check(caps.tools && caps.resources?.subscribe && caps.prompts, `capabilities ${JSON.stringify(caps)} lack tools, resource subscriptions or prompts`);
  return `protocol ${run.protocolVersion} (${run.protocolEra} era), server ${JSON.stringify(client.getServerVersion())}`;
});

await step('tools/list', async () => {
  // Without arguments the SDK follows nextCursor through every page.
  const names = (await client.listTools(undefined, opts)).tools.map((t) => t.name);
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
  // The SDK checks structuredContent against the outputSchema of the cached tools/list.
  const { res } = await callText('add', { a: 2, b: 3.5 });
  check(res.structuredContent?.sum === 5.5, `add returned ${JSON.stringify(res)}`);
  return `sum ${res.structuredContent.sum} (structured)`;
});

await step('resources/list', async () => {
  const uris = (await client.listResources(undefined, opts)).resources.map((r) => r.uri);
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
  const { prompts } = await client.listPrompts(undefined, opts);
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
  check(sampled.some((s) => s.includes('What is 2+2?')), `the sampling/createMessage handler saw ${JSON.stringify(sampled)}, not the prompt`);
  check(got.includes(SAMPLED_ANSWER), `sample returned ${JSON.stringify(got)}`);
  return got;
});

await step('elicitation', async () => {
  const { text: got } = await callText('elicit', { message: 'Who are you?' });
  check(elicited.includes('Who are you?'), `the elicitation/create handler saw ${JSON.stringify(elicited)}`);
  check(got.includes('action=accept') && got.includes('ada'), `elicit returned ${JSON.stringify(got)}`);
  return got;
});

await step('subscriptions/listen and updated', async () => {
  const sub = await client.listen({ resourceSubscriptions: [WATCHED_URI] }, opts);
  check(sub.honoredFilter.resourceSubscriptions?.includes(WATCHED_URI), `the server honoured ${JSON.stringify(sub.honoredFilter)}`);
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
  const read = await client.readResource({ uri: WATCHED_URI }, { ...opts, cacheMode: 'refresh' });
  check(read.contents?.[0]?.text?.includes('revision'), `read after the update returned ${JSON.stringify(read)}`);
  await sub.close();
  const ended = await sub.closed;
  check(ended === 'local', `the subscription ended ${ended}, want local`);
  return `updated after ${touches} touch(es); now ${JSON.stringify(read.contents[0].text)}`;
});

connected = true;
await step('close', async () => {
  await client.close();
});

// Closing a subscription aborts its stream; any error outside that means a stream broke.
const unexpected = run.transportErrors.filter((e) => !(['subscriptions/listen and updated', 'close'].includes(e.during) && e.error.includes('AbortError')));
run.steps.push({ name: 'no stream errors', ok: unexpected.length === 0, detail: JSON.stringify(unexpected) });
if (unexpected.length > 0) {
  console.error(`ts2-client stream errors: ${JSON.stringify(unexpected)}`);
  failed = true;
}
finish(!failed);
