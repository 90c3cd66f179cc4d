// Error rules as the SDKs see them: each provider's status → class and type, the retry-after
// headers driving the SDKs' own retry logic (a sequence of a 429 then a success), custom type and
// code overrides, and errors on stream requests arriving before any SSE.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { journalOf } from './support.ts';

const OPENAI_MODEL = 'gpt-4o-mini';
const ANTHROPIC_MODEL = 'claude-sonnet-5-5';
const RECOVERED = 'Recovered after one retry.';

/** One fresh sequence rule per test, so no test depends on another's progress. */
const flaky = (id: string, status: number) => `
  - id: ${id}
    match: {prompt: ${id}}
    response:
      sequence:
        - error: {status: ${status}, retry_after: 0.05}
        - ${JSON.stringify(RECOVERED)}`;

const CONFIG = `
rules:${flaky('flaky-openai-retry', 429)}${flaky('flaky-openai-no-retry', 429)}${flaky('flaky-anthropic-retry', 429)}${flaky('flaky-anthropic-no-retry', 429)}${flaky('overloaded-then-ok', 529)}
  - id: quota
    match: {contains: quota}
    response: {error: {status: 429, type: insufficient_quota, code: insufficient_quota, message: "You exceeded your current quota."}}
  - id: overloaded
    match: {contains: overloaded}
    response: {error: {status: 529}}
  - id: unavailable
    match: {contains: unavailable}
    response: {error: {status: 503, retry_after: 2}}
  - id: internal
    match: {contains: internal}
    response: {error: {status: 500, message: "Boom from a rule."}}
  - id: forbidden
    match: {contains: forbidden}
    response: {error: {status: 403}}
defaults:
  unknown_response: "no rule matched"
`;

let server: TestServer;

before(async () => {
  server = await startTestServer(CONFIG);
});

after(async () => {
  await server?.stop();
});

/** When each request the SDK made was sent and answered (headers in), to time the SDK's own wait. */
interface Exchange {
  sent: number;
  answered?: number;
}

const recordingFetch = (exchanges: Exchange[]): typeof fetch => async (input, init) => {
  const exchange: Exchange = { sent: performance.now() };
  exchanges.push(exchange);
  const res = await fetch(input, init);
  exchange.answered = performance.now();
  return res;
};

const openai = (maxRetries: number, exchanges: Exchange[] = []) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-errors', maxRetries, fetch: recordingFetch(exchanges) });
const anthropic = (maxRetries: number, exchanges: Exchange[] = []) => new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-errors', maxRetries, fetch: recordingFetch(exchanges) });

/**
 * The SDK's pause between the 429 and its retry. retry-after says 1 s (whole seconds) and
 * retry-after-ms 50: a pause of at least 50 ms but well under the second shows which one it used,
 * whatever the two round trips around it cost on a loaded machine.
 */
function assertWaitedRetryAfterMs(exchanges: Exchange[]): void {
  assert.equal(exchanges.length, 2, 'one request and one retry');
  const pause = exchanges[1]!.sent - exchanges[0]!.answered!;
  assert.ok(pause >= 45, `the SDK retried ${pause.toFixed(0)} ms after the 429, before retry-after-ms (50)`);
  assert.ok(pause < 1000, `the SDK retried ${pause.toFixed(0)} ms after the 429: it waited the whole second of retry-after, not the 50 ms of retry-after-ms`);
}

async function openaiError(prompt: string, options: { stream?: boolean } = {}): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await openai(0).chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: prompt }], stream: options.stream ?? false });
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, `expected an APIError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${prompt} was answered; expected an error`);
}

async function anthropicError(prompt: string, options: { stream?: boolean } = {}): Promise<InstanceType<typeof Anthropic.APIError>> {
  try {
    await anthropic(0).messages.create({ model: ANTHROPIC_MODEL, max_tokens: 100, messages: [{ role: 'user', content: prompt }], stream: options.stream ?? false });
  } catch (error) {
    assert.ok(error instanceof Anthropic.APIError, `expected an APIError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${prompt} was answered; expected an error`);
}

describe('retries driven by a 429-then-success sequence', () => {
  test('the openai SDK with maxRetries: 1 retries after retry-after-ms and gets the success', async () => {
    const exchanges: Exchange[] = [];
    const { data, response } = await openai(1, exchanges).chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'flaky-openai-retry' }] }).withResponse();
    assert.equal(data.choices[0]!.message.content, RECOVERED);
    assert.equal(response.headers.get('x-mockllm-match'), 'flaky-openai-retry');
    const calls = await journalOf(server, 'flaky-openai-retry');
    assert.deepEqual(calls.map((c) => [c.status, c.step]), [[429, 0], [200, 1]]);
    assertWaitedRetryAfterMs(exchanges);
  });

  test('the openai SDK with maxRetries: 0 throws RateLimitError carrying retry-after and retry-after-ms', async () => {
    const error = await openaiError('flaky-openai-no-retry');
    assert.ok(error instanceof OpenAI.RateLimitError);
    assert.equal(error.status, 429);
    assert.equal(error.headers?.get('retry-after'), '1');
    assert.equal(error.headers?.get('retry-after-ms'), '50');
    assert.equal(error.type, 'requests');
    assert.equal(error.code, 'rate_limit_exceeded');
    assert.deepEqual((await journalOf(server, 'flaky-openai-no-retry')).map((c) => c.status), [429]);
    // The sequence moved on: the next call is the success (and stays it: repeat_last).
    const next = await openai(0).chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'flaky-openai-no-retry' }] });
    assert.equal(next.choices[0]!.message.content, RECOVERED);
  });

  test('the Anthropic SDK with maxRetries: 1 retries and gets the success', async () => {
    const exchanges: Exchange[] = [];
    const { data, response } = await anthropic(1, exchanges).messages.create({ model: ANTHROPIC_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'flaky-anthropic-retry' }] }).withResponse();
    assert.deepEqual(data.content, [{ type: 'text', text: RECOVERED }]);
    assert.equal(response.headers.get('x-mockllm-match'), 'flaky-anthropic-retry');
    const calls = await journalOf(server, 'flaky-anthropic-retry');
    assert.deepEqual(calls.map((c) => [c.provider, c.status, c.step]), [['anthropic', 429, 0], ['anthropic', 200, 1]]);
    assertWaitedRetryAfterMs(exchanges);
  });

  test('the Anthropic SDK with maxRetries: 0 throws RateLimitError of type rate_limit_error with retry headers', async () => {
    const error = await anthropicError('flaky-anthropic-no-retry');
    assert.ok(error instanceof Anthropic.RateLimitError);
    assert.equal(error.status, 429);
    assert.equal(error.type, 'rate_limit_error');
    assert.equal(error.headers?.get('retry-after'), '1');
    assert.equal(error.headers?.get('retry-after-ms'), '50');
    assert.match(error.requestID ?? '', /^req_/);
  });

  test('a 529 is retried by the Anthropic SDK like any overload', async () => {
    const message = await anthropic(1).messages.create({ model: ANTHROPIC_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'overloaded-then-ok' }] });
    assert.deepEqual(message.content, [{ type: 'text', text: RECOVERED }]);
    assert.deepEqual((await journalOf(server, 'overloaded-then-ok')).map((c) => c.status), [529, 200]);
  });
});

describe('status, class and type per provider', () => {
  test('Anthropic 529 is an OverloadedError of type overloaded_error', async () => {
    const error = await anthropicError('overloaded');
    assert.ok(error instanceof Anthropic.OverloadedError, `got ${error.constructor.name}`);
    assert.equal(error.status, 529);
    assert.equal(error.type, 'overloaded_error');
    assert.equal((error.error as { error: { message: string } }).error.message, 'Overloaded');
  });

  test('OpenAI 503 and 500 are InternalServerErrors of type server_error', async () => {
    const unavailable = await openaiError('unavailable');
    assert.ok(unavailable instanceof OpenAI.InternalServerError);
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.type, 'server_error');
    assert.equal(unavailable.headers?.get('retry-after'), '2');
    assert.equal(unavailable.headers?.get('retry-after-ms'), '2000');
    const internal = await openaiError('internal');
    assert.ok(internal instanceof OpenAI.InternalServerError);
    assert.equal(internal.status, 500);
    assert.equal(internal.type, 'server_error');
    assert.match(internal.message, /Boom from a rule\./);
  });

  test('Anthropic 500 and 503 are InternalServerErrors; 500 is api_error', async () => {
    const internal = await anthropicError('internal');
    assert.ok(internal instanceof Anthropic.InternalServerError);
    assert.equal(internal.status, 500);
    assert.equal(internal.type, 'api_error');
    const unavailable = await anthropicError('unavailable');
    assert.equal(unavailable.status, 503);
    assert.ok(unavailable instanceof Anthropic.InternalServerError);
  });

  test('403 is PermissionDenied in both SDKs', async () => {
    const o = await openaiError('forbidden');
    assert.ok(o instanceof OpenAI.PermissionDeniedError);
    const a = await anthropicError('forbidden');
    assert.ok(a instanceof Anthropic.PermissionDeniedError);
    assert.equal(a.type, 'permission_error');
  });

  test('a rule\'s type and code replace the provider\'s defaults (insufficient_quota)', async () => {
    const o = await openaiError('out of quota');
    assert.ok(o instanceof OpenAI.RateLimitError);
    assert.equal(o.type, 'insufficient_quota');
    assert.equal(o.code, 'insufficient_quota');
    assert.match(o.message, /You exceeded your current quota\./);
    assert.equal(o.headers?.get('retry-after'), null, 'no retry_after configured, no header');
    const a = await anthropicError('out of quota');
    assert.equal(a.status, 429);
    assert.equal(a.type, 'insufficient_quota');
  });

  test('error bodies have each provider\'s exact shape', async () => {
    const o = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, messages: [{ role: 'user', content: 'internal' }] });
    assert.equal(o.status, 500);
    assert.match(o.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await o.json(), { error: { message: 'Boom from a rule.', type: 'server_error', param: null, code: null } });
    const a = await post(`${server.url}/v1/messages`, { model: ANTHROPIC_MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'internal' }] }, { 'anthropic-version': '2023-06-01' });
    assert.equal(a.status, 500);
    const body = (await a.json()) as Record<string, unknown>;
    assert.deepEqual(body, { type: 'error', error: { type: 'api_error', message: 'Boom from a rule.' }, request_id: a.headers.get('request-id') });
  });

  test('an error rule answers a stream request with the HTTP error, not an event stream', async () => {
    const o = await openaiError('overloaded', { stream: true });
    assert.equal(o.status, 529);
    const a = await anthropicError('overloaded', { stream: true });
    assert.ok(a instanceof Anthropic.OverloadedError);
    const raw = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, stream: true, messages: [{ role: 'user', content: 'overloaded' }] });
    assert.equal(raw.status, 529);
    assert.match(raw.headers.get('content-type') ?? '', /^application\/json/);
  });
});
