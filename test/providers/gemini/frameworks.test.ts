// The Vercel AI SDK's Google provider (`@ai-sdk/google`, /v1beta) and LangChain's
// `ChatGoogleGenerativeAI` (`@langchain/google-genai` on `@google/generative-ai`) against a real
// mockllm on 127.0.0.1: text and streams with usage, a tool-call round trip, and a typed error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { ChatGoogleGenerativeAI } from '@langchain/google-genai';
import { AIMessage, HumanMessage, SystemMessage, ToolMessage, type AIMessageChunk } from '@langchain/core/messages';
import { rejectionOf } from '../../helpers/deadline.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { CONFIG, FIXED_USAGE_TEXT, HELLO, MODEL, OVERLOADED_MESSAGE, RATE_LIMIT_MESSAGE, recordingFetch, RETRIED, SKY, WEATHER_ARGS, WEATHER_FINAL, type SentRequest } from './support.ts';

let server: TestServer;
let google: ReturnType<typeof createGoogleGenerativeAI>;
let sent: SentRequest[];

before(async () => {
  server = await startTestServer(CONFIG);
  const recorder = recordingFetch();
  sent = recorder.sent;
  google = createGoogleGenerativeAI({ baseURL: `${server.url}/v1beta`, apiKey: 'ai-sdk-gemini-key', fetch: recorder.fetch });
});

after(async () => {
  await server?.stop();
});

const langchain = (fields: Partial<ConstructorParameters<typeof ChatGoogleGenerativeAI>[0]> = {}) =>
  new ChatGoogleGenerativeAI({ model: MODEL, apiKey: 'langchain-gemini-key', baseUrl: server.url, maxRetries: 0, ...fields });

const weatherParameters = { type: 'object' as const, properties: { city: { type: 'string' as const }, unit: { type: 'string' as const } }, required: ['city'] };

describe('@ai-sdk/google', () => {
  test('generateText answers the configured text on /v1beta with usage and the response id', async () => {
    const result = await generateText({ model: google(MODEL), prompt: 'what colour is the sky?', maxRetries: 0 });
    assert.equal(result.text, SKY);
    assert.equal(result.finishReason, 'stop');
    assert.ok((result.usage.inputTokens ?? 0) > 0 && (result.usage.outputTokens ?? 0) > 0, JSON.stringify(result.usage));
    assert.equal(result.usage.totalTokens, result.usage.inputTokens! + result.usage.outputTokens!);
    assert.match(result.response.id, /^[A-Za-z0-9]{20,}$/);
    const request = sent.at(-1)!;
    assert.equal(request.url.pathname, `/v1beta/models/${MODEL}:generateContent`);
    assert.equal(request.headers.get('x-goog-api-key'), 'ai-sdk-gemini-key');
  });

  test('streamText streams the text in pieces over SSE with the same usage as generateText', async () => {
    const result = streamText({ model: google(MODEL), prompt: 'what colour is the sky?', maxRetries: 0 });
    const pieces: string[] = [];
    for await (const piece of result.textStream) pieces.push(piece);
    assert.ok(pieces.length > 2, `${pieces.length} pieces`);
    assert.equal(pieces.join(''), SKY);
    assert.equal(await result.finishReason, 'stop');
    const usage = await result.usage;
    const whole = await generateText({ model: google(MODEL), prompt: 'what colour is the sky?', maxRetries: 0 });
    assert.equal(usage.inputTokens, whole.usage.inputTokens);
    assert.equal(usage.outputTokens, whole.usage.outputTokens);
    assert.equal(sent.at(-2)!.url.search, '?alt=sse');
  });

  test('a rule that fixes usage is what the AI SDK reports', async () => {
    const result = await generateText({ model: google(MODEL), prompt: 'fixed usage please', maxRetries: 0 });
    assert.equal(result.text, FIXED_USAGE_TEXT);
    assert.equal(result.usage.inputTokens, 42);
    assert.equal(result.usage.outputTokens, 7);
  });

  test('a tool-call round trip: the call runs, its result goes back as a functionResponse, the final text arrives', async () => {
    const calls: unknown[] = [];
    const result = await generateText({
      model: google(MODEL),
      prompt: "what's the weather in Paris?",
      tools: {
        get_weather: tool({
          description: 'The current weather in a city.',
          inputSchema: jsonSchema<{ city: string; unit?: string }>(weatherParameters),
          execute: async (input) => {
            calls.push(input);
            return { temperature: 18, sky: 'sunny' };
          },
        }),
      },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    assert.deepEqual(calls, [WEATHER_ARGS]);
    assert.equal(result.steps.length, 2);
    assert.equal(result.steps[0]!.finishReason, 'tool-calls');
    assert.equal(result.text, WEATHER_FINAL);
  });

  test('a streamed tool call arrives as one tool-call part with its input', async () => {
    const result = streamText({
      model: google(MODEL),
      prompt: "what's the weather in Paris?",
      tools: { get_weather: tool({ description: 'Weather.', inputSchema: jsonSchema<{ city: string }>(weatherParameters) }) },
      maxRetries: 0,
    });
    const toolCalls = await result.toolCalls;
    assert.deepEqual(toolCalls.map((c) => [c.toolName, c.input]), [['get_weather', WEATHER_ARGS]]);
    assert.equal(await result.finishReason, 'tool-calls');
  });

  test('a rule error 429 is an APICallError with the status, message and retry-after header', async () => {
    const error = await rejectionOf(generateText({ model: google(MODEL), prompt: 'rate limit me', maxRetries: 0 }), 15_000, 'the 429');
    assert.ok(APICallError.isInstance(error), String(error));
    assert.equal(error.statusCode, 429);
    assert.equal(error.message, RATE_LIMIT_MESSAGE);
    assert.equal(error.isRetryable, true);
    assert.equal(error.responseHeaders?.['retry-after'], '7');
  });

  test('with retries on, the AI SDK retries a 429 that carries retry-after and gets the next step of the sequence', async () => {
    const started = sent.length;
    const result = await generateText({ model: google(MODEL), prompt: 'retry once, please', maxRetries: 2 });
    assert.equal(result.text, RETRIED);
    assert.equal(sent.length - started, 2);
  });

  test('a mid-stream fault ends streamText with an error part', async () => {
    const errors: unknown[] = [];
    const result = streamText({ model: google(MODEL), prompt: 'break the stream now', maxRetries: 0, onError: ({ error }) => void errors.push(error) });
    let text = '';
    for await (const piece of result.textStream) text += piece;
    assert.equal(text, 'This answer');
    assert.equal(errors.length, 1, String(errors));
    assert.match(JSON.stringify(errors[0]), /Stream broke on purpose/);
  });
});

describe('@langchain/google-genai', () => {
  test('invoke answers the configured text with usage_metadata, the system message aside', async () => {
    const message = await langchain().invoke([new SystemMessage('what colour is the sky?'), new HumanMessage('hello')]);
    assert.equal(message.content, HELLO);
    const usage = message.usage_metadata!;
    assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0, JSON.stringify(usage));
    assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens);
  });

  test('stream yields several chunks that join to the configured text, their usage adding up to what invoke reports', async () => {
    const chunks: AIMessageChunk[] = [];
    for await (const chunk of await langchain().stream('what colour is the sky?')) chunks.push(chunk);
    assert.ok(chunks.length > 2, `${chunks.length} chunks`);
    assert.equal(chunks.map((c) => c.content).join(''), SKY);
    const merged = chunks.reduce((all, chunk) => all.concat(chunk));
    assert.ok((merged.usage_metadata?.output_tokens ?? 0) > 0, JSON.stringify(merged.usage_metadata));
    // LangChain adds each chunk's increase over the last: the sum is the final usage, as invoke reports it.
    const whole = await langchain().invoke('what colour is the sky?');
    assert.equal(merged.usage_metadata?.input_tokens, whole.usage_metadata?.input_tokens);
    assert.equal(merged.usage_metadata?.output_tokens, whole.usage_metadata?.output_tokens);
    assert.equal(merged.usage_metadata?.total_tokens, whole.usage_metadata?.total_tokens);
  });

  test('a tool-call round trip with bindTools: a tool call, a ToolMessage, then the final text', async () => {
    const model = langchain().bindTools([{ name: 'get_weather', description: 'The current weather in a city.', schema: weatherParameters }]);
    const question = new HumanMessage("what's the weather in Paris?");
    const first = await model.invoke([question]);
    assert.equal(first.tool_calls?.length, 1);
    const call = first.tool_calls![0]!;
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(call.args, WEATHER_ARGS);
    const answer = await model.invoke([question, first as AIMessage, new ToolMessage({ content: '18 degrees, sunny', tool_call_id: call.id ?? 'call', name: 'get_weather' })]);
    assert.equal(answer.content, WEATHER_FINAL);
  });

  test('a rule error surfaces as GoogleGenerativeAIFetchError with the status, the Google message and the 429 RetryInfo details', async () => {
    type FetchError = Error & { status?: number; statusText?: string; errorDetails?: { '@type': string; retryDelay?: string }[] };
    const error = (await rejectionOf(langchain().invoke('overloaded please'), 15_000, 'the 503')) as FetchError;
    assert.equal(error.constructor.name, 'GoogleGenerativeAIFetchError', String(error));
    assert.equal(error.status, 503);
    assert.equal(error.statusText, 'Service Unavailable');
    assert.ok(error.message.endsWith(`[503 Service Unavailable] ${OVERLOADED_MESSAGE}`), error.message);
    const limited = (await rejectionOf(langchain().invoke('rate limit me'), 15_000, 'the 429')) as FetchError;
    assert.equal(limited.status, 429);
    assert.ok(limited.message.includes(`[429 Too Many Requests] ${RATE_LIMIT_MESSAGE}`), limited.message);
    assert.equal(limited.errorDetails?.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo')?.retryDelay, '7s');
  });
});
