import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { post, startTestServer } from '../helpers/server.ts';

test('an unexpected failure answers 500 with the request id, logs the stack, and the next request is served', async () => {
  const server = await startTestServer();
  try {
    // Break the rule store for exactly one read, as a bug deep in the engine would.
    const store = server.store;
    const proto = Object.getPrototypeOf(store) as object;
    const real = Object.getOwnPropertyDescriptor(proto, 'current')!;
    let broken = true;
    Object.defineProperty(store, 'current', {
      configurable: true,
      get() {
        if (broken) {
          broken = false;
          throw new Error('simulated engine failure');
        }
        return real.get!.call(store);
      },
    });

    const res = await post(`${server.url}/v1/chat/completions`, { model: 'gpt-4o', messages: [{ role: 'user', content: 'what is 2+2?' }] }, { 'x-request-id': 'req-from-client-1' });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('x-request-id'), 'req-from-client-1');
    const body = (await res.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'server_error');
    assert.match(body.error.message, /req-from-client-1/);

    const failure = server.logs.find((l) => l.msg === 'unexpected error while answering');
    assert.ok(failure, 'the failure is logged');
    assert.equal(failure.level, 50);
    assert.equal(failure.requestId, 'req-from-client-1');
    assert.match(String((failure.err as { stack?: string }).stack), /simulated engine failure/);
    const line = server.logs.find((l) => l.msg === 'request' && l.requestId === 'req-from-client-1');
    assert.equal(line?.status, 500);

    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const next = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'what is 2+2?' }] });
    assert.equal(next.choices[0]!.message.content, '2+2 equals 9.');
  } finally {
    await server.stop();
  }
});

test('every answered request is logged once with its route, status, duration, provider, model and matched rule', async () => {
  const server = await startTestServer();
  try {
    await post(`${server.url}/v1/messages`, { model: 'claude-x', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'what is 2+2?' }] }, { 'x-request-id': 'log-check-1' }).then((r) => r.text());
    const lines = server.logs.filter((l) => l.requestId === 'log-check-1' && l.msg === 'request');
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    assert.equal(line.method, 'POST');
    assert.equal(line.route, '/v1/messages');
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, 'number');
    assert.equal(line.provider, 'anthropic');
    assert.equal(line.model, 'claude-x');
    assert.equal(line.matched, true);
    assert.match(String(line.ruleId), /^file-/);
    assert.equal(line.stream, true);
    assert.equal(line.streamOutcome, 'completed');
    assert.equal(line.chunks, [...'2+2 equals 9.'].length);
  } finally {
    await server.stop();
  }
});
