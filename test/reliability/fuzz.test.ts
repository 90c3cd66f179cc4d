// Property-based fuzzing of every endpoint: whatever bytes arrive, the answer is a 2xx or a
// documented 4xx in the owning API's error shape, never a 5xx, never a hang, never a non-JSON error,
// and no request reaches a shared prototype. `npm test` runs MOCKLLM_FUZZ_RUNS (default 40) cases
// per property; `npm run fuzz` runs 2,000.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import fc from 'fast-check';
import { PROVIDERS } from '../../src/providers/index.ts';
import { parsePrometheus } from '../admin/support.ts';
import { parseSse, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  assertErrorShape,
  assertPrototypesUntouched,
  FUZZ_RUNS,
  jsonOf,
  prototypeSnapshot,
  rawRequest,
  startCliChild,
  type ErrorFamily,
  type RawResponse,
} from './support.ts';

const ADMIN_TOKEN = 'fuzz-admin-token-3f9a';

// Rules of every answer kind a request can reach, except deliberate 5xx (faults, 500 errors).
const CONFIG = `responses:
  "hi": "Hello! 👋🏽 café — 漢字 e\u0301"
rules:
  - id: echo
    match: {contains: "echo"}
    response: {text: "You said: {{prompt}} ({{model}}, {{provider}})", chunking: word}
  - id: tokens
    match: {contains: "tokens"}
    response: {text: "Token by token: naïve café, 東京, 👋🏽.", chunking: token}
  - id: words
    match: {regex: "^w[a-z]* [a-z ]+$"}
    response: {text: "Several words, streamed one by one.", chunking: word}
  - id: weather
    match: {contains: "weather"}
    response:
      text: "Let me look."
      tool_calls:
        - name: get_weather
          arguments: {city: "Paris", days: [1, 2]}
  - id: limited
    match: {contains: "ratelimit"}
    response: {error: {status: 429, retry_after: 0.01}}
  - id: again
    match: {contains: "again"}
    response: {sequence: ["first", {text: "second", chunking: whole}], then: loop}
  - id: system-aware
    match: {on: system, contains: "pirate"}
    response: "Arr."
defaults:
  unknown_response: "Nothing matched."
`;

/** Every provider route the server has right now (new endpoints are fuzzed as they land). */
const ROUTES = PROVIDERS.flatMap((provider) => provider.routes.map((route) => ({ provider: provider.name as ErrorFamily, method: route.method, path: route.path })));
const ADMIN_PATHS = ['/admin/responses', '/admin/reset', '/admin/requests', '/admin/sequences', '/admin/sequences/reset'];
const OPS_PATHS = ['/healthz', '/readyz', '/metrics'];

// Statuses the README documents; anything else is a finding.
const DOCUMENTED: Record<ErrorFamily, ReadonlySet<number>> = {
  openai: new Set([400, 404, 413, 429]),
  anthropic: new Set([400, 404, 413, 429]),
  gemini: new Set([400, 404, 413, 429]),
  admin: new Set([400, 401, 404, 405, 409, 413]),
};

const routePattern = (template: string) => new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+?')}$`);

// Paths only Google's APIs use (docs/endpoints.md, Google Gemini and Vertex AI).
const GOOGLE_PATH = /^\/(?:v1beta1?|v1alpha)\/|^\/v1\/(?:projects|publishers)\/|^\/v1\/models\/[^/]+:(?:generateContent|streamGenerateContent|countTokens|embedContent|batchEmbedContents)$/;

/** Which API's error shape a request to this path gets. */
function familyOf(path: string, headers: Record<string, string>, method?: string): ErrorFamily {
  const pathname = path.split('?')[0]!;
  if (pathname === '/admin' || pathname.startsWith('/admin/')) return 'admin';
  // A route only one provider serves with this method is that provider's (POST
  // /v1/models/{model}:generateContent is Gemini's, though three providers GET /v1/models/{id}).
  const lookup = method === 'HEAD' ? 'GET' : method;
  const serving = new Set(ROUTES.filter((r) => r.method === lookup && routePattern(r.path).test(pathname)).map((r) => r.provider));
  if (serving.size === 1) return [...serving][0]!;
  // A path one provider serves is that provider's, whatever the method; a path several serve
  // (GET /v1/models) and an unknown path go by the headers, as the providers' `claims` say.
  const owners = new Set(ROUTES.filter((r) => routePattern(r.path).test(pathname)).map((r) => r.provider));
  if (owners.size === 1) return [...owners][0]!;
  // A path under a first segment only one provider uses (/openai/… Azure, /model/… Bedrock,
  // /api/… Ollama) is that provider's, even where no route matches it.
  const firstSegment = (p: string) => p.split('/')[1] ?? '';
  const byPrefix = new Set(ROUTES.filter((r) => firstSegment(r.path) === firstSegment(pathname)).map((r) => r.provider));
  if (owners.size === 0 && byPrefix.size === 1) return [...byPrefix][0]!;
  // A path that names a provider is its own whatever the headers say; then the headers decide.
  const geminiMayOwn = owners.size === 0 || owners.has('gemini');
  if (pathname.startsWith('/v1/messages')) return 'anthropic';
  if (GOOGLE_PATH.test(pathname) && geminiMayOwn) return 'gemini';
  const header = (wanted: string) => Object.entries(headers).find(([name]) => name.toLowerCase() === wanted)?.[1];
  const version = header('anthropic-version');
  if (version !== undefined && version !== '') return 'anthropic';
  const google = header('x-goog-api-key') !== undefined || /[?&]key=/.test(path);
  return google && geminiMayOwn ? 'gemini' : 'openai';
}

// --- JSON trees that can say what JSON.stringify cannot: duplicate keys, own __proto__ keys, raw text.

class Obj {
  readonly entries: [string, Tree][];
  constructor(entries: [string, Tree][]) {
    this.entries = entries;
  }
}
class Raw {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}
type Tree = null | boolean | number | string | Tree[] | Obj | Raw;

function toTree(value: unknown): Tree {
  if (Array.isArray(value)) return value.map(toTree);
  if (value !== null && typeof value === 'object') return new Obj(Object.entries(value).map(([k, v]) => [k, toTree(v)]));
  return value as Tree;
}

function serialize(tree: Tree): string {
  if (tree instanceof Raw) return tree.text;
  if (tree instanceof Obj) return `{${tree.entries.map(([k, v]) => `${JSON.stringify(k)}:${serialize(v)}`).join(',')}}`;
  if (Array.isArray(tree)) return `[${tree.map(serialize).join(',')}]`;
  return JSON.stringify(tree) ?? 'null';
}

function clone(tree: Tree): Tree {
  if (tree instanceof Obj) return new Obj(tree.entries.map(([k, v]) => [k, clone(v)]));
  if (Array.isArray(tree)) return tree.map(clone);
  return tree;
}

/** Every position in a tree: its container and where in it. */
interface Slot {
  container: Obj | Tree[];
  index: number;
}

function slotsOf(tree: Tree, out: Slot[] = []): Slot[] {
  if (tree instanceof Obj) tree.entries.forEach(([, v], index) => (out.push({ container: tree, index }), slotsOf(v, out)));
  else if (Array.isArray(tree)) tree.forEach((v, index) => (out.push({ container: tree, index }), slotsOf(v, out)));
  return out;
}

function objectsOf(tree: Tree): Obj[] {
  const found: Obj[] = tree instanceof Obj ? [tree] : [];
  for (const { container, index } of slotsOf(tree)) {
    const value = container instanceof Obj ? container.entries[index]![1] : container[index]!;
    if (value instanceof Obj) found.push(value);
  }
  return found;
}

interface Mutation {
  op: 'replace' | 'delete' | 'add' | 'duplicate';
  at: number;
  key: string;
  value: Tree;
}

function mutate(template: Tree, mutations: readonly Mutation[]): Tree {
  const tree = clone(template);
  for (const original of mutations) {
    // Generated values can be shared instances (constants): inserting one twice, or inside itself,
    // would make a cycle, and mutating it would change later cases.
    const m = { ...original, value: clone(original.value) };
    const slots = slotsOf(tree);
    if (m.op === 'add') {
      const objects = objectsOf(tree);
      objects[m.at % objects.length]!.entries.push([m.key, m.value]);
      continue;
    }
    if (slots.length === 0) continue;
    const { container, index } = slots[m.at % slots.length]!;
    if (container instanceof Obj) {
      const key = container.entries[index]![0];
      if (m.op === 'replace') container.entries[index] = [key, m.value];
      else if (m.op === 'delete') container.entries.splice(index, 1);
      else container.entries.push([key, m.value]); // the same key again, later in the object
    } else if (m.op === 'replace') container[index] = m.value;
    else if (m.op === 'delete') container.splice(index, 1);
    else container.push(m.value);
  }
  return tree;
}

// --- arbitraries ------------------------------------------------------------------------------

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

const deepArrays = (n: number) => new Raw('['.repeat(n) + ']'.repeat(n));
const deepObjects = (n: number) => new Raw('{"a":'.repeat(n) + '1' + '}'.repeat(n));

const weirdValue: fc.Arbitrary<Tree> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(toTree) },
  { weight: 3, arbitrary: fc.constantFrom<Tree>(null, true, false, 0, -1, 1.5, 1e308, -1e-308, 2 ** 53 + 1, '', [], new Obj([]), 'user', 'assistant', 'tool', 'system', 'text', 'image') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 10_000, max: 1_000_000 }), fc.constantFrom('x', 'é', '👋🏽', 'a ')).map(([n, s]) => s.repeat(Math.ceil(n / s.length))) },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 30_000 }).chain((n) => fc.constantFrom(deepArrays(n), deepObjects(n))) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      new Raw('{"__proto__":{"polluted":true,"isAdmin":true}}'),
      new Raw('{"constructor":{"prototype":{"polluted":true}}}'),
      new Raw('{"__proto__":null}'),
      new Raw('[{"__proto__":[]}]'),
    ),
  },
);

const mutations = fc.array(
  fc.record({
    op: fc.constantFrom<Mutation['op']>('replace', 'delete', 'add', 'duplicate'),
    at: fc.nat(),
    key: fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 12 })),
    value: weirdValue,
  }),
  { minLength: 0, maxLength: 3 },
);

const prompt = fc.oneof(
  fc.constantFrom('hi', 'echo this back', 'weather in Paris?', 'ratelimit me', 'again', 'wow many words here', 'pirate', 'tokens please'),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.tuple(fc.constantFrom('echo ', 'weather ', 'again ', 'tokens '), fc.string({ unit: 'grapheme', maxLength: 30 })).map(([a, b]) => a + b),
);

function providerTemplate(path: string, text: string, stream: boolean): Tree {
  if (path === '/v1/chat/completions') {
    return toTree({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief, pirate.' },
        { role: 'user', content: text },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'sunny' }] },
        { role: 'user', content: [{ type: 'text', text }] },
      ],
      stream,
      stream_options: stream ? { include_usage: true } : null,
      n: 1,
      max_tokens: 64,
      temperature: 0.5,
      stop: ['\n\n'],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    });
  }
  if (path === '/v1/messages') {
    return toTree({
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      system: [{ type: 'text', text: 'Be brief, pirate.' }],
      messages: [
        { role: 'user', content: text },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }, { type: 'text', text }] },
      ],
      stream,
      temperature: 0.5,
      tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
  }
  if (path === '/v1/messages/count_tokens') {
    return toTree({
      model: 'claude-sonnet-4-5',
      system: 'Be brief, pirate.',
      messages: [{ role: 'user', content: [{ type: 'text', text }] }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
  }
  if (path === '/v1/responses') {
    return toTree({
      model: 'gpt-4.1',
      instructions: 'Be brief, pirate.',
      input: [
        { role: 'user', content: text },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
      ],
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
      max_output_tokens: 64,
      temperature: 0.5,
      store: false,
      stream,
    });
  }
  if (path === '/v1/completions') {
    return toTree({ model: 'gpt-3.5-turbo-instruct', prompt: [text, 'hi'], max_tokens: 16, n: 1, echo: false, stream, stream_options: stream ? { include_usage: true } : null });
  }
  if (path === '/v1/embeddings') {
    return toTree({ model: 'text-embedding-3-small', input: [text, 'hi'], encoding_format: 'float', dimensions: 8 });
  }
  // Routes added after this test was written: a body in the shape most OpenAI endpoints take.
  return toTree({ model: 'gpt-4o-mini', input: text, stream });
}

/** How a complete stream ends, per route (routes not listed: any well-formed SSE). */
const STREAM_END: Record<string, (frame: { event?: string; data: string }) => boolean> = {
  '/v1/chat/completions': (f) => f.data === '[DONE]',
  '/v1/completions': (f) => f.data === '[DONE]',
  '/v1/messages': (f) => f.event === 'message_stop',
  '/v1/responses': (f) => f.event === 'response.completed',
};

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16le',
  'application/json; charset=bogus',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/vnd.api+json',
  '*/*',
  'garbage',
];

type Encoding = 'none' | 'gzip' | 'deflate' | 'br' | 'gzip-corrupt' | 'br-corrupt' | 'identity' | 'compress';

interface BodyCase {
  kind: 'tree' | 'tree-invalid-utf8' | 'bytes' | 'text' | 'truncated' | 'empty';
  tree?: Tree;
  bytes?: Uint8Array;
  text?: string;
  cut?: number;
  invalid?: number[];
  at?: number;
}

const INVALID_UTF8 = [[0xff], [0xfe, 0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xf0, 0x9f, 0x98]];

function bodyCase(templates: fc.Arbitrary<Tree>): fc.Arbitrary<BodyCase> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.tuple(templates, mutations).map(([t, m]) => ({ kind: 'tree' as const, tree: mutate(t, m) })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(templates, fc.constantFrom(...INVALID_UTF8), fc.nat())
        .map(([t, invalid, at]) => ({ kind: 'tree-invalid-utf8' as const, tree: t, invalid, at })),
    },
    { weight: 1, arbitrary: fc.tuple(templates, fc.nat()).map(([t, cut]) => ({ kind: 'truncated' as const, tree: t, cut })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ kind: 'bytes' as const, bytes })) },
    {
      weight: 1,
      arbitrary: fc
        .oneof(fc.string({ maxLength: 100 }), fc.constantFrom('null', 'true', '123', '"str"', '[]', '{}', ' ', '\n', 'a=1&b=2', '{"a":1}{"b":2}', '\ufeff{}', '{"a":1,}'))
        .map((text) => ({ kind: 'text' as const, text })),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const }) },
  );
}

function bodyBytes(c: BodyCase): Buffer {
  switch (c.kind) {
    case 'tree':
      return Buffer.from(serialize(c.tree!));
    case 'tree-invalid-utf8': {
      // Invalid bytes inside a JSON string: after an opening quote.
      const text = Buffer.from(serialize(c.tree!));
      const quotes = [...text.keys()].filter((i) => text[i] === 0x22);
      const at = quotes.length > 0 ? quotes[c.at! % quotes.length]! + 1 : 0;
      return Buffer.concat([text.subarray(0, at), Buffer.from(c.invalid!), text.subarray(at)]);
    }
    case 'truncated': {
      const text = Buffer.from(serialize(c.tree!));
      return text.subarray(0, c.cut! % Math.max(text.length, 1));
    }
    case 'bytes':
      return Buffer.from(c.bytes!);
    case 'text':
      return Buffer.from(c.text!);
    case 'empty':
      return Buffer.alloc(0);
  }
}

function encode(body: Buffer, encoding: Encoding): { body: Buffer; header?: string } {
  switch (encoding) {
    case 'none':
      return { body };
    case 'gzip':
      return { body: gzipSync(body), header: 'gzip' };
    case 'deflate':
      return { body: deflateSync(body), header: 'deflate' };
    case 'br':
      return { body: brotliCompressSync(body), header: 'br' };
    case 'gzip-corrupt':
      return { body: Buffer.concat([gzipSync(body).subarray(0, 12), Buffer.from('not gzip')]), header: 'gzip' };
    case 'br-corrupt':
      return { body: Buffer.from('definitely not brotli'), header: 'br' };
    case 'identity':
      return { body, header: 'identity' };
    case 'compress':
      return { body, header: 'compress' };
  }
}

const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,60}$/);

const extraHeaders = fc
  .tuple(
    fc.record(
      {
        'content-type': fc.constantFrom(...CONTENT_TYPES),
        'anthropic-version': fc.constantFrom('2023-06-01', '2026-10-21', 'bogus'),
        'x-request-id': fc.oneof(headerValue, fc.constant('r'.repeat(500))),
        authorization: fc.oneof(headerValue.map((v) => `Bearer ${v}`), headerValue),
        'x-api-key': headerValue,
        accept: fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/html'),
        origin: fc.constantFrom('https://app.example', 'null', 'http://evil.example'),
      },
      { requiredKeys: [] },
    ),
    fc.subarray(['__proto__', 'constructor', 'hasOwnProperty', 'toString']),
    headerValue,
  )
  .map(([headers, protoNames, value]) => {
    const out: Record<string, string> = { ...headers };
    // Own properties named like Object.prototype's: a plain assignment of __proto__ would set the prototype instead.
    for (const name of protoNames) Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    return out;
  });

const encodings = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Encoding>('none') },
  { weight: 1, arbitrary: fc.constantFrom<Encoding>('gzip', 'deflate', 'br', 'gzip-corrupt', 'br-corrupt', 'identity', 'compress') },
);

const otherMethod = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');

interface Case {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  describe: string;
}

function buildCase(method: string, path: string, headers: Record<string, string>, body: BodyCase | undefined, encoding: Encoding): Case {
  const finalHeaders = { ...headers };
  let bytes: Buffer | undefined;
  if (body) {
    const encoded = encode(bodyBytes(body), encoding);
    bytes = encoded.body;
    if (encoded.header) finalHeaders['content-encoding'] = encoded.header;
  }
  const shown = bytes ? bytes.subarray(0, 300).toString('utf8') + (bytes.length > 300 ? `… (${bytes.length} bytes)` : '') : '(no body)';
  return { method, path, headers: finalHeaders, body: bytes, describe: `${method} ${path} ${JSON.stringify(finalHeaders)} ${shown}` };
}

// Bugs this file found (an Anthropic tool_result of the wrong type, the Responses API echoing a
// deeply nested field, String(value) in OpenAI error messages, quadratic token chunking of a long
// templated value, HEAD on the ops routes) are fixed, and their tests below are regression tests
// now. Any 5xx or dropped connection fails the run: there is no list of tolerated bugs.

/** The property every answer must have. */
function checkAnswer(c: Case, res: RawResponse, family: ErrorFamily): void {
  const what = c.describe;
  assert.ok(res.status < 500, `${what}\n→ ${res.status} ${res.text.slice(0, 300)}`);
  assert.ok(res.status >= 200, `${what}\n→ ${res.status}`);
  if (c.method === 'HEAD') return;
  if (res.status >= 400) {
    const documented = DOCUMENTED[family] as ReadonlySet<number> | undefined;
    if (!documented) {
      // A provider added since this file learnt the error shapes (its own tests in test/providers
      // check the shape): still never a 5xx, and a body that says it is JSON parses.
      if (/^application\/json\b/.test(res.headers['content-type'] ?? '')) jsonOf(res, what);
      return;
    }
    assert.ok(documented.has(res.status), `${what}\n→ undocumented status ${res.status} for ${family}: ${res.text.slice(0, 300)}`);
    assertErrorShape(family, res, what);
    return;
  }
  if (res.status === 204) {
    assert.equal(res.body.length, 0, what);
    return;
  }
  const type = res.headers['content-type'] ?? '';
  if (type.startsWith('text/event-stream')) {
    // Gemini ends its SSE frames with CRLF pairs (API-FORMATS §11); the frames are the same.
    const frames = parseSse(family === 'gemini' ? res.text.replaceAll('\r\n', '\n') : res.text);
    const last = frames.at(-1)!;
    const ends = STREAM_END[c.path.split('?')[0]!];
    if (ends) assert.ok(ends(last), `${what}: the stream ends with ${JSON.stringify(last).slice(0, 300)}`);
    for (const frame of frames) if (frame.data !== '[DONE]') JSON.parse(frame.data);
  } else if (type.startsWith('text/plain')) {
    parsePrometheus(res.text);
  } else {
    jsonOf(res, what);
  }
}

async function send(server: TestServer, c: Case): Promise<RawResponse> {
  return rawRequest(server.url, { method: c.method, path: c.path, headers: c.headers, body: c.body, deadlineMs: 15_000 });
}

/** Sends a case and checks its answer; a dropped connection fails. */
async function sendAndCheck(server: TestServer, c: Case, family: ErrorFamily): Promise<void> {
  checkAnswer(c, await send(server, c), family);
}

/** Runs one case's checks; a failure carries the server's last error log lines (the stack of a 5xx). */
async function withServerErrors(server: TestServer, c: Case, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (error) {
    // The logs are read only on failure (reading them per case would grow quadratically); the
    // failing case is the last request, so its error lines are at the end.
    const lines = server.logText().split('\n').slice(-40).filter((line) => line.trim() !== '');
    const errors = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => (line.level as number) >= 50).slice(-3);
    const stacks = errors.map((line) => String((line.err as { stack?: string } | undefined)?.stack ?? line.msg).split('\n').slice(0, 4).join(' | '));
    throw new Error(`${(error as Error).message}\nfull body: ${c.body?.toString('utf8').slice(0, 2000)}\nserver errors: ${stacks.join('\n') || 'none'}`, { cause: error });
  }
}

const prototypes = prototypeSnapshot();
const fuzzOptions = { numRuns: FUZZ_RUNS, endOnFailure: true } as const;

const pathParam = fc.oneof(fc.constantFrom('gpt-4o-mini', 'claude-sonnet-4-5', 'no-such-model', '..', '%ff', '%00'), fc.string({ maxLength: 30 }).map(encodeURIComponent));

/** Concrete paths for a route template: each `{name}` parameter is any one segment. */
function concretePath(template: string): fc.Arbitrary<string> {
  if (!template.includes('{')) return fc.constant(template);
  return pathParam.map((value) => template.replace(/\{\w+\}/g, value === '' ? 'x' : value));
}

function providerCases(template: string, method: string): fc.Arbitrary<Case> {
  const templates = fc.tuple(prompt, fc.boolean()).map(([text, stream]) => providerTemplate(template, text, stream));
  return fc
    .record({
      path: concretePath(template),
      method: fc.oneof({ weight: 9, arbitrary: fc.constant(method) }, { weight: 1, arbitrary: otherMethod }),
      suffix: fc.oneof({ weight: 9, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('?x=1', '?stream=true&stream=false', '/', '?%ff=%00') }),
      headers: extraHeaders,
      body: fc.option(bodyCase(templates), { nil: undefined, freq: 12 }),
      encoding: encodings,
    })
    .map((r) => buildCase(r.method, r.path + r.suffix, { 'content-type': 'application/json', ...r.headers }, r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body, r.encoding));
}

for (const strict of [false, true]) {
  describe(`fuzzing the provider endpoints (${strict ? 'strict' : 'lenient'} validation)`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(CONFIG, { strict, adminToken: ADMIN_TOKEN });
    });
    after(async () => {
      await server?.stop();
    });

    for (const route of ROUTES) {
      test(`${route.method} ${route.path}: any body, headers and encoding get a 2xx or a documented 4xx in ${route.provider}'s shape, the journal stays listable and no prototype changes`, async (t) => {
        let cases = 0;
        await fc.assert(
          fc.asyncProperty(providerCases(route.path, route.method), async (c) => withServerErrors(server, c, async () => {
            cases++;
            await sendAndCheck(server, c, familyOf(c.path, c.headers, c.method));
            assertPrototypesUntouched(prototypes);
            // The journal now holds this request: listing it must still work.
            const journal = await rawRequest(server.url, { path: '/admin/requests?limit=1', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
            assert.equal(journal.status, 200, `after ${c.describe}\n/admin/requests → ${journal.status} ${journal.text.slice(0, 200)}`);
            jsonOf(journal, 'the journal');
          })),
          fuzzOptions,
        );
        const health = await rawRequest(server.url, { path: '/healthz' });
        assert.equal(health.status, 200);
        t.diagnostic(`fuzz cases: ${cases}`);
      });
    }
  });
}

describe('every field of a valid request, given each wrong type in turn', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(CONFIG);
  });
  after(async () => {
    await server?.stop();
  });

  const WRONG: Tree[] = [
    null, 0, -1, 3.5, true, '', 'x', [], [null], new Obj([]),
    new Obj([['__proto__', new Obj([['polluted', true]])]]),
    new Obj([['toString', 1], ['valueOf', new Obj([])]]),
    deepArrays(20_000),
  ];
  for (const route of ROUTES.filter((r) => r.method === 'POST')) {
    // Where the template has no stream field, one pass is enough.
    const streams = serialize(providerTemplate(route.path, '', true)).includes('"stream":true') ? [false, true] : [false];
    for (const stream of streams) {
      test(`${route.path} (stream ${stream}): each field replaced by each of ${WRONG.length} wrongly typed values gets a 2xx or a documented 4xx`, async (t) => {
        const template = providerTemplate(route.path, 'weather again', stream);
        const total = slotsOf(template).length;
        let sent = 0;
        // One field at a time, its wrong values sent together.
        for (let at = 0; at < total; at++) {
          await Promise.all(
            WRONG.map(async (value) => {
              const c = buildCase('POST', route.path, { 'content-type': 'application/json' }, { kind: 'tree', tree: mutate(template, [{ op: 'replace', at, key: '', value }]) }, 'none');
              await withServerErrors(server, c, () => sendAndCheck(server, c, route.provider));
              sent++;
            }),
          );
        }
        assertPrototypesUntouched(prototypes);
        t.diagnostic(`requests: ${sent} (${total} fields)`);
      });
    }
  }
});

test(
  'an Anthropic tool_result whose content is a number, boolean, object or holds null gets a 400, not a 500 (found by the fuzzing: textOf() called .filter on it)',
  async () => {
    const server = await startTestServer(CONFIG);
    try {
      for (const content of [3.5, true, {}, [null]]) {
        const res = await rawRequest(server.url, {
          method: 'POST',
          path: '/v1/messages',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'claude-sonnet-4-5',
            max_tokens: 64,
            messages: [
              { role: 'user', content: 'weather?' },
              { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }] },
              { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content }] },
            ],
          }),
        });
        assert.equal(res.status, 400, `content ${JSON.stringify(content)} → ${res.status} ${res.text.slice(0, 200)}`);
        assertErrorShape('anthropic', res, `content ${JSON.stringify(content)}`);
      }
    } finally {
      await server.stop();
    }
  },
);

for (const stream of [false, true]) {
  test(
    `a Responses API request (stream ${stream}) with deeply nested tool parameters or metadata gets a 400 or a complete answer, not a 500 or a dropped connection (found by the fuzzing: the echo of the request overflowed JSON.stringify)`,
    async () => {
      const server = await startTestServer(CONFIG);
      try {
        const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
        for (const field of [`"tools":[{"type":"function","name":"f","parameters":${deep}}]`, `"metadata":${deep}`]) {
          const res = await rawRequest(server.url, {
            method: 'POST',
            path: '/v1/responses',
            headers: { 'content-type': 'application/json' },
            body: `{"model":"gpt-4.1","input":"hi","stream":${stream},${field}}`,
          });
          assert.ok(res.status === 200 || res.status === 400, `${field.slice(0, 20)} → ${res.status} ${res.text.slice(0, 200)}`);
          if (res.status === 400) assertErrorShape('openai', res, field.slice(0, 20));
        }
      } finally {
        await server.stop();
      }
    },
  );
}

test(
  'an OpenAI field given {"toString": 1} or a 20,000-deep array instead of a string gets a 400 naming it, not a 500 (found by the fuzzing: the message quoted it with String())',
  async () => {
    const server = await startTestServer(CONFIG);
    try {
      const values = ['{"toString":1}', '['.repeat(20_000) + ']'.repeat(20_000)];
      const cases: [string, (v: string) => string][] = [
        ['/v1/chat/completions', (v) => `{"model":"gpt-4o-mini","messages":[{"role":${v},"content":"hi"}]}`],
        ['/v1/responses', (v) => `{"model":"gpt-4.1","input":[{"role":${v},"content":"hi"}]}`],
        ['/v1/embeddings', (v) => `{"model":"text-embedding-3-small","input":"hi","encoding_format":${v}}`],
      ];
      for (const [path, body] of cases.filter(([path]) => ROUTES.some((r) => r.path === path))) {
        for (const value of values) {
          const res = await rawRequest(server.url, { method: 'POST', path, headers: { 'content-type': 'application/json' }, body: body(value) });
          assert.equal(res.status, 400, `${path} ${body(value).slice(0, 80)} → ${res.status} ${res.text.slice(0, 200)}`);
          assertErrorShape('openai', res, path);
        }
      }
    } finally {
      await server.stop();
    }
  },
);

test(
  'a rule that echoes the prompt with token chunking answers a prompt holding a 200,000-character run without spaces in seconds, not the minutes quadratic chunking took',
  async () => {
    const child = await startCliChild('rules:\n  - match: {contains: "echo"}\n    response: {text: "You said: {{prompt}}", chunking: token}\n');
    try {
      const res = await rawRequest(child.url, {
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: `echo ${'x'.repeat(200_000)}` }] }),
        // Generous for a loaded machine; quadratic work on this prompt runs for minutes.
        deadlineMs: 15_000,
      });
      assert.equal(res.status, 200);
    } finally {
      await child.stop();
    }
  },
);

describe('fuzzing the admin API', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(CONFIG, { adminToken: ADMIN_TOKEN });
  });
  after(async () => {
    await server?.stop();
  });

  const ruleTemplates = fc.constantFrom<unknown>(
    { prompt: 'what is 2+2?', response: '4' },
    { id: 'fuzz-a', priority: 3, match: { contains: 'x', model: ['gpt-*', 'claude-?'], provider: 'openai', endpoint: '/v1/chat/completions', headers: { 'x-a': 'b' }, on: 'any' }, response: { text: 'hi {{prompt}}', chunking: 'word', latency: { ttft_ms: 0, chunk_delay_ms: 0, jitter_ms: 0, seed: 1 }, usage: { input_tokens: 1, output_tokens: 2 }, finish_reason: 'stop' } },
    { id: 'fuzz-b', match: { regex: '/^a+b$/i', tools: 'get_weather', tool_result: false }, response: { text: 'calling', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, id: 'call_fixed' }] } },
    { match: { prompt: 'q' }, response: { sequence: ['a', { error: { status: 429, retry_after: 1 } }, { text: 'c', stop_reason: 'max_tokens' }], then: 'loop' } },
    { match: { prompt: 'e' }, response: { error: { status: 503, message: 'x', type: 't', code: 'c' } } },
    { match: { contains: 'f' }, response: { text: 'x', fault: { fail_after_chunks: 1, mode: 'disconnect', message: 'gone' } } },
    { match: { tool_result: 'get_weather' }, response: { tool_calls: [{ name: 'f', arguments: '{"a":[1,{"b":null}]}' }] } },
  );
  const ids = fc.oneof(
    fc.constantFrom('fuzz-a', 'fuzz-b', 'missing', '..', '%2e%2e', '%E0%A4%A', '%ff', 'a%00b', encodeURIComponent('🙂')),
    fc.string({ maxLength: 20 }).map(encodeURIComponent),
  );
  const queries = fc.oneof(
    fc.constant(''),
    fc.constantFrom('?limit=1', '?limit=-1', '?limit=1&limit=2', '?limit=99999999999999999999', '?after=abc', '?matched=maybe', '?matched=true', '?provider=openai&provider=x', '?model=%ff', '?endpoint='),
    fc.string({ maxLength: 30 }).map((s) => `?${encodeURIComponent(s)}=${encodeURIComponent(s)}`),
  );
  const adminTarget = fc.oneof(
    fc.constantFrom(
      { method: 'GET', path: '/admin/responses' },
      { method: 'POST', path: '/admin/responses' },
      { method: 'POST', path: '/admin/responses' },
      { method: 'POST', path: '/admin/responses' },
      { method: 'DELETE', path: '/admin/responses' },
      { method: 'POST', path: '/admin/reset' },
      { method: 'DELETE', path: '/admin/requests' },
      { method: 'GET', path: '/admin/sequences' },
      { method: 'POST', path: '/admin/sequences/reset' },
      { method: 'GET', path: '/admin' },
    ),
    fc.tuple(fc.constantFrom('GET', 'PUT', 'PUT', 'DELETE'), ids).map(([method, id]) => ({ method, path: `/admin/responses/${id}` })),
    ids.map((id) => ({ method: 'POST', path: `/admin/sequences/${id}/reset` })),
    queries.map((q) => ({ method: 'GET', path: `/admin/requests${q}` })),
    fc.tuple(otherMethod, fc.constantFrom(...ADMIN_PATHS, '/admin/x', '/admin/responses/a/b'), fc.string({ maxLength: 10 }).map(encodeURIComponent)).map(([method, path, junk]) => ({ method, path: path + junk })),
  );
  const auth = fc.oneof(
    { weight: 8, arbitrary: fc.constant(`Bearer ${ADMIN_TOKEN}`) },
    { weight: 1, arbitrary: fc.constantFrom(`bearer ${ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN} `, `Bearer ${ADMIN_TOKEN.slice(0, -1)}`, 'Bearer', 'Basic Zm9vOmJhcg==', '') },
  );

  test('any method, path, query, body and credentials get a 2xx or a documented 4xx in the admin shape, and the admin listings keep working', async (t) => {
    let cases = 0;
    const arbitrary = fc
      .record({
        target: adminTarget,
        authorization: auth,
        headers: extraHeaders,
        body: fc.option(bodyCase(ruleTemplates.map(toTree)), { nil: undefined, freq: 8 }),
        encoding: encodings,
      })
      .map((r) => {
        const { authorization: _ignored, ...headers } = r.headers;
        const withAuth = r.authorization === '' ? headers : { ...headers, authorization: r.authorization };
        const hasBody = r.target.method !== 'GET' && r.target.method !== 'HEAD';
        return buildCase(r.target.method, r.target.path, withAuth, hasBody ? r.body : undefined, r.encoding);
      });
    await fc.assert(
      fc.asyncProperty(arbitrary, async (c) => {
        cases++;
        await withServerErrors(server, c, () => sendAndCheck(server, c, 'admin'));
        assertPrototypesUntouched(prototypes);
        for (const path of ['/admin/responses', '/admin/requests', '/admin/sequences']) {
          const listing = await rawRequest(server.url, { path, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
          assert.equal(listing.status, 200, `after ${c.describe}\n${path} → ${listing.status} ${listing.text.slice(0, 200)}`);
          jsonOf(listing, path);
        }
      }),
      fuzzOptions,
    );
    t.diagnostic(`fuzz cases: ${cases}`);
  });

  test('after the admin fuzzing, a reset brings back exactly the file rules and they answer', async () => {
    const reset = await rawRequest(server.url, { method: 'POST', path: '/admin/reset', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(reset.status, 204);
    const listing = jsonOf(await rawRequest(server.url, { path: '/admin/responses', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }), 'listing') as { responses: { source: string }[] };
    assert.ok(listing.responses.length > 0 && listing.responses.every((r) => r.source === 'file'));
    const answer = await rawRequest(server.url, {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(answer.status, 200);
    assert.equal((jsonOf(answer, 'answer') as any).choices[0].message.content, 'Hello! 👋🏽 café — 漢字 e\u0301');
  });
});

test(
  'HEAD /healthz, /readyz and /metrics answer as GET does, without a body',
  async () => {
    const server = await startTestServer(CONFIG);
    try {
      for (const path of OPS_PATHS) {
        const get = await rawRequest(server.url, { path });
        const head = await rawRequest(server.url, { method: 'HEAD', path });
        assert.equal(head.status, get.status, `HEAD ${path}`);
        assert.equal(head.body.length, 0);
      }
    } finally {
      await server.stop();
    }
  },
);

describe('fuzzing health, metrics and unknown paths', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(CONFIG);
  });
  after(async () => {
    await server?.stop();
  });

  test('any method, path and headers get 200 from the ops endpoints on GET, else a documented 4xx in the shape of the API that claims the path', async (t) => {
    let cases = 0;
    const path = fc.oneof(
      fc.constantFrom(...OPS_PATHS),
      fc.tuple(fc.constantFrom(...OPS_PATHS), fc.constantFrom('?', '?x=1', '/', '//', '%00', '?%ff', '.json')).map(([p, s]) => p + s),
      fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
      fc.string({ maxLength: 40 }).map((s) => `/v1/${encodeURIComponent(s)}`),
      fc.string({ maxLength: 40 }).map((s) => `/v1/messages${encodeURIComponent(s)}`),
    );
    const arbitrary = fc
      .record({
        method: fc.oneof({ weight: 3, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: otherMethod }),
        path,
        headers: extraHeaders,
        body: fc.option(bodyCase(fc.constant(toTree({ a: 1 }))), { nil: undefined, freq: 2 }),
        encoding: encodings,
      })
      .filter((r) => !(r.path === '/admin' || r.path.startsWith('/admin/')))
      .map((r) => buildCase(r.method, r.path, r.headers, r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body, r.encoding));
    await fc.assert(
      fc.asyncProperty(arbitrary, async (c) => {
        cases++;
        const res = await send(server, c);
        const pathname = c.path.split('?')[0]!;
        if (c.method === 'GET' && OPS_PATHS.includes(pathname)) assert.equal(res.status, 200, `${c.describe} → ${res.status}`);
        checkAnswer(c, res, familyOf(c.path, c.headers, c.method));
        assertPrototypesUntouched(prototypes);
      }),
      fuzzOptions,
    );
    t.diagnostic(`fuzz cases: ${cases}`);
  });
});

describe('regressions: what the fuzzing found and src/ now handles', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(CONFIG, { adminToken: ADMIN_TOKEN });
  });
  after(async () => {
    await server?.stop();
  });
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

  test('a body whose content-encoding does not decompress gets a 400 in the provider shape, and in the admin shape on /admin', async () => {
    for (const [encoding, body] of [['gzip', Buffer.from('not gzip at all')], ['deflate', Buffer.from([0x78, 0x9c, 1, 2])], ['br', Buffer.from('not brotli')], ['gzip', gzipSync(chat).subarray(0, 15)]] as const) {
      const openai = await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body });
      assert.equal(openai.status, 400, `${encoding}: ${openai.text}`);
      assertErrorShape('openai', openai, encoding);
      const anthropic = await rawRequest(server.url, { method: 'POST', path: '/v1/messages', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body });
      assert.equal(anthropic.status, 400, `${encoding}: ${anthropic.text}`);
      assertErrorShape('anthropic', anthropic, encoding);
      const admin = await rawRequest(server.url, { method: 'POST', path: '/admin/responses', headers: { ...auth, 'content-type': 'application/json', 'content-encoding': encoding }, body });
      assert.equal(admin.status, 400, `${encoding}: ${admin.text}`);
      assertErrorShape('admin', admin, encoding);
    }
    // A body that does decompress is answered.
    const ok = await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(chat) });
    assert.equal(ok.status, 200);
  });

  test('a request body nested 20,000 deep is answered and the journal still lists it, with its body omitted', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const res = await rawRequest(server.url, {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"metadata_extra":${deep}}`,
    });
    assert.equal(res.status, 200, res.text.slice(0, 200));
    const journal = await rawRequest(server.url, { path: '/admin/requests', headers: auth });
    assert.equal(journal.status, 200, journal.text.slice(0, 200));
    const entry = (jsonOf(journal, 'journal') as { requests: { request: { body: unknown; bodyOmitted?: unknown } }[] }).requests[0]!;
    assert.equal(entry.request.body, null);
    assert.deepEqual(entry.request.bodyOmitted, { reason: 'nested too deeply to show' });
  });

  test('an admin rule nested 3,000 deep (a sequence, or tool arguments as an object or a JSON string) gets a 400 naming the field, and the listing still works', async () => {
    const deepSequence = '{"sequence":['.repeat(3000) + '"x"' + ']}'.repeat(3000);
    const deepObject = '{"a":'.repeat(3000) + '1' + '}'.repeat(3000);
    const bodies = [
      [`{"prompt":"s","response":${deepSequence}}`, /^response\.sequence\.0\.sequence/],
      [`{"prompt":"t","response":{"tool_calls":[{"name":"f","arguments":${deepObject}}]}}`, /^response\.tool_calls\.0\.arguments\.a\.a/],
      [`{"prompt":"u","response":{"tool_calls":[{"name":"f","arguments":${JSON.stringify(deepObject)}}]}}`, /^response\.tool_calls\.0\.arguments$/],
    ] as const;
    for (const [body, field] of bodies) {
      const res = await rawRequest(server.url, { method: 'POST', path: '/admin/responses', headers: { ...auth, 'content-type': 'application/json' }, body });
      assert.equal(res.status, 400, res.text.slice(0, 300));
      assertErrorShape('admin', res, 'deep rule');
      const error = (JSON.parse(res.text) as { error: { field: string; message: string } }).error;
      assert.match(error.field, field);
      assert.match(error.message, /nested more than 64 levels deep/);
    }
    const listing = await rawRequest(server.url, { path: '/admin/responses', headers: auth });
    assert.equal(listing.status, 200);
  });
});

test('a config file whose tool arguments nest 70 deep (as YAML or as a JSON string) fails to load with a ConfigError naming the path, not a stack overflow', async () => {
  const { parseConfig, ConfigError } = await import('../../src/config/load.ts');
  // js-yaml itself stops at 100 levels; the server's own bound (64) is below it.
  const nested = '{a: '.repeat(70) + '1' + '}'.repeat(70);
  const text = `rules:\n  - match: {contains: deep}\n    response:\n      tool_calls:\n        - name: f\n          arguments: ${nested}\n`;
  assert.throws(() => parseConfig(text, 'deep.yml'), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, /^deep\.yml:\d+: rules\.0\.response\.tool_calls\.0\.arguments(\.a)+ is nested more than 64 levels deep$/);
    return true;
  });
  const asString = `rules:\n  - match: {contains: deep}\n    response:\n      tool_calls:\n        - name: f\n          arguments: ${JSON.stringify('{"a":'.repeat(100) + '1' + '}'.repeat(100))}\n`;
  assert.throws(() => parseConfig(asString, 'deep.yml'), /rules\.0\.response\.tool_calls\.0\.arguments is nested more than 64 levels deep/);
});
