// Gemini on the wire, where the clients are lenient or absent: SSE framing with `alt=sse` against
// a JSON array streamed element by element without it, in-stream faults in each framing, Google's
// error body and statuses for bad input (never a 5xx), which provider a path or key belongs to,
// the journal and metrics, and the default config answering its prompts over Gemini.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { load as loadYaml } from 'js-yaml';
import { startTestServer, post, type TestServer } from '../../helpers/server.ts';
import { withDeadline } from '../../helpers/deadline.ts';
import { CONFIG, FAULT_TEXT, MODEL, SKY } from './support.ts';

const PACED = 'Five words arrive slowly.';
const WIRE_CONFIG = CONFIG.replace('defaults:', `  - id: paced
    match: { contains: "pace it" }
    response: { text: ${JSON.stringify(PACED)}, chunking: word, latency: { chunk_delay_ms: 400 } }
  - id: fault-at-once
    match: { contains: "fail at once" }
    response: { text: "never sent", fault: { fail_after_chunks: 0, message: "Failed before the first chunk." } }
defaults:`);

let server: TestServer;
let strictServer: TestServer;

before(async () => {
  server = await startTestServer(WIRE_CONFIG);
  strictServer = await startTestServer(`${CONFIG}settings:\n  strict: true\n`);
});

after(async () => {
  await Promise.all([server?.stop(), strictServer?.stop()]);
});

const generate = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] });
const url = (path: string) => `${server.url}${path}`;

interface Element {
  candidates?: { content?: { parts?: { text?: string; functionCall?: unknown }[]; role?: string }; finishReason?: string; index?: number }[];
  usageMetadata?: { promptTokenCount: number; candidatesTokenCount?: number; totalTokenCount: number };
  modelVersion?: string;
  responseId?: string;
  error?: { code: number; message: string; status: string };
}

/** Gemini's SSE: `data: <one JSON object>` frames, each ended by a blank line, nothing else. */
function sseElements(body: string): Element[] {
  assert.ok(body.endsWith('\r\n\r\n'), `ends with a blank line: ${JSON.stringify(body.slice(-20))}`);
  const frames = body.slice(0, -4).split('\r\n\r\n');
  return frames.map((frame) => {
    assert.ok(frame.startsWith('data: '), `a frame is one data line: ${JSON.stringify(frame.slice(0, 40))}`);
    assert.ok(!frame.includes('\n'), 'one line per frame');
    return JSON.parse(frame.slice(6)) as Element;
  });
}

const textOf = (elements: Element[]) => elements.map((e) => e.candidates?.[0]?.content?.parts?.map((p) => p.text ?? '').join('') ?? '').join('');

describe('streamGenerateContent framing', () => {
  test('with alt=sse: text/event-stream, data-only frames (no event lines, no [DONE]), each a whole response, the last with finishReason and usage', async () => {
    const response = await post(url(`/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`), generate('what colour is the sky?'), { 'x-goog-api-key': 'k' });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const body = await response.text();
    assert.ok(!body.includes('event:') && !body.includes('[DONE]'));
    const elements = sseElements(body);
    assert.ok(elements.length > 3);
    assert.equal(textOf(elements), SKY);
    for (const element of elements) {
      assert.equal(element.modelVersion, MODEL);
      assert.equal(element.responseId, elements[0]!.responseId);
      assert.equal(element.candidates?.[0]?.content?.role, 'model');
      assert.ok(element.usageMetadata!.promptTokenCount > 0);
    }
    const last = elements.at(-1)!;
    assert.equal(last.candidates?.[0]?.finishReason, 'STOP');
    assert.ok(elements.slice(0, -1).every((e) => e.candidates?.[0]?.finishReason === undefined));
    const whole = (await (await post(url(`/v1beta/models/${MODEL}:generateContent`), generate('what colour is the sky?'))).json()) as Element;
    assert.deepEqual(last.usageMetadata, whole.usageMetadata);
  });

  test('without alt: application/json, one JSON array of whole responses', async () => {
    const response = await post(url(`/v1beta/models/${MODEL}:streamGenerateContent`), generate('what colour is the sky?'));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const body = await response.text();
    assert.ok(body.startsWith('[{') && body.endsWith('}]'), body.slice(0, 20));
    const elements = JSON.parse(body) as Element[];
    assert.ok(Array.isArray(elements) && elements.length > 3);
    assert.equal(textOf(elements), SKY);
    assert.equal(elements.at(-1)!.candidates?.[0]?.finishReason, 'STOP');
  });

  test('the JSON array is written element by element: the first element arrives before the array is closed', async () => {
    const response = await post(url(`/v1/models/${MODEL}:streamGenerateContent`), generate('pace it please'));
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = decoder.decode((await withDeadline(reader.read(), 15_000, 'the first bytes')).value);
    assert.ok(first.startsWith('[{"candidates"'), first.slice(0, 40));
    assert.ok(!first.trimEnd().endsWith(']'), `the whole array came at once: ${first}`);
    let rest = '';
    for (;;) {
      const { done, value } = await withDeadline(reader.read(), 15_000, 'the rest');
      if (done) break;
      rest += decoder.decode(value, { stream: true });
    }
    const elements = JSON.parse(first + rest) as Element[];
    assert.equal(textOf(elements), PACED);
  });

  test('a fault mid-stream is an error element: the next SSE frame, or the last array element before the closing bracket', async () => {
    const sse = sseElements(await (await post(url(`/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`), generate('break the stream now'))).text());
    assert.deepEqual(sse.at(-1), { error: { code: 500, message: 'Stream broke on purpose.', status: 'INTERNAL' } });
    assert.equal(textOf(sse.slice(0, -1)), FAULT_TEXT.split(' ').slice(0, 2).join(' '));
    const array = JSON.parse(await (await post(url(`/v1beta/models/${MODEL}:streamGenerateContent`), generate('break the stream now'))).text()) as Element[];
    assert.equal(array.at(-1)!.error?.status, 'INTERNAL');
    assert.equal(textOf(array.slice(0, -1)), FAULT_TEXT.split(' ').slice(0, 2).join(' '));
    const atOnce = await (await post(url(`/v1beta/models/${MODEL}:streamGenerateContent`), generate('fail at once'))).text();
    assert.deepEqual(JSON.parse(atOnce), [{ error: { code: 500, message: 'Failed before the first chunk.', status: 'INTERNAL' } }]);
  });

  test('a fault on a non-stream request is a 500 INTERNAL in Google error shape', async () => {
    const response = await post(url(`/v1beta/models/${MODEL}:generateContent`), generate('break the stream now'));
    assert.equal(response.status, 500);
    assert.deepEqual(await response.json(), { error: { code: 500, message: 'Stream broke on purpose.', status: 'INTERNAL' } });
  });
});

describe('errors in Google shape', () => {
  const badGenerate: [string, unknown][] = [
    ['an empty object', {}],
    ['an array body', []],
    ['contents as a string', { contents: 'hi' }],
    ['empty contents', { contents: [] }],
    ['a content without parts', { contents: [{ role: 'user' }] }],
    ['empty parts', { contents: [{ role: 'user', parts: [] }] }],
    ['an unknown role', { contents: [{ role: 'assistant', parts: [{ text: 'hi' }] }] }],
    ['a part with no data', { contents: [{ parts: [{}] }] }],
    ['a number as text', { contents: [{ parts: [{ text: 42 }] }] }],
    ['a functionCall without a name', { contents: [{ role: 'model', parts: [{ functionCall: { args: {} } }] }] }],
    ['inlineData without data', { contents: [{ parts: [{ inlineData: { mimeType: 'image/png' } }] }] }],
    ['a temperature above 2', { ...generate('hi'), generationConfig: { temperature: 5 } }],
    ['maxOutputTokens as a string', { ...generate('hi'), generationConfig: { maxOutputTokens: 'many' } }],
    ['a responseSchema without a JSON mime type', { ...generate('hi'), generationConfig: { responseSchema: { type: 'OBJECT' } } }],
    ['tools as an object', { ...generate('hi'), tools: { functionDeclarations: [] } }],
    ['a function declaration without a name', { ...generate('hi'), tools: [{ functionDeclarations: [{ description: 'x' }] }] }],
  ];
  for (const [what, body] of badGenerate) {
    test(`generateContent with ${what} is a 400 INVALID_ARGUMENT`, async () => {
      for (const path of [`/v1beta/models/${MODEL}:generateContent`, `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`]) {
        const response = await post(url(path), body);
        assert.equal(response.status, 400, path);
        assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
        const { error } = (await response.json()) as { error: { code: number; message: string; status: string } };
        assert.equal(error.code, 400);
        assert.equal(error.status, 'INVALID_ARGUMENT');
        assert.ok(error.message.length > 10, error.message);
      }
    });
  }

  test('function args nested deeper than JSON.stringify can go are a 400, streamed or not', async () => {
    const depth = 100_000;
    const args = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const body = `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":${args}}}]},{"role":"user","parts":[{"text":"hello"}]}]}`;
    for (const path of [`/v1beta/models/${MODEL}:generateContent`, `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`, `/v1beta/models/${MODEL}:countTokens`]) {
      const response = await post(url(path), body);
      assert.equal(response.status, 400, path);
      assert.deepEqual(await response.json(), { error: { code: 400, message: 'Invalid JSON payload received. Too deep nesting.', status: 'INVALID_ARGUMENT' } });
    }
  });

  test('a body that is not JSON is a 400 INVALID_ARGUMENT with Google words', async () => {
    const response = await post(url(`/v1beta/models/${MODEL}:generateContent`), '{"contents": [', { 'x-goog-api-key': 'k' });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { error: { code: 400, message: 'Invalid JSON payload received. Unexpected token.', status: 'INVALID_ARGUMENT' } });
  });

  test('bad countTokens, embedContent, batchEmbedContents and listing requests are 400s, never 5xx', async () => {
    const cases: [string, unknown][] = [
      [`/v1beta/models/${MODEL}:countTokens`, {}],
      [`/v1beta/models/${MODEL}:countTokens`, { ...generate('hi'), generateContentRequest: { model: `models/${MODEL}`, ...generate('hi') } }],
      [`/v1beta/models/${MODEL}:countTokens`, { generateContentRequest: { contents: [] } }],
      ['/v1beta/models/gemini-embedding-001:embedContent', {}],
      ['/v1beta/models/gemini-embedding-001:embedContent', { content: { parts: [] } }],
      ['/v1beta/models/gemini-embedding-001:embedContent', { content: { parts: [{ text: 'x' }] }, outputDimensionality: 4000 }],
      ['/v1beta/models/gemini-embedding-001:embedContent', { content: { parts: [{ text: 'x' }] }, outputDimensionality: -1 }],
      ['/v1beta/models/gemini-embedding-001:batchEmbedContents', { requests: [] }],
      ['/v1beta/models/gemini-embedding-001:batchEmbedContents', { requests: [{ model: 'models/text-embedding-004', content: { parts: [{ text: 'x' }] } }] }],
      ['/v1beta/models/gemini-embedding-001:batchEmbedContents', { requests: 'x' }],
    ];
    for (const [path, body] of cases) {
      const response = await post(url(path), body);
      const text = await response.text();
      assert.equal(response.status, 400, `${path} ${JSON.stringify(body)}: ${text}`);
      assert.equal((JSON.parse(text) as { error: { status: string } }).error.status, 'INVALID_ARGUMENT');
    }
    for (const query of ['pageSize=abc', 'pageSize=-3', 'pageToken=not-a-token']) {
      const response = await fetch(url(`/v1beta/models?${query}`));
      assert.equal(response.status, 400, query);
      assert.equal(((await response.json()) as { error: { status: string } }).error.status, 'INVALID_ARGUMENT');
    }
  });

  test('strict mode refuses an unknown field the way the proto parser does', async () => {
    const response = await post(`${strictServer.url}/v1beta/models/${MODEL}:generateContent`, { ...generate('hello'), temperature: 0.2 });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { error: { code: 400, message: 'Invalid JSON payload received. Unknown name "temperature": Cannot find field.', status: 'INVALID_ARGUMENT' } });
    const fine = await post(`${strictServer.url}/v1beta/models/${MODEL}:generateContent`, { ...generate('hello'), generationConfig: { temperature: 0.2, responseMimeType: 'application/json', responseSchema: { type: 'OBJECT' } } });
    assert.equal(fine.status, 200);
  });

  test('rule errors carry the canonical status for their code; a 429 has RetryInfo and retry-after', async () => {
    const limited = await post(url(`/v1beta/models/${MODEL}:generateContent`), generate('rate limit me'));
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    const body = (await limited.json()) as { error: { code: number; status: string; details: { '@type': string; retryDelay?: string }[] } };
    assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
    assert.deepEqual(body.error.details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo'), { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' });
    const overloaded = await post(url(`/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`), generate('overloaded please'));
    assert.equal(overloaded.status, 503);
    assert.match(overloaded.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(((await overloaded.json()) as { error: { status: string } }).error.status, 'UNAVAILABLE');
  });

  test('an unknown model is a 404 NOT_FOUND, and so is an unknown method on a Google path', async () => {
    const model = await fetch(url('/v1beta/models/gemini-0-nonexistent'));
    assert.equal(model.status, 404);
    assert.equal(((await model.json()) as { error: { status: string } }).error.status, 'NOT_FOUND');
    const method = await post(url(`/v1beta/models/${MODEL}:predictTheFuture`), generate('hi'));
    assert.equal(method.status, 404);
    const { error } = (await method.json()) as { error: { code: number; status: string } };
    assert.deepEqual([error.code, error.status], [404, 'NOT_FOUND']);
  });

  test("on_unmatched: error answers an unmatched Gemini request with a 404 in Google's shape", async () => {
    const unmatched = await startTestServer(`responses:\n  "hello": "hi"\ndefaults:\n  on_unmatched: error\n`);
    try {
      const response = await post(`${unmatched.url}/v1beta/models/${MODEL}:generateContent`, generate('nothing matches this'));
      assert.equal(response.status, 404);
      const { error } = (await response.json()) as { error: { code: number; status: string; message: string } };
      assert.deepEqual([error.code, error.status], [404, 'NOT_FOUND']);
    } finally {
      await unmatched.stop();
    }
  });
});

describe('routing, journal and the default config', () => {
  test('GET /v1/models is Gemini\'s listing with a Google key (header or ?key=), OpenAI\'s without', async () => {
    const byHeader = (await (await fetch(url('/v1/models'), { headers: { 'x-goog-api-key': 'k' } })).json()) as { models?: { name: string }[] };
    assert.ok(byHeader.models?.some((m) => m.name === `models/${MODEL}`), JSON.stringify(byHeader).slice(0, 200));
    const byQuery = (await (await fetch(url('/v1/models?key=k'))).json()) as { models?: unknown[] };
    assert.ok(Array.isArray(byQuery.models));
    const openai = (await (await fetch(url('/v1/models'), { headers: { authorization: 'Bearer sk-x' } })).json()) as { object?: string };
    assert.equal(openai.object, 'list');
    const one = (await (await fetch(url(`/v1/models/${MODEL}?key=k`))).json()) as { name?: string };
    assert.equal(one.name, `models/${MODEL}`);
  });

  test('x-mockllm-match names the rule; the journal records the provider, endpoint and model, the API key redacted; metrics carry the gemini label', async () => {
    const response = await post(url(`/v1beta/models/${MODEL}:generateContent`), generate("what's the weather in Paris?"), { 'x-goog-api-key': 'AIza-secret-key' });
    assert.equal(response.headers.get('x-mockllm-match'), 'weather-call');
    const listed = await (await fetch(url('/admin/requests?provider=gemini&limit=1'))).text();
    assert.ok(!listed.includes('AIza-secret-key'), 'the Google API key is shown in the journal');
    const journal = JSON.parse(listed) as { requests?: { provider: string; endpoint: string; model: string; ruleId: string; request: { headers: Record<string, string> } }[] };
    const entry = journal.requests?.[0];
    assert.ok(entry, listed.slice(0, 300));
    assert.equal(entry.request.headers['x-goog-api-key'], '[REDACTED]');
    assert.ok(!server.logText().includes('AIza-secret-key'), 'the Google API key reached a log line');
    assert.deepEqual([entry.provider, entry.endpoint, entry.model, entry.ruleId], ['gemini', '/v1beta/models/{model}:generateContent', MODEL, 'weather-call']);
    const metrics = await (await fetch(url('/metrics'))).text();
    assert.match(metrics, /^mockllm_responses_total\{provider="gemini",endpoint="\/v1beta\/models\/\{model\}:generateContent",matched="true"\} [1-9]/m);
  });

  test('a rule can be scoped to the gemini provider and one endpoint, and its templates see the provider, model and prompt', async () => {
    const scoped = await startTestServer(`rules:
  - match: { provider: gemini, endpoint: "/v1beta/models/{model}:streamGenerateContent" }
    response: "streamed from v1beta"
  - match: { provider: gemini }
    response: "any {{provider}} call to {{model}}: {{prompt}}"
  - match: {}
    response: "someone else"
`);
    try {
      const stream = await (await post(`${scoped.url}/v1beta/models/${MODEL}:streamGenerateContent`, generate('x'))).json() as Element[];
      assert.equal(textOf(stream), 'streamed from v1beta');
      const whole = (await (await post(`${scoped.url}/v1/models/${MODEL}:generateContent`, generate('x'))).json()) as Element;
      assert.equal(textOf([whole]), `any gemini call to ${MODEL}: x`);
      const openai = (await (await post(`${scoped.url}/v1/chat/completions`, { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })).json()) as { choices: { message: { content: string } }[] };
      assert.equal(openai.choices[0]!.message.content, 'someone else');
    } finally {
      await scoped.stop();
    }
  });

  test('the default config answers each of its prompts over Gemini, streamed and not', async () => {
    const text = await readFile(new URL('../../../config/responses.yml', import.meta.url), 'utf8');
    const config = loadYaml(text) as { responses: Record<string, string> };
    const defaults = await startTestServer(text);
    try {
      for (const [prompt, answer] of Object.entries(config.responses)) {
        const whole = (await (await post(`${defaults.url}/v1beta/models/${MODEL}:generateContent`, generate(prompt))).json()) as Element;
        assert.equal(textOf([whole]), answer, prompt);
        const streamed = sseElements(await (await post(`${defaults.url}/v1/models/${MODEL}:streamGenerateContent?alt=sse`, generate(prompt))).text());
        assert.equal(textOf(streamed), answer, prompt);
      }
    } finally {
      await defaults.stop();
    }
  });
});
