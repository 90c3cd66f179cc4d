// The Vercel AI SDK's Bedrock providers (`@ai-sdk/amazon-bedrock`: Converse over fetch, and its
// Anthropic subprovider on InvokeModel) and LangChain's `ChatBedrockConverse` (`@langchain/aws`, on
// the AWS SDK's default h2c handler) against a real mockllm: text and streams with usage, a
// tool-call round trip, and a typed error each.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { createAmazonBedrockAnthropic } from '@ai-sdk/amazon-bedrock/anthropic';
import { ChatBedrockConverse } from '@langchain/aws';
import { ThrottlingException } from '@aws-sdk/client-bedrock-runtime';
import { AIMessage, HumanMessage, ToolMessage, type AIMessageChunk } from '@langchain/core/messages';
import { rejectionOf } from '../../helpers/deadline.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { CHECKING, CONFIG, CREDENTIALS, HELLO, MODEL, REGION, runtimeClient, SKY, THROTTLED, WEATHER_ARGS, WEATHER_FINAL } from './support.ts';

let server: TestServer;
const paths: string[] = [];

before(async () => {
  server = await startTestServer(CONFIG);
});
after(async () => {
  await server?.stop();
});

const recordingFetch: typeof fetch = async (input, init) => {
  paths.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
  return fetch(input, init);
};

const settings = () => ({ region: REGION, ...CREDENTIALS, baseURL: server.url, fetch: recordingFetch });
const weatherParameters = jsonSchema<{ city: string; unit?: string }>({ type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] });

describe('@ai-sdk/amazon-bedrock (Converse)', () => {
  test('generateText answers the configured text with usage, the stop reason and the request id', async () => {
    const bedrock = createAmazonBedrock(settings());
    const result = await generateText({ model: bedrock(MODEL), prompt: 'what colour is the sky?', maxRetries: 0 });
    assert.equal(result.text, SKY);
    assert.equal(result.finishReason, 'stop');
    assert.ok((result.usage.inputTokens ?? 0) > 0 && (result.usage.outputTokens ?? 0) > 0, JSON.stringify(result.usage));
    assert.equal(result.usage.totalTokens, result.usage.inputTokens! + result.usage.outputTokens!);
    assert.match(result.response.id, /^[0-9a-f-]{36}$/);
    assert.equal(paths.at(-1), `/model/${encodeURIComponent(MODEL)}/converse`);
  });

  test('streamText streams the text in pieces from the event stream, with the same usage', async () => {
    const bedrock = createAmazonBedrock(settings());
    const result = streamText({ model: bedrock(MODEL), prompt: 'what colour is the sky?', maxRetries: 0 });
    const pieces: string[] = [];
    for await (const piece of result.textStream) pieces.push(piece);
    assert.ok(pieces.length > 3, `${pieces.length} pieces`);
    assert.equal(pieces.join(''), SKY);
    assert.equal(await result.finishReason, 'stop');
    const usage = await result.usage;
    const whole = await generateText({ model: bedrock(MODEL), prompt: 'what colour is the sky?', maxRetries: 0 });
    assert.equal(usage.inputTokens, whole.usage.inputTokens);
    assert.equal(usage.outputTokens, whole.usage.outputTokens);
    assert.ok(paths.includes(`/model/${encodeURIComponent(MODEL)}/converse-stream`));
  });

  test('a tool-call round trip: the call with its arguments, the tool runs, and the result gets the final text', async () => {
    const bedrock = createAmazonBedrock(settings());
    const calls: unknown[] = [];
    const result = await generateText({
      model: bedrock(MODEL),
      prompt: 'What is the weather in Paris?',
      tools: { get_weather: tool({ description: 'The weather in a city', inputSchema: weatherParameters, execute: async (args) => (calls.push(args), { temperature: 18 }) }) },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    assert.deepEqual(calls, [WEATHER_ARGS]);
    assert.equal(result.steps.length, 2);
    assert.equal(result.steps[0]!.finishReason, 'tool-calls');
    assert.equal(result.steps[0]!.text, CHECKING);
    assert.equal(result.text, WEATHER_FINAL);
  });

  test('a 429 rule is an APICallError with the status, the message and isRetryable', async () => {
    const bedrock = createAmazonBedrock(settings());
    const error = await rejectionOf(generateText({ model: bedrock(MODEL), prompt: 'throttle me', maxRetries: 0 }), 30_000, 'a throttled generateText');
    assert.ok(APICallError.isInstance(error), String(error));
    assert.equal(error.statusCode, 429);
    assert.equal(error.isRetryable, true);
    assert.match(error.message, new RegExp(THROTTLED));
  });
});

describe('@ai-sdk/amazon-bedrock/anthropic (InvokeModel)', () => {
  test('generateText and streamText answer through invoke and invoke-with-response-stream with matching usage', async () => {
    const anthropic = createAmazonBedrockAnthropic(settings());
    const whole = await generateText({ model: anthropic(MODEL), prompt: 'hello', maxRetries: 0 });
    assert.equal(whole.text, HELLO);
    assert.equal(whole.finishReason, 'stop');
    assert.ok((whole.usage.inputTokens ?? 0) > 0 && (whole.usage.outputTokens ?? 0) > 0, JSON.stringify(whole.usage));
    assert.equal(paths.at(-1), `/model/${encodeURIComponent(MODEL)}/invoke`);
    const streamed = streamText({ model: anthropic(MODEL), prompt: 'hello', maxRetries: 0 });
    const pieces: string[] = [];
    for await (const piece of streamed.textStream) pieces.push(piece);
    assert.ok(pieces.length > 3);
    assert.equal(pieces.join(''), HELLO);
    const usage = await streamed.usage;
    assert.equal(usage.inputTokens, whole.usage.inputTokens);
    assert.equal(usage.outputTokens, whole.usage.outputTokens);
    assert.equal(paths.at(-1), `/model/${encodeURIComponent(MODEL)}/invoke-with-response-stream`);
  });

  test('a tool-call round trip with Anthropic tool_use blocks', async () => {
    const anthropic = createAmazonBedrockAnthropic(settings());
    const calls: unknown[] = [];
    const result = await generateText({
      model: anthropic(MODEL),
      prompt: 'What is the weather in Paris?',
      tools: { get_weather: tool({ description: 'The weather in a city', inputSchema: weatherParameters, execute: async (args) => (calls.push(args), '18°C') }) },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    assert.deepEqual(calls, [WEATHER_ARGS]);
    assert.equal(result.text, WEATHER_FINAL);
  });
});

describe('@langchain/aws ChatBedrockConverse (default h2c handler)', () => {
  const chat = () => new ChatBedrockConverse({ model: MODEL, region: REGION, client: runtimeClient(server.url, 'h2c'), maxRetries: 0 });

  test('invoke answers the configured text with usage metadata and the request id', async () => {
    const message = await chat().invoke([new HumanMessage('what colour is the sky?')]);
    assert.equal(message.content, SKY);
    const usage = message.usage_metadata!;
    assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0, JSON.stringify(usage));
    assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens);
    assert.match(String(message.id), /^[0-9a-f-]{36}$/);
  });

  test('stream yields the text in pieces and the usage at the end, equal to invoke', async () => {
    const model = chat();
    const chunks: AIMessageChunk[] = [];
    for await (const chunk of await model.stream([new HumanMessage('what colour is the sky?')])) chunks.push(chunk);
    const text = chunks.map((c) => (typeof c.content === 'string' ? c.content : '')).join('');
    assert.equal(text, SKY);
    assert.ok(chunks.filter((c) => c.content !== '').length > 3);
    const usage = chunks.find((c) => c.usage_metadata)?.usage_metadata;
    const whole = await model.invoke([new HumanMessage('what colour is the sky?')]);
    assert.equal(usage?.input_tokens, whole.usage_metadata!.input_tokens);
    assert.equal(usage?.output_tokens, whole.usage_metadata!.output_tokens);
  });

  test('a tool-call round trip with bindTools: the call, a ToolMessage, then the final text', async () => {
    const model = chat().bindTools([{ name: 'get_weather', description: 'The weather in a city', schema: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] } }]);
    const question = new HumanMessage('What is the weather in Paris?');
    const first = await model.invoke([question]);
    assert.equal(first.tool_calls?.length, 1);
    const call = first.tool_calls![0]!;
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(call.args, WEATHER_ARGS);
    assert.match(call.id ?? '', /^tooluse_/);
    const second = await model.invoke([question, new AIMessage({ content: first.content, tool_calls: first.tool_calls }), new ToolMessage({ tool_call_id: call.id!, content: '18°C and sunny' })]);
    assert.equal(second.content, WEATHER_FINAL);
  });

  test('a 429 rule surfaces as the SDK ThrottlingException', async () => {
    const error = await rejectionOf(chat().invoke([new HumanMessage('throttle me')]), 30_000, 'a throttled invoke');
    assert.ok(error instanceof ThrottlingException, String(error));
    assert.equal(error.message, THROTTLED);
  });
});
