// The official `@google/genai` SDK against a real mockllm on 127.0.0.1, in Gemini API key mode (its
// default `/v1/` paths) and in Vertex AI mode (`vertexai: true`, project and location, OAuth bearer
// from a stand-in auth client; and express mode with an API key): text, streams, a tool-call round
// trip, typed errors, usage, countTokens, embeddings and the model listing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, GoogleGenAI, type Content, type GenerateContentResponse } from '@google/genai';
import { rejectionOf, withDeadline } from '../../helpers/deadline.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import {
  CONFIG, FAULT_TEXT, FIXED_USAGE_TEXT, HELLO, MODEL, RATE_LIMIT_MESSAGE, recordingFetch, RETRIED, SKY, UNKNOWN, WEATHER_ARGS, WEATHER_FINAL, type SentRequest,
} from './support.ts';

let server: TestServer;
let ai: GoogleGenAI;
let vertex: GoogleGenAI;
let express: GoogleGenAI;
let sent: SentRequest[];
let vertexSent: SentRequest[];
let expressSent: SentRequest[];

const PROJECT = 'mock-project';
const LOCATION = 'us-central1';
const ACCESS_TOKEN = 'ya29.mockllm-test-token';

// What google-auth-library's GoogleAuth asks of the client it is given (`authClient`): the headers
// to sign a request with. A stand-in, so Vertex mode needs no credentials file and no token server.
const bearerOnly = { getRequestHeaders: async () => new Headers({ authorization: `Bearer ${ACCESS_TOKEN}` }) };

before(async () => {
  server = await startTestServer(CONFIG);
  const recorder = recordingFetch();
  sent = recorder.sent;
  ai = new GoogleGenAI({ apiKey: 'gemini-test-key', httpOptions: { baseUrl: server.url, fetch: recorder.fetch } });
  const vertexRecorder = recordingFetch();
  vertexSent = vertexRecorder.sent;
  vertex = new GoogleGenAI({
    vertexai: true,
    project: PROJECT,
    location: LOCATION,
    httpOptions: { baseUrl: server.url, fetch: vertexRecorder.fetch },
    googleAuthOptions: { authClient: bearerOnly as never },
  });
  const expressRecorder = recordingFetch();
  expressSent = expressRecorder.sent;
  express = new GoogleGenAI({ vertexai: true, apiKey: 'vertex-express-key', httpOptions: { baseUrl: server.url, fetch: expressRecorder.fetch } });
});

after(async () => {
  await server?.stop();
});

const user = (text: string): Content[] => [{ role: 'user', parts: [{ text }] }];

async function collect(stream: AsyncGenerator<GenerateContentResponse>): Promise<GenerateContentResponse[]> {
  const chunks: GenerateContentResponse[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const WEATHER_TOOL = {
  functionDeclarations: [
    {
      name: 'get_weather',
      description: 'The current weather in a city.',
      parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] },
    },
  ],
};

describe('@google/genai, Gemini API key mode', () => {
  test('generateContent answers the configured text on /v1/ with the key in x-goog-api-key, with usage, modelVersion and responseId', async () => {
    const before = sent.length;
    const response = await ai.models.generateContent({ model: MODEL, contents: 'what colour is the sky?' });
    assert.equal(response.text, SKY);
    assert.equal(response.candidates?.[0]?.finishReason, 'STOP');
    assert.equal(response.candidates?.[0]?.content?.role, 'model');
    assert.equal(response.modelVersion, MODEL);
    assert.match(response.responseId ?? '', /^[A-Za-z0-9]{20,}$/);
    const usage = response.usageMetadata!;
    assert.ok(usage.promptTokenCount! > 0, `promptTokenCount ${usage.promptTokenCount}`);
    assert.ok(usage.candidatesTokenCount! > 0, `candidatesTokenCount ${usage.candidatesTokenCount}`);
    assert.equal(usage.totalTokenCount, usage.promptTokenCount! + usage.candidatesTokenCount!);
    const request = sent.at(-1)!;
    assert.equal(sent.length, before + 1);
    assert.equal(request.url.pathname, `/v1/models/${MODEL}:generateContent`);
    assert.equal(request.headers.get('x-goog-api-key'), 'gemini-test-key');
  });

  test('the system instruction is not the prompt, and an unknown prompt gets the fallback', async () => {
    const answered = await ai.models.generateContent({ model: MODEL, contents: 'hello', config: { systemInstruction: 'what colour is the sky?' } });
    assert.equal(answered.text, HELLO);
    const unknown = await ai.models.generateContent({ model: MODEL, contents: 'an unconfigured question' });
    assert.equal(unknown.text, UNKNOWN);
  });

  test('a longer conversation costs more prompt tokens, and a longer answer more candidate tokens', async () => {
    const short = await ai.models.generateContent({ model: MODEL, contents: 'hello' });
    const long = await ai.models.generateContent({
      model: MODEL,
      contents: [...user('what colour is the sky?'), { role: 'model', parts: [{ text: SKY }] }, ...user('hello')],
    });
    assert.equal(long.text, HELLO);
    assert.ok(long.usageMetadata!.promptTokenCount! > short.usageMetadata!.promptTokenCount!);
    const sky = await ai.models.generateContent({ model: MODEL, contents: 'what colour is the sky?' });
    assert.ok(sky.usageMetadata!.candidatesTokenCount! > short.usageMetadata!.candidatesTokenCount!);
  });

  test('generateContentStream sends the text in several chunks over SSE, the last with finishReason and the final usage', async () => {
    const before = sent.length;
    const chunks = await collect(await ai.models.generateContentStream({ model: MODEL, contents: 'what colour is the sky?' }));
    assert.ok(chunks.length > 2, `${chunks.length} chunks`);
    assert.equal(chunks.map((c) => c.text ?? '').join(''), SKY);
    const last = chunks.at(-1)!;
    assert.equal(last.candidates?.[0]?.finishReason, 'STOP');
    assert.ok(chunks.slice(0, -1).every((c) => c.candidates?.[0]?.finishReason === undefined));
    const whole = await ai.models.generateContent({ model: MODEL, contents: 'what colour is the sky?' });
    assert.equal(last.usageMetadata?.promptTokenCount, whole.usageMetadata?.promptTokenCount);
    assert.equal(last.usageMetadata?.candidatesTokenCount, whole.usageMetadata?.candidatesTokenCount);
    assert.equal(new Set(chunks.map((c) => c.responseId)).size, 1);
    const streamed = sent[before]!;
    assert.equal(streamed.url.pathname, `/v1/models/${MODEL}:streamGenerateContent`);
    assert.equal(streamed.url.searchParams.get('alt'), 'sse');
  });

  test('a tool-call round trip: functionCall with an args object, then the functionResponse gets the final text', async () => {
    const contents = user("what's the weather in Paris?");
    const first = await ai.models.generateContent({ model: MODEL, contents, config: { tools: [WEATHER_TOOL] } });
    assert.equal(first.candidates?.[0]?.finishReason, 'STOP');
    const calls = first.functionCalls ?? [];
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.name, 'get_weather');
    assert.deepEqual(calls[0]!.args, WEATHER_ARGS);
    assert.ok(first.candidates![0]!.content!.parts!.every((part) => part.text === undefined), 'no text part beside the call');
    const followUp: Content[] = [
      ...contents,
      first.candidates![0]!.content!,
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temperature: 18, sky: 'sunny' } } }] },
    ];
    const second = await ai.models.generateContent({ model: MODEL, contents: followUp, config: { tools: [WEATHER_TOOL] } });
    assert.equal(second.text, WEATHER_FINAL);
    assert.equal(second.functionCalls, undefined);
  });

  test('a streamed tool call arrives whole, args complete in one chunk', async () => {
    const chunks = await collect(await ai.models.generateContentStream({ model: MODEL, contents: "what's the weather in Paris?", config: { tools: [WEATHER_TOOL] } }));
    const calls = chunks.flatMap((c) => c.functionCalls ?? []);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.args, WEATHER_ARGS);
    assert.equal(chunks.at(-1)!.candidates?.[0]?.finishReason, 'STOP');
  });

  test('a rule error 429 is an ApiError with status 429, RESOURCE_EXHAUSTED and RetryInfo in its message', async () => {
    const error = await rejectionOf(ai.models.generateContent({ model: MODEL, contents: 'please rate limit me' }), 15_000, 'the 429');
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.status, 429);
    const body = JSON.parse(error.message) as { error: { code: number; message: string; status: string; details: { '@type': string; retryDelay?: string }[] } };
    assert.equal(body.error.code, 429);
    assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
    assert.equal(body.error.message, RATE_LIMIT_MESSAGE);
    assert.equal(body.error.details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo')?.retryDelay, '7s');
  });

  test('with httpOptions.retryOptions the SDK retries a 429 and gets the next step of the sequence', async () => {
    const retrying = new GoogleGenAI({ apiKey: 'gemini-test-key', httpOptions: { baseUrl: server.url, retryOptions: { attempts: 3, initialDelay: 0.01, maxDelay: 0.05 } } });
    const response = await withDeadline(retrying.models.generateContent({ model: MODEL, contents: 'retry once, please' }), 30_000, 'the retried call');
    assert.equal(response.text, RETRIED);
  });

  test('a rule error on a stream request is an ApiError before any chunk', async () => {
    const error = await rejectionOf(
      (async () => collect(await ai.models.generateContentStream({ model: MODEL, contents: 'overloaded please' })))(),
      15_000,
      'the 503',
    );
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.status, 503);
    assert.match(error.message, /"status":\s*"UNAVAILABLE"/);
  });

  test('a mid-stream fault ends the stream with an ApiError after the chunks already sent', async () => {
    const received: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const chunk of await ai.models.generateContentStream({ model: MODEL, contents: 'break the stream now' })) received.push(chunk.text ?? '');
      })(),
      15_000,
      'the faulted stream',
    );
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.status, 500);
    assert.match(error.message, /Stream broke on purpose/);
    assert.equal(received.join(''), FAULT_TEXT.split(' ').slice(0, 2).join(' '));
  });

  test('usage a rule fixes maps to promptTokenCount and candidatesTokenCount, and countTokens agrees', async () => {
    const response = await ai.models.generateContent({ model: MODEL, contents: 'fixed usage please' });
    assert.equal(response.text, FIXED_USAGE_TEXT);
    assert.equal(response.usageMetadata?.promptTokenCount, 42);
    assert.equal(response.usageMetadata?.candidatesTokenCount, 7);
    assert.equal(response.usageMetadata?.totalTokenCount, 49);
    const counted = await ai.models.countTokens({ model: MODEL, contents: 'fixed usage please' });
    assert.equal(counted.totalTokens, 42);
  });

  test('countTokens equals the promptTokenCount of the same request', async () => {
    const contents: Content[] = [...user('what colour is the sky?'), { role: 'model', parts: [{ text: SKY }] }, ...user('hello there, how are you?')];
    const counted = await ai.models.countTokens({ model: MODEL, contents });
    const answered = await ai.models.generateContent({ model: MODEL, contents });
    assert.ok((counted.totalTokens ?? 0) > 5, `totalTokens ${counted.totalTokens}`);
    assert.equal(counted.totalTokens, answered.usageMetadata?.promptTokenCount);
    assert.equal(sent.at(-2)!.url.pathname, `/v1/models/${MODEL}:countTokens`);
  });

  test('embedContent gives deterministic vectors of the model size, shortened by outputDimensionality, in input order', async () => {
    const one = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: 'a sentence to embed' });
    assert.equal(sent.at(-1)!.url.pathname, '/v1/models/gemini-embedding-001:batchEmbedContents');
    const values = one.embeddings?.[0]?.values ?? [];
    assert.equal(values.length, 3072);
    const again = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: 'a sentence to embed' });
    assert.deepEqual(again.embeddings?.[0]?.values, values);
    const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0));
    assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
    const many = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['first text', 'second text', 'a sentence to embed'], config: { outputDimensionality: 8 } });
    assert.deepEqual(many.embeddings?.map((e) => e.values?.length), [8, 8, 8]);
    assert.notDeepEqual(many.embeddings?.[0]?.values, many.embeddings?.[1]?.values);
  });

  test('models.list pages through the Gemini listing, and models.get returns one model or a 404 ApiError', async () => {
    const names: string[] = [];
    const pager = await ai.models.list({ config: { pageSize: 3 } });
    for await (const model of pager) names.push(model.name ?? '');
    assert.ok(names.length > 3, names.join(', '));
    assert.ok(names.includes(`models/${MODEL}`), names.join(', '));
    assert.equal(new Set(names).size, names.length);
    const model = await ai.models.get({ model: MODEL });
    assert.equal(model.name, `models/${MODEL}`);
    assert.ok((model.inputTokenLimit ?? 0) > 0);
    assert.ok(model.supportedActions?.includes('generateContent'), JSON.stringify(model));
    const error = await rejectionOf(ai.models.get({ model: 'gemini-does-not-exist' }), 15_000, 'the unknown model');
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 404);
    assert.match(error.message, /NOT_FOUND/);
  });
});

describe('@google/genai, Vertex AI mode', () => {
  test('generateContent goes to the v1beta1 publisher-model path with the project, location and bearer token', async () => {
    const response = await vertex.models.generateContent({ model: MODEL, contents: 'what colour is the sky?' });
    assert.equal(response.text, SKY);
    assert.equal(response.candidates?.[0]?.finishReason, 'STOP');
    assert.ok(response.usageMetadata!.promptTokenCount! > 0 && response.usageMetadata!.candidatesTokenCount! > 0);
    const request = vertexSent.at(-1)!;
    assert.equal(request.url.pathname, `/v1beta1/projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/${MODEL}:generateContent`);
    assert.equal(request.headers.get('authorization'), `Bearer ${ACCESS_TOKEN}`);
  });

  test('a stream, a tool-call round trip and countTokens work the same way under Vertex AI', async () => {
    const chunks = await collect(await vertex.models.generateContentStream({ model: MODEL, contents: 'hello' }));
    assert.ok(chunks.length > 1);
    assert.equal(chunks.map((c) => c.text ?? '').join(''), HELLO);
    assert.match(vertexSent.at(-1)!.url.pathname, /\/publishers\/google\/models\/gemini-2\.5-flash:streamGenerateContent$/);

    const contents = user('weather in Paris, please');
    const first = await vertex.models.generateContent({ model: MODEL, contents, config: { tools: [WEATHER_TOOL] } });
    assert.deepEqual(first.functionCalls?.map((c) => [c.name, c.args]), [['get_weather', WEATHER_ARGS]]);
    const second = await vertex.models.generateContent({
      model: MODEL,
      contents: [...contents, first.candidates![0]!.content!, { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temperature: 18 } } }] }],
      config: { tools: [WEATHER_TOOL] },
    });
    assert.equal(second.text, WEATHER_FINAL);

    const counted = await vertex.models.countTokens({ model: MODEL, contents: 'what colour is the sky?', config: { systemInstruction: 'Be brief.' } });
    const answered = await vertex.models.generateContent({ model: MODEL, contents: 'what colour is the sky?', config: { systemInstruction: 'Be brief.' } });
    assert.equal(counted.totalTokens, answered.usageMetadata?.promptTokenCount);
  });

  test('a rule error is an ApiError with the Vertex request status', async () => {
    const error = await rejectionOf(vertex.models.generateContent({ model: MODEL, contents: 'rate limit me' }), 15_000, 'the Vertex 429');
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 429);
    assert.match(error.message, /RESOURCE_EXHAUSTED/);
  });

  test('embeddings: :predict for gemini-embedding-001 and text-embedding models, :embedContent for other Gemini models, the same vectors as the Gemini API', async () => {
    const predicted = await vertex.models.embedContent({ model: 'gemini-embedding-001', contents: ['a sentence to embed', 'another one'], config: { outputDimensionality: 16 } });
    assert.equal(vertexSent.at(-1)!.url.pathname, `/v1beta1/projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/gemini-embedding-001:predict`);
    assert.deepEqual(predicted.embeddings?.map((e) => e.values?.length), [16, 16]);
    assert.ok((predicted.embeddings?.[0]?.statistics?.tokenCount ?? 0) > 0, JSON.stringify(predicted.embeddings?.[0]?.statistics));
    const viaGemini = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: 'a sentence to embed', config: { outputDimensionality: 16 } });
    assert.deepEqual(predicted.embeddings?.[0]?.values, viaGemini.embeddings?.[0]?.values);
    const embedded = await vertex.models.embedContent({ model: 'gemini-embedding-2-preview', contents: 'a sentence to embed', config: { outputDimensionality: 8 } });
    assert.match(vertexSent.at(-1)!.url.pathname, /\/publishers\/google\/models\/gemini-embedding-2-preview:embedContent$/);
    assert.equal(embedded.embeddings?.[0]?.values?.length, 8);
  });

  test('models.list and models.get read the publisher models, without the project prefix', async () => {
    const names: string[] = [];
    for await (const model of await vertex.models.list({ config: { pageSize: 3 } })) names.push(model.name ?? '');
    assert.ok(names.includes(`publishers/google/models/${MODEL}`), names.join(', '));
    assert.ok(names.length > 3);
    assert.equal(vertexSent.at(-1)!.url.pathname, '/v1beta1/publishers/google/models');
    const model = await vertex.models.get({ model: MODEL });
    assert.equal(model.name, `publishers/google/models/${MODEL}`);
    assert.equal(model.version, '001');
    const error = await rejectionOf(vertex.models.get({ model: 'gemini-does-not-exist' }), 15_000, 'the unknown Vertex model');
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 404);
  });

  test('express mode (an API key, no project) uses the publisher path without a project', async () => {
    const response = await withDeadline(express.models.generateContent({ model: MODEL, contents: 'hello' }), 15_000, 'express mode');
    assert.equal(response.text, HELLO);
    const request = expressSent.at(-1)!;
    assert.equal(request.url.pathname, `/v1beta1/publishers/google/models/${MODEL}:generateContent`);
    assert.equal(request.headers.get('x-goog-api-key'), 'vertex-express-key');
  });
});
