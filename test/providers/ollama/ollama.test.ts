// The Ollama native API through its official client (`ollama`) and @langchain/ollama against a real
// mockllm on 127.0.0.1: chat and generate, streamed (the default) and not, a tool-call round trip,
// embeddings, the model routes, errors through ResponseError, usage figures, and the raw NDJSON
// framing the lenient client would hide.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:http2';
import { Ollama, type ChatResponse, type Message } from 'ollama';
import { ChatOllama, OllamaEmbeddings } from '@langchain/ollama';
import { HumanMessage, ToolMessage, type AIMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { post, startTestServer, type TestServer } from '../../helpers/server.ts';

const SKY = 'The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.';
const WEATHER_DONE = 'It is 18 degrees and sunny in Paris.';
const MODEL = 'llama3.2';

const CONFIG = `
responses:
  "what colour is the sky?": ${JSON.stringify(SKY)}
rules:
  - id: weather-call
    match: {contains: "weather in paris", tool_result: false}
    response:
      tool_calls:
        - name: get_weather
          arguments: {city: "Paris", unit: "celsius"}
  - id: weather-answer
    match: {tool_result: get_weather}
    response: ${JSON.stringify(WEATHER_DONE)}
  - id: slow-down
    match: {contains: "rate limit me"}
    response: {error: {status: 429, message: "too many requests, slow down", retry_after: 0}}
  - id: broken-stream
    match: {contains: "break the stream"}
    response: {text: "This answer will not arrive whole.", chunking: word, fault: {fail_after_chunks: 2, mode: error_event}}
  - id: ollama-only
    match: {contains: "which provider", provider: ollama}
    response: "Answered by the {{provider}} provider at {{endpoint}}."
  - id: cut-short
    match: {contains: "cut me short"}
    response: {text: "Cut", finish_reason: length}
  - id: fixed-usage
    match: {contains: "fixed usage"}
    response: {text: "Fixed.", usage: {input_tokens: 42, output_tokens: 7}}
  - id: flaky
    match: {contains: "flaky question"}
    response:
      sequence:
        - error: {status: 503, message: "model is loading"}
        - "Answered on the second try."
  - id: paced
    match: {contains: "take your time"}
    response: {text: "one two three", chunking: word, latency: {ttft_ms: 30, chunk_delay_ms: 10}}
defaults:
  unknown_response: "No rule matched."
embeddings:
  vectors: {"the fixed sentence": [0.6, 0.8]}
`;

let server: TestServer;
let client: Ollama;

before(async () => {
  server = await startTestServer(CONFIG);
  client = new Ollama({ host: server.url });
});

after(async () => {
  await server?.stop();
});

/** Prompt tokens by the documented estimate (docs/endpoints.md): 5 + per message 4 + role + content. */
const promptTokens = (messages: { role: string; content: string }[]) => 5 + messages.reduce((sum, m) => sum + 4 + countTokens(m.role) + countTokens(m.content), 0);

const user = (content: string): Message[] => [{ role: 'user', content }];

describe('ollama client, /api/chat', () => {
  test('a non-stream chat gets the configured text with done, done_reason and the usage counts', async () => {
    const response = await client.chat({ model: MODEL, messages: user('what colour is the sky?') });
    assert.equal(response.message.role, 'assistant');
    assert.equal(response.message.content, SKY);
    assert.equal(response.done, true);
    assert.equal(response.done_reason, 'stop');
    assert.equal(response.model, MODEL);
    assert.equal(response.prompt_eval_count, promptTokens(user('what colour is the sky?')));
    assert.equal(response.eval_count, countTokens(SKY));
    assert.ok(!Number.isNaN(Date.parse(String(response.created_at))), `created_at ${String(response.created_at)} is a date`);
    for (const field of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration'] as const) {
      assert.ok(Number.isInteger(response[field]) && response[field] > 0, `${field} is a positive integer of nanoseconds`);
    }
    assert.equal(response.total_duration, response.load_duration + response.prompt_eval_duration + response.eval_duration);
  });

  test('a streamed chat arrives in pieces that join to the text, and only the last is done, with the counts', async () => {
    const parts: ChatResponse[] = [];
    for await (const part of await client.chat({ model: MODEL, messages: user('what colour is the sky?'), stream: true })) parts.push(part);
    assert.ok(parts.length > 2, `only ${parts.length} parts`);
    assert.equal(parts.map((p) => p.message.content).join(''), SKY);
    assert.deepEqual(parts.map((p) => p.done), [...parts.slice(1).map(() => false), true]);
    const last = parts.at(-1)!;
    assert.equal(last.done_reason, 'stop');
    assert.equal(last.eval_count, countTokens(SKY));
    assert.equal(last.prompt_eval_count, promptTokens(user('what colour is the sky?')));
  });

  test('a tool call arrives with arguments as an object, and the tool result gets the final text (non-stream)', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const first = await client.chat({ model: MODEL, messages: user('What is the weather in Paris?'), tools });
    const calls = first.message.tool_calls ?? [];
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.function.name, 'get_weather');
    assert.deepEqual(calls[0]!.function.arguments, { city: 'Paris', unit: 'celsius' });
    assert.match((calls[0] as { id?: string }).id ?? '', /^call_[a-z0-9]{8}$/);
    assert.equal(first.done_reason, 'stop');
    const second = await client.chat({
      model: MODEL,
      tools,
      messages: [...user('What is the weather in Paris?'), first.message, { role: 'tool', content: '{"temp": 18}', tool_name: 'get_weather' }],
    });
    assert.equal(second.message.content, WEATHER_DONE);
    assert.equal(second.message.tool_calls, undefined);
  });

  test('a streamed tool call arrives whole in one line before the done line', async () => {
    const parts: ChatResponse[] = [];
    for await (const part of await client.chat({ model: MODEL, messages: user('weather in Paris please'), stream: true })) parts.push(part);
    const withCalls = parts.filter((p) => (p.message.tool_calls ?? []).length > 0);
    assert.equal(withCalls.length, 1);
    assert.equal(withCalls[0]!.done, false);
    assert.deepEqual(withCalls[0]!.message.tool_calls![0]!.function.arguments, { city: 'Paris', unit: 'celsius' });
    assert.equal(parts.at(-1)!.done, true);
  });

  test('a rule error reaches the client as ResponseError with the message and status, not [object Object]', async () => {
    const error = await client.chat({ model: MODEL, messages: user('please rate limit me') }).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e as { name: string; message: string; status_code: number; error: string },
    );
    assert.equal(error.name, 'ResponseError');
    assert.equal(error.status_code, 429);
    assert.equal(error.message, 'too many requests, slow down');
    assert.doesNotMatch(String(error), /object Object/);
  });

  test('a fault mid-stream ends the stream with an error line the client throws', async () => {
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const part of await client.chat({ model: MODEL, messages: user('break the stream now'), stream: true })) seen.push(part.message.content);
    }, /./);
    assert.equal(seen.length, 2, `saw ${JSON.stringify(seen)}`);
  });

  test('match.provider and templates see the provider as ollama and the endpoint as /api/chat', async () => {
    const response = await client.chat({ model: MODEL, messages: user('which provider is this?') });
    assert.equal(response.message.content, 'Answered by the ollama provider at /api/chat.');
  });

  test('a rule with finish_reason length gives done_reason length; a usage override sets the counts', async () => {
    assert.equal((await client.chat({ model: MODEL, messages: user('cut me short') })).done_reason, 'length');
    const fixed = await client.chat({ model: MODEL, messages: user('fixed usage please') });
    assert.equal(fixed.prompt_eval_count, 42);
    assert.equal(fixed.eval_count, 7);
  });

  test('a sequence answers successive calls with successive steps: an error first, then the text', async () => {
    const error = await client.chat({ model: MODEL, messages: user('a flaky question') }).then(
      () => assert.fail('expected the first step to fail'),
      (e: unknown) => e as { status_code: number; message: string },
    );
    assert.equal(error.status_code, 503);
    assert.equal(error.message, 'model is loading');
    assert.equal((await client.chat({ model: MODEL, messages: user('a flaky question') })).message.content, 'Answered on the second try.');
  });

  test('metrics count the answers and streamed chunks under the ollama provider label', async () => {
    for await (const part of await client.chat({ model: MODEL, messages: user('what colour is the sky?'), stream: true })) void part;
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /mockllm_responses_total\{[^}]*provider="ollama"[^}]*endpoint="\/api\/chat"[^}]*\} [1-9]/);
    assert.match(metrics, /mockllm_stream_chunks_total\{provider="ollama"\} [1-9]/);
  });

  test('durations follow the rule latency: prompt evaluation is the time to the first chunk', async () => {
    const response = await client.chat({ model: MODEL, messages: user('take your time') });
    assert.equal(response.prompt_eval_duration, 30_000_000);
    assert.equal(response.eval_duration, 20_000_000);
  });
});

describe('ollama client, /api/generate, embeddings and models', () => {
  test('generate answers the prompt, streamed and not, with the same counts', async () => {
    const whole = await client.generate({ model: MODEL, prompt: 'what colour is the sky?' });
    assert.equal(whole.response, SKY);
    assert.equal(whole.done, true);
    assert.equal(whole.done_reason, 'stop');
    assert.equal(whole.eval_count, countTokens(SKY));
    const pieces: string[] = [];
    let last: { done: boolean; prompt_eval_count: number } | undefined;
    for await (const part of await client.generate({ model: MODEL, prompt: 'what colour is the sky?', stream: true })) {
      pieces.push(String(part.response));
      last = part;
    }
    assert.equal(pieces.join(''), SKY);
    assert.equal(last!.done, true);
    assert.equal(last!.prompt_eval_count, whole.prompt_eval_count);
  });

  test('embed gives one unit vector per input, the same on every call, shortened by dimensions', async () => {
    const first = await client.embed({ model: 'nomic-embed-text', input: ['alpha', 'beta'] });
    assert.equal(first.embeddings.length, 2);
    assert.equal(first.embeddings[0]!.length, 768);
    const norm = Math.hypot(...first.embeddings[0]!);
    assert.ok(Math.abs(norm - 1) < 1e-5, `norm ${norm}`);
    const again = await client.embed({ model: 'nomic-embed-text', input: 'alpha' });
    assert.deepEqual(again.embeddings[0], first.embeddings[0]);
    assert.equal(first.prompt_eval_count, countTokens('alpha') + countTokens('beta'));
    const short = await client.embed({ model: 'nomic-embed-text', input: 'alpha', dimensions: 8 });
    assert.equal(short.embeddings[0]!.length, 8);
    const fixed = await client.embed({ model: 'nomic-embed-text', input: 'the fixed sentence' });
    assert.deepEqual(fixed.embeddings[0], [0.6, 0.8]);
    const legacy = await client.embeddings({ model: 'nomic-embed-text', prompt: 'alpha' });
    assert.deepEqual(legacy.embedding, first.embeddings[0]);
  });

  test('list, show, ps and version describe the built-in models; show of an unknown model is a 404', async () => {
    const { models } = await client.list();
    assert.ok(models.some((m) => m.name === 'llama3.2:latest'));
    for (const model of models) assert.match(model.digest, /^[0-9a-f]{64}$/);
    const shown = await client.show({ model: 'llama3.2' });
    assert.equal(shown.details.family, 'llama');
    assert.ok(shown.capabilities.includes('tools'));
    // Typed as a Map by the client, though it is the JSON object the server sends.
    assert.equal((shown.model_info as unknown as Record<string, unknown>)['llama.context_length'], 131072);
    const running = await client.ps();
    assert.ok(running.models.length > 0);
    assert.ok(Date.parse(String(running.models[0]!.expires_at)) > Date.now());
    assert.match((await client.version()).version, /^\d+\.\d+\.\d+$/);
    const error = await client.show({ model: 'no-such-model' }).then(
      () => assert.fail('expected a 404'),
      (e: unknown) => e as { name: string; message: string; status_code: number },
    );
    assert.equal(error.name, 'ResponseError');
    assert.equal(error.status_code, 404);
    assert.equal(error.message, "model 'no-such-model' not found");
  });
});

describe('@langchain/ollama', () => {
  const llm = () => new ChatOllama({ baseUrl: server.url, model: MODEL });

  test('invoke gets the configured text with usage_metadata from the done line', async () => {
    const message = await llm().invoke('what colour is the sky?');
    assert.equal(message.content, SKY);
    assert.equal(message.usage_metadata?.input_tokens, promptTokens(user('what colour is the sky?')));
    assert.equal(message.usage_metadata?.output_tokens, countTokens(SKY));
  });

  test('stream yields pieces that join to the text', async () => {
    let text = '';
    for await (const chunk of await llm().stream('what colour is the sky?')) text += String(chunk.content);
    assert.equal(text, SKY);
  });

  test('a tool-call round trip: bound tool → call → tool message → final text', async () => {
    const getWeather = tool(async ({ city }) => `18 degrees in ${city}`, {
      name: 'get_weather',
      description: 'Weather for a city',
      schema: z.object({ city: z.string() }),
    });
    const model = llm().bindTools([getWeather]);
    const question = new HumanMessage('What is the weather in Paris?');
    const first = (await model.invoke([question])) as AIMessage;
    assert.equal(first.tool_calls?.length, 1);
    assert.equal(first.tool_calls![0]!.name, 'get_weather');
    assert.deepEqual(first.tool_calls![0]!.args, { city: 'Paris', unit: 'celsius' });
    const result = new ToolMessage({ content: '18 degrees', tool_call_id: first.tool_calls![0]!.id! });
    const second = await model.invoke([question, first, result]);
    assert.equal(second.content, WEATHER_DONE);
  });

  test('OllamaEmbeddings embeds documents with the same vectors as the client', async () => {
    const embeddings = new OllamaEmbeddings({ baseUrl: server.url, model: 'nomic-embed-text' });
    const [vector] = await embeddings.embedDocuments(['alpha']);
    const direct = await client.embed({ model: 'nomic-embed-text', input: 'alpha' });
    assert.deepEqual(vector, direct.embeddings[0]);
  });

  test('a rule error surfaces through LangChain with the message', async () => {
    await assert.rejects(llm().invoke('please rate limit me'), /too many requests, slow down/);
  });
});

/** A POST over HTTP/2 without TLS (prior knowledge), as the server accepts beside HTTP/1.1 on one port. */
async function h2cPost(origin: string, path: string, body: unknown): Promise<{ status: number; contentType: string | undefined; text: string }> {
  const session = connect(origin);
  try {
    const request = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json' });
    request.end(JSON.stringify(body));
    return await new Promise((resolve, reject) => {
      let headers: Record<string, unknown> = {};
      const chunks: Buffer[] = [];
      request.on('response', (received) => void (headers = received));
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => resolve({ status: Number(headers[':status']), contentType: headers['content-type'] as string | undefined, text: Buffer.concat(chunks).toString('utf8') }));
      request.on('error', reject);
    });
  } finally {
    session.close();
  }
}

describe('wire checks', () => {
  test('over h2c (HTTP/2 without TLS) the same chat streams the same NDJSON lines', async () => {
    const { status, contentType, text } = await h2cPost(server.url, '/api/chat', { model: MODEL, messages: user('what colour is the sky?') });
    assert.equal(status, 200);
    assert.equal(contentType, 'application/x-ndjson');
    const objects = text.trimEnd().split('\n').map((line) => JSON.parse(line) as { done: boolean; message: { content: string } });
    assert.equal(objects.map((o) => o.message.content).join(''), SKY);
    assert.equal(objects.at(-1)!.done, true);
  });

  test('a chat with no stream field streams NDJSON: one JSON object per line, each ended by \\n, the last done', async () => {
    const response = await post(`${server.url}/api/chat`, { model: MODEL, messages: user('what colour is the sky?') });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/x-ndjson');
    assert.notEqual(response.headers.get('x-mockllm-match') ?? 'none', 'none', 'x-mockllm-match names the rule that answered');
    const text = await response.text();
    assert.ok(text.endsWith('\n'), 'the body ends with a newline');
    const lines = text.slice(0, -1).split('\n');
    const objects = lines.map((line) => JSON.parse(line) as { done: boolean; message: { content: string } });
    assert.deepEqual(objects.map((o) => o.done), [...objects.slice(1).map(() => false), true]);
    assert.equal(objects.map((o) => o.message.content).join(''), SKY);
    assert.ok(!lines.some((line) => line.startsWith('data:')), 'no SSE framing');
  });

  test('stream: false answers one application/json object', async () => {
    const response = await post(`${server.url}/api/chat`, { model: MODEL, stream: false, messages: user('what colour is the sky?') });
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await response.json()) as { done: boolean; message: { content: string } };
    assert.equal(body.done, true);
    assert.equal(body.message.content, SKY);
  });

  test('bad input gets Ollama\'s {"error"} body with a 4xx status, never a 5xx (odd but well-formed input is answered)', async () => {
    const cases: [path: string, body: unknown, status: number, message: RegExp][] = [
      ['/api/chat', { messages: user('hi') }, 400, /^model is required$/],
      ['/api/chat', { model: 7, messages: user('hi') }, 400, /cannot unmarshal number into Go struct field ChatRequest\.model of type string/],
      ['/api/chat', { model: MODEL, messages: 'hi' }, 400, /cannot unmarshal string/],
      ['/api/chat', { model: MODEL, messages: [42] }, 400, /cannot unmarshal number/],
      ['/api/chat', { model: MODEL, messages: [{ role: 'user', content: 5 }] }, 400, /messages\.content of type string/],
      ['/api/chat', [1, 2], 400, /cannot unmarshal array into Go value of type api\.ChatRequest/],
      ['/api/chat', { model: MODEL, messages: user('hi'), stream: 'yes' }, 400, /stream of type bool/],
      ['/api/chat', { model: MODEL, messages: user('hi'), top_logprobs: 99 }, 400, /top_logprobs must be between 0 and 20/],
      ['/api/chat', { model: MODEL, messages: [{ role: 'assistant', tool_calls: [null, 1] }, { role: 'tool', content: 'x', tool_call_id: 'c' }] }, 200, /./],
      ['/api/chat', { model: MODEL, stream: false, messages: [{ role: 'constructor', content: 'what colour is the sky?' }] }, 200, /./],
      ['/api/generate', { model: MODEL, prompt: ['x'] }, 400, /prompt of type string/],
      ['/api/generate', { model: MODEL, prompt: 'x', raw: true, system: 's' }, 400, /raw mode does not support/],
      ['/api/embed', { model: 'nomic-embed-text', input: [1] }, 400, /^invalid input type$/],
      ['/api/embeddings', { prompt: 'x' }, 400, /^model is required$/],
      ['/api/show', {}, 400, /^model is required$/],
      ['/api/show', { model: 'missing:7b' }, 404, /^model 'missing:7b' not found$/],
    ];
    for (const [path, body, status, message] of cases) {
      const response = await post(`${server.url}${path}`, body);
      const text = await response.text();
      assert.equal(response.status, status, `${path} ${JSON.stringify(body)} → ${response.status} ${text}`);
      if (status === 200) continue;
      const json = JSON.parse(text) as { error: unknown };
      assert.equal(typeof json.error, 'string');
      assert.match(json.error as string, message);
    }
    const malformed = await fetch(`${server.url}/api/chat`, { method: 'POST', body: '{"model": ', headers: { 'content-type': 'application/json' } });
    assert.equal(malformed.status, 400);
    assert.equal(typeof ((await malformed.json()) as { error: unknown }).error, 'string');
    const unknown = await fetch(`${server.url}/api/nothing-here`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { error: '404 page not found' });
  });

  test('a chat with no messages only loads the model (done_reason load), consulting no rule', async () => {
    const response = await post(`${server.url}/api/chat`, { model: MODEL });
    const body = (await response.json()) as { done: boolean; done_reason: string };
    assert.equal(body.done, true);
    assert.equal(body.done_reason, 'load');
    const unload = (await (await post(`${server.url}/api/generate`, { model: MODEL, keep_alive: 0 })).json()) as { done_reason: string; response: string };
    assert.deepEqual([unload.done_reason, unload.response], ['unload', '']);
  });
});

describe('server-wide behaviour on the Ollama routes', () => {
  test('the default config answers its prompts through the ollama client', async () => {
    const shipped = await readFile(new URL('../../../config/responses.yml', import.meta.url), 'utf8');
    const defaults = await startTestServer(shipped);
    try {
      const ollama = new Ollama({ host: defaults.url });
      const response = await ollama.chat({ model: MODEL, messages: user('What colour is the sky?') });
      assert.equal(response.message.content, SKY);
      assert.equal((await ollama.generate({ model: MODEL, prompt: 'ping' })).response, 'pong');
    } finally {
      await defaults.stop();
    }
  });

  test('on_unmatched: error answers an unmatched chat with a 404 in Ollama\'s shape, and the journal records the provider', async () => {
    const strict = await startTestServer('responses:\n  hi: "hello"\ndefaults:\n  on_unmatched: error\n');
    try {
      const ollama = new Ollama({ host: strict.url });
      const error = await ollama.chat({ model: MODEL, messages: user('nothing matches this') }).then(
        () => assert.fail('expected a 404'),
        (e: unknown) => e as { name: string; status_code: number; message: string },
      );
      assert.equal(error.name, 'ResponseError');
      assert.equal(error.status_code, 404);
      assert.doesNotMatch(error.message, /object Object/);
      const { requests: entries } = (await (await fetch(`${strict.url}/admin/requests`)).json()) as { requests: { provider: string; endpoint: string }[] };
      assert.ok(entries.some((e) => e.provider === 'ollama' && e.endpoint === '/api/chat'), JSON.stringify(entries).slice(0, 500));
    } finally {
      await strict.stop();
    }
  });
});
