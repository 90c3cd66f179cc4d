// Every rejection, seen twice: through the official SDK (its typed error class and the fields it
// copies) and as the raw body and headers on the wire (API-FORMATS §1, §5, §7, §9).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { configYaml, UNKNOWN } from './fixtures.ts';

const BODY_LIMIT = 2048;
const HI = 'Hello, still answering after all those errors.';

let server: TestServer;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  server = await startTestServer(configYaml({ responses: { hi: HI }, unknown: UNKNOWN, settings: { body_limit_bytes: BODY_LIMIT } }));
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-test', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

type Json = Record<string, any>;

/** Awaits a rejection and checks it is an instance of `type`, returning the error. */
async function rejection<E>(promise: Promise<unknown>, type: abstract new (...args: any[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
    return error;
  }
  assert.fail(`expected ${type.name}, but the call succeeded`);
}

interface RawError {
  status: number;
  headers: Headers;
  body: Json;
}

async function raw(path: string, body: unknown, headers: Record<string, string> = {}): Promise<RawError> {
  const response = await post(`${server.url}${path}`, body, headers);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/, 'error bodies are JSON');
  return { status: response.status, headers: response.headers, body: (await response.json()) as Json };
}

/** A fetch that swaps the SDK's serialised body for bytes that are not JSON. */
const brokenJsonFetch: typeof fetch = (input, init) => fetch(input, { ...init, body: '{"model": "m", "messages": [' });

const CHAT = '/v1/chat/completions';
const MESSAGES = '/v1/messages';
const ANTHROPIC_HEADERS = { 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-test' };
const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
const messagesBody = { model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };

/** The OpenAI error body: exactly message, type, param and code. */
function assertOpenAiShape(body: Json, expected: { param: string | null; code: string | null; type?: string }): void {
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof body.error.message, 'string');
  assert.equal(body.error.type, expected.type ?? 'invalid_request_error');
  assert.equal(body.error.param, expected.param);
  assert.equal(body.error.code, expected.code);
}

/** The Anthropic error body: type "error", error.{type,message} and a request_id equal to the headers'. */
function assertAnthropicShape(error: RawError, type: string): void {
  assert.deepEqual(Object.keys(error.body).sort(), ['error', 'request_id', 'type']);
  assert.equal(error.body.type, 'error');
  assert.equal(error.body.error.type, type);
  assert.equal(typeof error.body.error.message, 'string');
  assert.match(error.body.request_id, /^req_/);
  assert.equal(error.headers.get('request-id'), error.body.request_id);
  assert.equal(error.headers.get('x-request-id'), error.body.request_id);
}

describe('OpenAI errors', () => {
  test('a body that is not JSON is a 400 BadRequestError with the parse message', async () => {
    const broken = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0, fetch: brokenJsonFetch });
    const error = await rejection(broken.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }), OpenAI.BadRequestError);
    assert.equal(error.status, 400);
    assert.match(error.message, /could not parse the JSON body/);
    const wire = await raw(CHAT, '{"model": "gpt-4o-mini", "messages": [');
    assert.equal(wire.status, 400);
    assertOpenAiShape(wire.body, { param: null, code: null });
    assert.match(wire.body.error.message, /^We could not parse the JSON body of your request\./);
  });

  test('a request without messages is a 400 naming param messages with code missing_required_parameter', async () => {
    const error = await rejection(openai.chat.completions.create({ model: 'gpt-4o-mini' } as any), OpenAI.BadRequestError);
    assert.equal(error.param, 'messages');
    assert.equal(error.code, 'missing_required_parameter');
    assert.equal(error.type, 'invalid_request_error');
    const wire = await raw(CHAT, { model: 'gpt-4o-mini' });
    assert.equal(wire.status, 400);
    assertOpenAiShape(wire.body, { param: 'messages', code: 'missing_required_parameter' });
    assert.equal(wire.body.error.message, "Missing required parameter: 'messages'.");
  });

  test('messages given as a string is a 400 that names the messages field', async () => {
    const error = await rejection(openai.chat.completions.create({ model: 'gpt-4o-mini', messages: 'hi' as any }), OpenAI.BadRequestError);
    assert.equal(error.param, 'messages');
    const wire = await raw(CHAT, { model: 'gpt-4o-mini', messages: 'hi' });
    assert.equal(wire.status, 400);
    assertOpenAiShape(wire.body, { param: 'messages', code: 'invalid_type' });
    assert.match(wire.body.error.message, /'messages'/);
  });

  test('an unknown role is a 400 naming messages[0].role and the bad value', async () => {
    const bad = { model: 'gpt-4o-mini', messages: [{ role: 'bot', content: 'hi' }] };
    const error = await rejection(openai.chat.completions.create(bad as any), OpenAI.BadRequestError);
    assert.equal(error.param, 'messages[0].role');
    assert.equal(error.code, 'invalid_value');
    const wire = await raw(CHAT, bad);
    assert.equal(wire.status, 400);
    assertOpenAiShape(wire.body, { param: 'messages[0].role', code: 'invalid_value' });
    assert.match(wire.body.error.message, /^Invalid value: 'bot'\. Supported values are: .*'user'/);
  });

  test('an unknown path is a 404 NotFoundError with Invalid URL (POST /v1/x)', async () => {
    const error = await rejection(openai.post('/x', { body: { model: 'gpt-4o-mini' } }), OpenAI.NotFoundError);
    assert.equal(error.status, 404);
    const wire = await raw('/v1/x', {});
    assert.equal(wire.status, 404);
    assertOpenAiShape(wire.body, { param: null, code: null });
    assert.equal(wire.body.error.message, 'Invalid URL (POST /v1/x)');
  });

  test('a body over settings.body_limit_bytes is a 413', async () => {
    const big = 'x'.repeat(BODY_LIMIT * 2);
    const error = await rejection(openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: big }] }), OpenAI.APIError);
    assert.equal(error.status, 413);
    const wire = await raw(CHAT, { ...chatBody, messages: [{ role: 'user', content: big }] });
    assert.equal(wire.status, 413);
    assert.deepEqual(Object.keys(wire.body), ['error']);
    assert.equal(typeof wire.body.error.message, 'string');
    assert.equal(typeof wire.body.error.type, 'string');
    // Just under the limit is still answered.
    const fits = await post(`${server.url}${CHAT}`, { ...chatBody, messages: [{ role: 'user', content: 'y'.repeat(BODY_LIMIT - 200) }] });
    assert.equal(fits.status, 200);
  });

  test('errors carry an x-request-id that the SDK exposes, and echo the one the client sent', async () => {
    const generated = await rejection(openai.chat.completions.create({ model: 'gpt-4o-mini' } as any), OpenAI.BadRequestError);
    assert.match(generated.requestID ?? '', /^req_[0-9a-f]{32}$/);
    const echoed = await rejection(
      openai.chat.completions.create({ model: 'gpt-4o-mini' } as any, { headers: { 'x-request-id': 'trace-openai-42' } }),
      OpenAI.BadRequestError,
    );
    assert.equal(echoed.requestID, 'trace-openai-42');
    const wire = await raw('/v1/x', {}, { 'x-request-id': 'trace-raw-7' });
    assert.equal(wire.headers.get('x-request-id'), 'trace-raw-7');
  });
});

describe('Anthropic errors', () => {
  test('a body that is not JSON is a 400 BadRequestError of type invalid_request_error', async () => {
    const broken = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-test', maxRetries: 0, fetch: brokenJsonFetch });
    const error = await rejection(broken.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }), Anthropic.BadRequestError);
    assert.equal(error.type, 'invalid_request_error');
    const wire = await raw(MESSAGES, '{"model": "claude', ANTHROPIC_HEADERS);
    assert.equal(wire.status, 400);
    assertAnthropicShape(wire, 'invalid_request_error');
  });

  test('a request without messages is a 400 saying messages: Field required', async () => {
    const error = await rejection(anthropic.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64 } as any), Anthropic.BadRequestError);
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.apiMessage, 'messages: Field required');
    const wire = await raw(MESSAGES, { model: 'claude-sonnet-5-5', max_tokens: 64 }, ANTHROPIC_HEADERS);
    assert.equal(wire.status, 400);
    assertAnthropicShape(wire, 'invalid_request_error');
    assert.equal(wire.body.error.message, 'messages: Field required');
  });

  test('messages given as a string is a 400 that names the messages field', async () => {
    const error = await rejection(anthropic.messages.create({ ...messagesBody, messages: 'hi' as any }), Anthropic.BadRequestError);
    assert.match(error.apiMessage ?? '', /^messages: /);
    const wire = await raw(MESSAGES, { ...messagesBody, messages: 'hi' }, ANTHROPIC_HEADERS);
    assert.equal(wire.status, 400);
    assertAnthropicShape(wire, 'invalid_request_error');
    assert.match(wire.body.error.message, /^messages: .*list/);
  });

  test('an unknown role is a 400 that names messages.0.role', async () => {
    const bad = { ...messagesBody, messages: [{ role: 'bot', content: 'hi' }] };
    const error = await rejection(anthropic.messages.create(bad as any), Anthropic.BadRequestError);
    assert.match(error.apiMessage ?? '', /^messages\.0\.role: /);
    const wire = await raw(MESSAGES, bad, ANTHROPIC_HEADERS);
    assert.equal(wire.status, 400);
    assertAnthropicShape(wire, 'invalid_request_error');
    assert.match(wire.body.error.message, /^messages\.0\.role: .*'user'/);
  });

  test('an unknown path under /v1/messages/ is a 404 in the Anthropic shape', async () => {
    const error = await rejection(anthropic.post('/v1/messages/no-such-thing', { body: {} }), Anthropic.NotFoundError);
    assert.equal(error.type, 'not_found_error');
    const wire = await raw('/v1/messages/no-such-thing', {});
    assert.equal(wire.status, 404);
    assertAnthropicShape(wire, 'not_found_error');
  });

  test('an unknown path with an anthropic-version header is a 404 in the Anthropic shape, and without it in the OpenAI shape', async () => {
    const error = await rejection(anthropic.post('/v1/x', { body: {} }), Anthropic.NotFoundError);
    assert.equal(error.type, 'not_found_error');
    const withVersion = await raw('/v1/x', {}, { 'anthropic-version': '2023-06-01' });
    assert.equal(withVersion.status, 404);
    assertAnthropicShape(withVersion, 'not_found_error');
    const without = await raw('/v1/x', {});
    assert.equal(without.status, 404);
    assertOpenAiShape(without.body, { param: null, code: null });
  });

  test('a body over settings.body_limit_bytes is a 413 ContentTooLargeError of type request_too_large', async () => {
    const big = 'x'.repeat(BODY_LIMIT * 2);
    const error = await rejection(
      anthropic.messages.create({ ...messagesBody, messages: [{ role: 'user', content: big }] }),
      Anthropic.ContentTooLargeError,
    );
    assert.equal(error.status, 413);
    assert.equal(error.type, 'request_too_large');
    const wire = await raw(MESSAGES, { ...messagesBody, messages: [{ role: 'user', content: big }] }, ANTHROPIC_HEADERS);
    assert.equal(wire.status, 413);
    assertAnthropicShape(wire, 'request_too_large');
  });

  test('errors carry request-id and x-request-id headers equal to the body request_id, echoing the client x-request-id', async () => {
    const generated = await rejection(anthropic.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64 } as any), Anthropic.BadRequestError);
    assert.match(generated.requestID ?? '', /^req_011C/);
    assert.equal((generated.error as Json).request_id, generated.requestID);
    const echoed = await rejection(
      anthropic.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64 } as any, { headers: { 'x-request-id': 'trace-anthropic-42' } }),
      Anthropic.BadRequestError,
    );
    assert.equal(echoed.requestID, 'trace-anthropic-42');
    const wire = await raw(MESSAGES, { model: 'claude-sonnet-5-5' }, { ...ANTHROPIC_HEADERS, 'x-request-id': 'trace-raw-9' });
    assert.equal(wire.status, 400);
    assert.equal(wire.headers.get('x-request-id'), 'trace-raw-9');
    assert.equal(wire.headers.get('request-id'), 'trace-raw-9');
    assert.equal(wire.body.request_id, 'trace-raw-9');
  });
});

test('after every kind of rejection the server still answers both providers', async () => {
  const chat = await openai.chat.completions.create(chatBody as OpenAI.ChatCompletionCreateParamsNonStreaming);
  assert.equal(chat.choices[0]!.message.content, HI);
  const message = await anthropic.messages.create(messagesBody as Anthropic.MessageCreateParamsNonStreaming);
  assert.deepEqual(message.content, [{ type: 'text', text: HI }]);
});
