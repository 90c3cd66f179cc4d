// Bedrock on the wire, byte by byte, where the SDKs are lenient: event-stream frames (lengths, both
// CRC32s, headers) decoded by the test's own decoder, error headers and bodies, bad input (always
// Bedrock's error shape, never a 5xx), the model listing, metrics and the journal.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { withDeadline } from '../../helpers/deadline.ts';
import { post, startTestServer, type TestServer } from '../../helpers/server.ts';
import { anthropicBody, CONFIG, decodeEventStream, HELLO, MODEL, SKY, THROTTLED, WEATHER_ARGS, WEATHER_TOOL_SPEC } from './support.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer(CONFIG);
});
after(async () => {
  await server?.stop();
});

// What the SDK sends besides the body: SigV4 headers, accepted without being checked.
const SIGNED = {
  authorization: 'AWS4-HMAC-SHA256 Credential=AKIAMOCKLLMEXAMPLE/20261129/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=00',
  'x-amz-date': '20261129T120000Z',
};
const path = (operation: string, modelId = MODEL) => `${server.url}/model/${encodeURIComponent(modelId)}/${operation}`;
const converse = (text: string, extra: Record<string, unknown> = {}) => ({ messages: [{ role: 'user', content: [{ text }] }], ...extra });

async function frames(res: Response) {
  return decodeEventStream(new Uint8Array(await res.arrayBuffer()));
}

describe('ConverseStream and InvokeModelWithResponseStream frames', () => {
  test('every ConverseStream message has valid lengths and CRCs, the three string headers, and a JSON payload per event type', async () => {
    const res = await post(path('converse-stream'), converse('What is the weather in Paris?', { toolConfig: { tools: [WEATHER_TOOL_SPEC] } }), SIGNED);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/vnd.amazon.eventstream');
    assert.match(res.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('x-mockllm-match'), 'weather-call');
    const messages = await frames(res);
    for (const message of messages) {
      assert.deepEqual(Object.keys(message.headers), [':event-type', ':content-type', ':message-type']);
      assert.equal(message.headers[':content-type'], 'application/json');
      assert.equal(message.headers[':message-type'], 'event');
      JSON.parse(message.payload);
    }
    const types = messages.map((m) => m.headers[':event-type']).filter((t, i, all) => t !== all[i - 1]);
    assert.deepEqual(types, ['messageStart', 'contentBlockDelta', 'contentBlockStop', 'contentBlockStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata']);
    const payloads = messages.map((m) => JSON.parse(m.payload));
    const input = payloads.filter((p) => p.contentBlockIndex === 1 && p.delta).map((p) => p.delta.toolUse.input as string).join('');
    assert.deepEqual(JSON.parse(input), WEATHER_ARGS);
    const metadata = payloads.at(-1);
    assert.deepEqual(Object.keys(metadata), ['usage', 'metrics']);
    assert.equal(metadata.usage.totalTokens, metadata.usage.inputTokens + metadata.usage.outputTokens);
  });

  test('InvokeModelWithResponseStream sends chunk events whose bytes are base64 Anthropic events, with x-amzn-bedrock-content-type', async () => {
    const res = await post(path('invoke-with-response-stream'), anthropicBody('hello'), SIGNED);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-amzn-bedrock-content-type'), 'application/json');
    const messages = await frames(res);
    assert.ok(messages.every((m) => m.headers[':event-type'] === 'chunk'));
    const events = messages.map((m) => {
      const payload = JSON.parse(m.payload);
      assert.deepEqual(Object.keys(payload), ['bytes']);
      return JSON.parse(Buffer.from(payload.bytes, 'base64').toString('utf8'));
    });
    assert.equal(events[0].type, 'message_start');
    assert.equal(events.at(-1).type, 'message_stop');
    assert.equal(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text).join(''), HELLO);
  });

  test('a mid-stream fault is an exception message: :message-type exception, :exception-type modelStreamErrorException, {"message"}', async () => {
    const res = await post(path('converse-stream'), converse('break mid-stream'));
    const messages = await frames(res);
    const last = messages.at(-1)!;
    assert.deepEqual(last.headers, { ':exception-type': 'modelStreamErrorException', ':content-type': 'application/json', ':message-type': 'exception' });
    assert.deepEqual(Object.keys(JSON.parse(last.payload)), ['message']);
    assert.equal(messages.filter((m) => m.headers[':event-type'] === 'contentBlockDelta').length, 3);
    assert.ok(!messages.some((m) => m.headers[':event-type'] === 'messageStop'));
  });

  test('the same frames arrive over cleartext HTTP/2', async () => {
    const session = connect(server.url);
    session.on('error', () => {});
    try {
      const body = await withDeadline(
        new Promise<Buffer>((resolve, reject) => {
          const stream = session.request({ ':method': 'POST', ':path': `/model/${encodeURIComponent(MODEL)}/converse-stream`, 'content-type': 'application/json', ...SIGNED });
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => resolve(Buffer.concat(chunks)));
          stream.on('error', reject);
          stream.end(JSON.stringify(converse('what colour is the sky?')));
        }),
        30_000,
        'ConverseStream over h2',
      );
      const messages = decodeEventStream(body);
      const text = messages.filter((m) => m.headers[':event-type'] === 'contentBlockDelta').map((m) => JSON.parse(m.payload).delta.text).join('');
      assert.equal(text, SKY);
    } finally {
      session.close();
    }
  });
});

describe('errors', () => {
  test("a 429 rule: ThrottlingException in x-amzn-errortype, the retry hints, and a body of only {message}", async () => {
    const res = await post(path('converse'), converse('throttle me'), SIGNED);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('x-amzn-errortype'), 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/');
    assert.equal(res.headers.get('x-amz-retry-after'), '50');
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal(res.headers.get('retry-after-ms'), null);
    assert.match(res.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(await res.json(), { message: THROTTLED });
  });

  test('a streaming request gets a rule error as an HTTP error before any frame', async () => {
    const res = await post(path('converse-stream'), converse('throttle me'));
    assert.equal(res.status, 429);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { message: THROTTLED });
  });

  const BAD: { name: string; operation: string; body: unknown; pattern: RegExp }[] = [
    { name: 'an array body', operation: 'converse', body: [], pattern: /request body must be a JSON object/ },
    { name: 'no messages', operation: 'converse', body: {}, pattern: /Value null at 'messages' failed to satisfy constraint: Member must not be null/ },
    { name: 'messages as a string', operation: 'converse', body: { messages: 'hi' }, pattern: /at 'messages'/ },
    { name: 'a system role', operation: 'converse', body: { messages: [{ role: 'system', content: [{ text: 'x' }] }] }, pattern: /Value 'system' at 'messages.1.member.role' failed to satisfy constraint: Member must satisfy enum value set: \[user, assistant\]/ },
    { name: 'content as a string', operation: 'converse-stream', body: { messages: [{ role: 'user', content: 'hi' }] }, pattern: /messages.1.member.content/ },
    { name: 'an empty conversation', operation: 'converse', body: { messages: [] }, pattern: /must start with a user message/ },
    { name: 'maxTokens 0', operation: 'converse', body: converse('hello', { inferenceConfig: { maxTokens: 0 } }), pattern: /Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1/ },
    { name: 'temperature 2', operation: 'converse', body: converse('hello', { inferenceConfig: { temperature: 2 } }), pattern: /inferenceConfig.temperature/ },
    { name: 'a tool without a name', operation: 'converse', body: converse('hello', { toolConfig: { tools: [{ toolSpec: {} }] } }), pattern: /toolSpec.name/ },
    { name: 'Anthropic messages as a string', operation: 'invoke', body: { anthropic_version: 'bedrock-2023-05-31', messages: 'hi' }, pattern: /^Malformed input request: #\/messages: expected type: JSONArray/ },
    { name: 'no Anthropic messages', operation: 'invoke-with-response-stream', body: { anthropic_version: 'bedrock-2023-05-31' }, pattern: /required key \[messages\] not found/ },
    { name: 'a wrong anthropic_version', operation: 'invoke', body: { anthropic_version: '2023-06-01', messages: [{ role: 'user', content: 'hi' }] }, pattern: /bedrock-2023-05-31/ },
    { name: 'count-tokens without input', operation: 'count-tokens', body: {}, pattern: /'input'/ },
    { name: 'count-tokens with a body that is not base64 JSON', operation: 'count-tokens', body: { input: { invokeModel: { body: '%%%' } } }, pattern: /base64-encoded JSON/ },
  ];
  for (const { name, operation, body, pattern } of BAD) {
    test(`${name} on ${operation} is a 400 ValidationException with the service's wording`, async () => {
      const res = await post(path(operation), body);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('x-amzn-errortype')?.split(':')[0], 'ValidationException');
      const json = (await res.json()) as { message: string };
      assert.deepEqual(Object.keys(json), ['message']);
      assert.match(json.message, pattern);
    });
  }

  test('a body that is not JSON is a 400 with a {message} body, and an unknown operation a 404 ResourceNotFoundException', async () => {
    const res = await post(path('converse'), '{"messages": [');
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /^Malformed input request/);
    const unknown = await post(path('invoke-async'), converse('hello'));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('x-amzn-errortype')?.split(':')[0], 'ResourceNotFoundException');
    assert.deepEqual(Object.keys((await unknown.json()) as object), ['message']);
  });

  test('strict mode refuses what the real service refuses in an Anthropic body: model, stream, a missing anthropic_version', async () => {
    const strict = await startTestServer(`${CONFIG}settings:\n  strict: true\n`);
    try {
      const at = (operation: string) => `${strict.url}/model/${encodeURIComponent(MODEL)}/${operation}`;
      for (const [body, pattern] of [
        [{ anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, model: MODEL, messages: [{ role: 'user', content: 'hi' }] }, /extraneous key \[model\] is not permitted/],
        [{ anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }, /extraneous key \[stream\] is not permitted/],
        [{ max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, /required key \[anthropic_version\] not found/],
      ] as const) {
        const res = await post(at('invoke'), body);
        assert.equal(res.status, 400);
        assert.match(((await res.json()) as { message: string }).message, pattern);
      }
      const ok = await post(at('invoke'), anthropicBody('hello'));
      assert.equal(ok.status, 200);
    } finally {
      await strict.stop();
    }
  });
});

describe('around the answers', () => {
  test('match.provider bedrock and the templates see Bedrock: the provider name, the route template and the decoded model id', async () => {
    const res = await post(path('converse'), converse('which provider?'));
    const json = (await res.json()) as { output: { message: { content: { text: string }[] } } };
    assert.equal(json.output.message.content[0]!.text, `bedrock at /model/{modelId}/converse for ${MODEL}`);
    const openai = await post(`${server.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'which provider?' }] });
    assert.equal(openai.headers.get('x-mockllm-match'), 'none', 'the rule is Bedrock-only');
  });

  test("a rule's ttft_ms holds the first content frame of a ConverseStream back (frames before it go out at once)", async () => {
    const started = performance.now();
    const res = await post(path('converse-stream'), converse('slow start'));
    const reader = res.body!.getReader();
    let received = new Uint8Array(0);
    let firstDeltaAt: number | undefined;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const joined = new Uint8Array(received.length + value.length);
      joined.set(received);
      joined.set(value, received.length);
      received = joined;
      if (firstDeltaAt === undefined && Buffer.from(received).includes('contentBlockDelta')) firstDeltaAt = performance.now() - started;
    }
    assert.ok(firstDeltaAt !== undefined && firstDeltaAt >= 290, `the first delta came after ${firstDeltaAt} ms`);
    const text = decodeEventStream(received).filter((m) => m.headers[':event-type'] === 'contentBlockDelta').map((m) => JSON.parse(m.payload).delta.text).join('');
    assert.equal(text, 'Slowly, then all at once.');
  });

  test('InvokeModel carries the usage and latency headers of the real service', async () => {
    const res = await post(path('invoke'), anthropicBody('hello'), SIGNED);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const message = (await res.json()) as { usage: { input_tokens: number; output_tokens: number } };
    assert.equal(res.headers.get('x-amzn-bedrock-input-token-count'), String(message.usage.input_tokens));
    assert.equal(res.headers.get('x-amzn-bedrock-output-token-count'), String(message.usage.output_tokens));
    assert.match(res.headers.get('x-amzn-bedrock-invocation-latency') ?? '', /^\d+$/);
  });

  test('GET /foundation-models lists Bedrock model ids; GET /foundation-models/{id} shows one, and an unknown id is a 404', async () => {
    const list = (await (await fetch(`${server.url}/foundation-models`)).json()) as { modelSummaries: { modelId: string; providerName: string; modelArn: string }[] };
    const haiku = list.modelSummaries.find((m) => m.modelId === MODEL);
    assert.ok(haiku, JSON.stringify(list.modelSummaries.map((m) => m.modelId)));
    assert.equal(haiku.providerName, 'Anthropic');
    assert.equal(haiku.modelArn, `arn:aws:bedrock:us-east-1::foundation-model/${MODEL}`);
    const one = (await (await fetch(`${server.url}/foundation-models/${encodeURIComponent(MODEL)}`)).json()) as { modelDetails: { modelId: string } };
    assert.equal(one.modelDetails.modelId, MODEL);
    const missing = await fetch(`${server.url}/foundation-models/nobody.nothing-v1`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-amzn-errortype')?.split(':')[0], 'ResourceNotFoundException');
  });

  test('Bedrock requests are journaled with provider bedrock and the route template, and counted with the provider label', async () => {
    const res = await post(path('converse'), converse('hello'), { ...SIGNED, 'x-request-id': 'bedrock-journal-check' });
    assert.equal(res.status, 200);
    const journal = (await (await fetch(`${server.url}/admin/requests`)).json()) as { requests: { provider: string; endpoint: string; model: string; request?: { headers?: Record<string, string> } }[] };
    const entry = journal.requests.find((e) => e.request?.headers?.['x-request-id'] === 'bedrock-journal-check');
    assert.ok(entry, 'the journal holds the request');
    assert.equal(entry.provider, 'bedrock');
    assert.equal(entry.endpoint, '/model/{modelId}/converse');
    assert.equal(entry.model, MODEL);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /mockllm_responses_total\{provider="bedrock",endpoint="\/model\/\{modelId\}\/converse",matched="true"\} [1-9]/);
  });
});
