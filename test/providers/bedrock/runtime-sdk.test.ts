// @aws-sdk/client-bedrock-runtime against a real mockllm on 127.0.0.1, with the SDK's default
// request handler (cleartext HTTP/2 with prior knowledge) and with NodeHttpHandler (HTTP/1.1):
// Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream and CountTokens, a tool-call
// round trip, typed exceptions (before and inside a stream), usage, and the default config.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  type BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseStreamOutput,
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type Message,
  ModelNotReadyException,
  ModelStreamErrorException,
  ResourceNotFoundException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { rejectionOf } from '../../helpers/deadline.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import {
  anthropicBody,
  CHECKING,
  CONFIG,
  HELLO,
  MODEL,
  NOT_READY,
  runtimeClient,
  SKY,
  THROTTLED,
  type Transport,
  WEATHER_ARGS,
  WEATHER_FINAL,
  WEATHER_TOOL_SPEC,
} from './support.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer(CONFIG);
});
after(async () => {
  await server?.stop();
});

const userText = (text: string): Message => ({ role: 'user', content: [{ text }] });
const decode = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as any;

async function collect(stream: AsyncIterable<ConverseStreamOutput> | undefined): Promise<ConverseStreamOutput[]> {
  const events: ConverseStreamOutput[] = [];
  for await (const event of stream!) events.push(event);
  return events;
}

for (const transport of ['h2c', 'http1'] as Transport[]) {
  describe(`@aws-sdk/client-bedrock-runtime over ${transport === 'h2c' ? 'its default handler (h2c)' : 'NodeHttpHandler (HTTP/1.1)'}`, () => {
    let client: BedrockRuntimeClient;
    before(() => {
      client = runtimeClient(server.url, transport);
    });
    after(() => client.destroy());

    test('Converse answers the configured text with end_turn, usage, metrics and the request id', async () => {
      const result = await client.send(new ConverseCommand({ modelId: MODEL, messages: [userText('what colour is the sky?')], inferenceConfig: { maxTokens: 256 } }));
      assert.deepEqual(result.output?.message, { role: 'assistant', content: [{ text: SKY }] });
      assert.equal(result.stopReason, 'end_turn');
      const usage = result.usage!;
      assert.ok(usage.inputTokens! > 0 && usage.outputTokens! > 0, JSON.stringify(usage));
      assert.equal(usage.totalTokens, usage.inputTokens! + usage.outputTokens!);
      assert.equal(typeof result.metrics?.latencyMs, 'number');
      assert.match(result.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(result.$metadata.httpStatusCode, 200);
    });

    test('ConverseStream streams the text in pieces: messageStart, deltas, contentBlockStop, messageStop, metadata with the same usage', async () => {
      const response = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [userText('what colour is the sky?')] }));
      const events = await collect(response.stream);
      assert.deepEqual(events[0], { messageStart: { role: 'assistant' } });
      const deltas = events.filter((e) => e.contentBlockDelta).map((e) => e.contentBlockDelta!.delta!.text);
      assert.ok(deltas.length > 3, `${deltas.length} deltas`);
      assert.equal(deltas.join(''), SKY);
      assert.ok(!events.some((e) => e.contentBlockStart), 'a text block has no contentBlockStart');
      assert.deepEqual(events.at(-3), { contentBlockStop: { contentBlockIndex: 0 } });
      assert.deepEqual(events.at(-2), { messageStop: { stopReason: 'end_turn' } });
      const metadata = events.at(-1)!.metadata!;
      const whole = await client.send(new ConverseCommand({ modelId: MODEL, messages: [userText('what colour is the sky?')] }));
      assert.equal(metadata.usage!.inputTokens, whole.usage!.inputTokens);
      assert.equal(metadata.usage!.outputTokens, whole.usage!.outputTokens);
      assert.equal(typeof metadata.metrics!.latencyMs, 'number');
    });

    test('a tool-call round trip through Converse: toolUse with a tooluse_ id, then the tool result gets the final text', async () => {
      const messages: Message[] = [userText('What is the weather in Paris?')];
      const toolConfig = { tools: [WEATHER_TOOL_SPEC] };
      const first = await client.send(new ConverseCommand({ modelId: MODEL, messages, toolConfig }));
      assert.equal(first.stopReason, 'tool_use');
      const content = first.output!.message!.content!;
      assert.equal(content[0]!.text, CHECKING);
      const toolUse = content[1]!.toolUse!;
      assert.equal(toolUse.name, 'get_weather');
      assert.deepEqual(toolUse.input, WEATHER_ARGS);
      assert.match(toolUse.toolUseId!, /^tooluse_[A-Za-z0-9]{22}$/);
      messages.push(first.output!.message!, { role: 'user', content: [{ toolResult: { toolUseId: toolUse.toolUseId, content: [{ json: { temperature: 18 } }], status: 'success' } }] });
      const second = await client.send(new ConverseCommand({ modelId: MODEL, messages, toolConfig }));
      assert.equal(second.stopReason, 'end_turn');
      assert.deepEqual(second.output!.message!.content, [{ text: WEATHER_FINAL }]);
    });

    test('ConverseStream streams a tool call: contentBlockStart with the id and name, input as JSON string fragments, stopReason tool_use', async () => {
      const response = await client.send(
        new ConverseStreamCommand({ modelId: MODEL, messages: [userText('What is the weather in Paris?')], toolConfig: { tools: [WEATHER_TOOL_SPEC] } }),
      );
      const events = await collect(response.stream);
      const start = events.find((e) => e.contentBlockStart)!.contentBlockStart!;
      assert.equal(start.contentBlockIndex, 1);
      assert.equal(start.start!.toolUse!.name, 'get_weather');
      assert.match(start.start!.toolUse!.toolUseId!, /^tooluse_/);
      const text = events.filter((e) => e.contentBlockDelta?.contentBlockIndex === 0).map((e) => e.contentBlockDelta!.delta!.text).join('');
      assert.equal(text, CHECKING);
      const input = events.filter((e) => e.contentBlockDelta?.contentBlockIndex === 1).map((e) => e.contentBlockDelta!.delta!.toolUse!.input);
      assert.ok(input.length > 1, 'the input arrives in several fragments');
      assert.deepEqual(JSON.parse(input.join('')), WEATHER_ARGS);
      assert.deepEqual(events.find((e) => e.messageStop)!.messageStop, { stopReason: 'tool_use' });
    });

    test("InvokeModel answers Anthropic's Message JSON with the model's name, usage and the invocation headers", async () => {
      const result = await client.send(new InvokeModelCommand({ modelId: MODEL, contentType: 'application/json', accept: 'application/json', body: anthropicBody('hello') }));
      assert.equal(result.contentType, 'application/json');
      const message = decode(result.body);
      assert.equal(message.type, 'message');
      assert.match(message.id, /^msg_bdrk_01/);
      assert.equal(message.model, 'claude-3-5-haiku-20241022');
      assert.deepEqual(message.content, [{ type: 'text', text: HELLO }]);
      assert.equal(message.stop_reason, 'end_turn');
      assert.ok(message.usage.input_tokens > 0 && message.usage.output_tokens > 0);
      const converse = await client.send(new ConverseCommand({ modelId: MODEL, messages: [userText('hello')] }));
      assert.equal(message.usage.input_tokens, converse.usage!.inputTokens, 'InvokeModel and Converse count the same conversation alike');
    });

    test("InvokeModelWithResponseStream yields chunks whose bytes are Anthropic's stream events, ending with the invocation metrics", async () => {
      const response = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, contentType: 'application/json', body: anthropicBody('hello') }));
      assert.equal(response.contentType, 'application/json');
      const events: any[] = [];
      for await (const part of response.body!) events.push(decode(part.chunk!.bytes));
      assert.deepEqual(events.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
      assert.equal(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text).join(''), HELLO);
      const metrics = events.at(-1)['amazon-bedrock-invocationMetrics'];
      assert.equal(metrics.inputTokenCount, events[0].message.usage.input_tokens);
      assert.equal(metrics.outputTokenCount, events.at(-2).usage.output_tokens);
      assert.equal(typeof metrics.invocationLatency, 'number');
      assert.equal(typeof metrics.firstByteLatency, 'number');
    });

    test('a tool-call round trip through InvokeModel with Anthropic tool_use and tool_result blocks', async () => {
      const tools = [{ name: 'get_weather', description: 'The weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];
      const messages: unknown[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
      const first = decode((await client.send(new InvokeModelCommand({ modelId: MODEL, body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, tools, messages }) }))).body);
      assert.equal(first.stop_reason, 'tool_use');
      const toolUse = first.content.find((b: any) => b.type === 'tool_use');
      assert.deepEqual(toolUse.input, WEATHER_ARGS);
      assert.match(toolUse.id, /^toolu_bdrk_01/);
      messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '18°C' }] });
      const second = decode((await client.send(new InvokeModelCommand({ modelId: MODEL, body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, tools, messages }) }))).body);
      assert.deepEqual(second.content, [{ type: 'text', text: WEATHER_FINAL }]);
    });

    test('CountTokens agrees with the usage Converse and InvokeModel report, and with a rule that fixes the figures', async () => {
      const messages = [userText('what colour is the sky?')];
      const converse = await client.send(new ConverseCommand({ modelId: MODEL, messages }));
      const counted = await client.send(new CountTokensCommand({ modelId: MODEL, input: { converse: { messages } } }));
      assert.equal(counted.inputTokens, converse.usage!.inputTokens);
      const invokeCounted = await client.send(new CountTokensCommand({ modelId: MODEL, input: { invokeModel: { body: new TextEncoder().encode(anthropicBody('what colour is the sky?')) } } }));
      assert.equal(invokeCounted.inputTokens, converse.usage!.inputTokens);
      const fixed = await client.send(new ConverseCommand({ modelId: MODEL, messages: [userText('fixed usage')] }));
      assert.deepEqual([fixed.usage!.inputTokens, fixed.usage!.outputTokens, fixed.usage!.totalTokens], [321, 45, 366]);
      const fixedCount = await client.send(new CountTokensCommand({ modelId: MODEL, input: { converse: { messages: [userText('fixed usage')] } } }));
      assert.equal(fixedCount.inputTokens, 321);
    });

    test('a 429 rule raises ThrottlingException with the message, status and request id; the retry hint is honoured by the default retry', async () => {
      const error = (await rejectionOf(client.send(new ConverseCommand({ modelId: MODEL, messages: [userText('throttle me')] })), 30_000, 'a throttled Converse')) as ThrottlingException;
      assert.ok(error instanceof ThrottlingException, `${(error as Error).name}: ${(error as Error).message}`);
      assert.equal(error.message, THROTTLED);
      assert.equal(error.$metadata.httpStatusCode, 429);
      assert.match(error.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
      // Standard retries (3 attempts) get past a sequence's first-step 429.
      assert.ok((await fetch(`${server.url}/admin/sequences/reset`, { method: "POST" })).ok);
      const retrying = runtimeClient(server.url, transport, { maxAttempts: 3 });
      try {
        const result = await retrying.send(new ConverseCommand({ modelId: MODEL, messages: [userText('retry once')] }));
        assert.deepEqual(result.output!.message!.content, [{ text: 'Answered on the retry.' }]);
        assert.equal(result.$metadata.attempts, 2);
      } finally {
        retrying.destroy();
      }
    });

    test('a rule naming ModelNotReadyException, a 503, a bad body and an unknown path raise the typed exceptions', async () => {
      const notReady = await rejectionOf(client.send(new ConverseCommand({ modelId: MODEL, messages: [userText('not ready')] })), 30_000, 'not ready');
      assert.ok(notReady instanceof ModelNotReadyException, String(notReady));
      assert.equal(notReady.message, NOT_READY);
      const unavailable = await rejectionOf(client.send(new ConverseCommand({ modelId: MODEL, messages: [userText('unavailable')] })), 30_000, 'unavailable');
      assert.ok(unavailable instanceof ServiceUnavailableException, String(unavailable));
      const invalid = await rejectionOf(client.send(new ConverseCommand({ modelId: MODEL, messages: [{ role: 'assistant', content: [{ text: 'hi' }] }] })), 30_000, 'invalid');
      assert.ok(invalid instanceof ValidationException, String(invalid));
      assert.match(invalid.message, /must start with a user message/);
      const badInvoke = await rejectionOf(client.send(new InvokeModelCommand({ modelId: MODEL, body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', messages: 'hello' }) })), 30_000, 'bad invoke');
      assert.ok(badInvoke instanceof ValidationException, String(badInvoke));
      assert.match(badInvoke.message, /^Malformed input request: #\/messages: expected type: JSONArray/);
      const other = await rejectionOf(client.send(new InvokeModelCommand({ modelId: 'amazon.titan-text-express-v1', body: JSON.stringify({ inputText: 'hello' }) })), 30_000, 'titan invoke');
      assert.ok(other instanceof ValidationException, String(other));
    });

    test('a mid-stream fault ends ConverseStream and InvokeModelWithResponseStream with ModelStreamErrorException after the allowed chunks', async () => {
      const response = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [userText('break mid-stream')] }));
      const seen: string[] = [];
      const error = await rejectionOf(
        (async () => {
          for await (const event of response.stream!) if (event.contentBlockDelta) seen.push(event.contentBlockDelta.delta!.text!);
        })(),
        30_000,
        'the broken ConverseStream',
      );
      assert.ok(error instanceof ModelStreamErrorException, String(error));
      assert.equal(seen.join(''), 'one two three');
      const invoke = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body: anthropicBody('break mid-stream') }));
      const invokeError = await rejectionOf(
        (async () => {
          for await (const _part of invoke.body!);
        })(),
        30_000,
        'the broken InvokeModelWithResponseStream',
      );
      assert.ok(invokeError instanceof ModelStreamErrorException, String(invokeError));
    });

    test('a URL-encoded inference-profile ARN is a model id like any other, and finish reasons map to Bedrock stop reasons', async () => {
      const arn = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0';
      const result = await client.send(new ConverseCommand({ modelId: arn, messages: [userText('cut short')] }));
      assert.equal(result.stopReason, 'max_tokens');
      const invoke = decode((await client.send(new InvokeModelCommand({ modelId: arn, body: anthropicBody('hello') }))).body);
      assert.equal(invoke.model, 'claude-3-5-haiku-20241022');
      const journal = (await (await fetch(`${server.url}/admin/requests?limit=5`)).json()) as { requests: { model: string }[] };
      assert.ok(journal.requests.some((entry) => entry.model === arn), 'the journal records the decoded model id');
    });
  });
}

describe('unmatched requests and the default config', () => {
  test('with on_unmatched: error an unmatched Converse raises ResourceNotFoundException naming the closest rule', async () => {
    const strict = await startTestServer('rules:\n  - id: only-hello\n    match: { prompt: "hello" }\n    response: "hi"\ndefaults:\n  on_unmatched: error\n');
    const client = runtimeClient(strict.url, 'h2c');
    try {
      const error = await rejectionOf(client.send(new ConverseCommand({ modelId: MODEL, messages: [userText('hello there')] })), 30_000, 'unmatched');
      assert.ok(error instanceof ResourceNotFoundException, String(error));
      assert.match(error.message, /only-hello/);
    } finally {
      client.destroy();
      await strict.stop();
    }
  });

  test('the default config answers its prompts through Converse and InvokeModel', async () => {
    const bundled = await startTestServer(undefined, { configPath: fileURLToPath(new URL('../../../config/responses.yml', import.meta.url)) });
    const client = runtimeClient(bundled.url, 'h2c');
    try {
      const result = await client.send(new ConverseCommand({ modelId: MODEL, messages: [userText('ping')] }));
      assert.deepEqual(result.output!.message!.content, [{ text: 'pong' }]);
      const invoke = decode((await client.send(new InvokeModelCommand({ modelId: MODEL, body: anthropicBody('what is 2+2?') }))).body);
      assert.equal(invoke.content[0].text, '2+2 equals 9.');
    } finally {
      client.destroy();
      await bundled.stop();
    }
  });
});
