// The library's `redis` option: mocks started from code in one process share their state through
// Redis as CLI replicas do, the dashboard's live stream on one shows what another served, and a
// mock started while Redis is away starts anyway and catches up once it answers.
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startMockLLM, type MockLLM } from '../../src/library.ts';
import { admin } from '../helpers/admin.ts';
import { withDeadline } from '../helpers/deadline.ts';
import { eventually } from '../helpers/poll.ts';
import { RedisServer, freePort, redisMissing } from './support/redis.ts';
import { freshPrefix } from './support/replicas.ts';

const CONFIG = { responses: { ping: 'pong' }, defaults: { unknown_response: "I don't know." } };

/** A TCP proxy to Redis that holds every chunk, each way, for `delayMs`: a slow Redis (or network). */
async function slowProxy(port: number, delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const relay = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), delayMs));
    from.on('close', () => setTimeout(() => to.destroy(), delayMs));
    from.on('error', () => {});
  };
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

async function ask(mock: MockLLM, prompt: string): Promise<string> {
  const client = new OpenAI({ baseURL: mock.openaiBaseURL, apiKey: 'test', maxRetries: 0 });
  const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] });
  return completion.choices[0]!.message.content ?? '';
}

describe('the library option redis', { skip: redisMissing }, () => {
  let redis: RedisServer;
  const mocks: MockLLM[] = [];

  before(async () => {
    redis = await RedisServer.start();
  });

  after(async () => {
    await Promise.all(mocks.map((mock) => mock.close()));
    await redis?.stop();
  });

  test('two mocks in one process share rules, the journal and reset()', async () => {
    const prefix = freshPrefix();
    const [a, b] = await Promise.all([startMockLLM({ config: CONFIG, redis: { url: redis.url, prefix } }), startMockLLM({ config: CONFIG, redis: `${redis.url}` })]);
    mocks.push(a, b);
    // b uses the default prefix: it must not see a's state.
    const c = await startMockLLM({ config: CONFIG, redis: { url: redis.url, prefix } });
    mocks.push(c);
    await a.addRule({ id: 'shared', prompt: 'shared?', response: 'yes' });
    await eventually(async () => (await ask(c, 'shared?')) === 'yes', { what: 'the rule on the mock with the same prefix' });
    assert.equal(await ask(b, 'shared?'), "I don't know.", 'another prefix is another mock');
    await eventually(async () => (await c.requests({ ruleId: 'shared' })).length === 1, { what: "c's request in the shared journal" });
    const [served] = await a.requests({ ruleId: 'shared' });
    assert.equal(served?.prompt, 'shared?');
    await c.reset();
    await eventually(async () => (await ask(a, 'shared?')) === "I don't know.", { what: 'the reset on a' });
    // The journal was emptied: what is left are the polls made since.
    assert.ok((await a.requests()).every((entry) => entry.seq > served!.seq));
  });

  test("the live request stream of one mock shows what another served", async () => {
    const prefix = freshPrefix();
    const [a, b] = await Promise.all([startMockLLM({ config: CONFIG, redis: { url: redis.url, prefix } }), startMockLLM({ config: CONFIG, redis: { url: redis.url, prefix } })]);
    mocks.push(a, b);
    const controller = new AbortController();
    const res = await fetch(`${b.url}/admin/requests/stream`, { signal: controller.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const seen = (async () => {
      while (!text.includes('"prompt":"streamed from a"')) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended: ${text}`);
        text += value;
      }
    })();
    await ask(a, 'streamed from a');
    try {
      await withDeadline(seen, 15_000, "a's request on b's stream");
    } finally {
      controller.abort();
    }
    assert.match(text, /event: request/);
  });

  test('a slow Redis (200 ms per round trip) slows sequence steps and admin writes, not other provider requests', async () => {
    const proxy = await slowProxy(redis.port, 100);
    const mock = await startMockLLM({ config: CONFIG, redis: { url: proxy.url, prefix: freshPrefix() } });
    try {
      const writeStarted = performance.now();
      await mock.addRule({ id: 'slow-steps', match: { contains: 'slow step' }, response: { sequence: ['one', 'two'] } });
      // Read, then compare-and-set: two round trips, and acknowledged only once stored (under the 1 s deadline).
      assert.ok(performance.now() - writeStarted >= 390, `admin write: ${(performance.now() - writeStarted).toFixed(0)} ms`);
      const timed = async (prompt: string) => {
        const started = performance.now();
        const text = await ask(mock, prompt);
        return { text, ms: performance.now() - started };
      };
      await timed('ping');
      const plain: number[] = [];
      for (let i = 0; i < 9; i++) {
        const { text, ms } = await timed('ping');
        assert.equal(text, 'pong');
        plain.push(ms);
      }
      const first = await timed('slow step');
      const second = await timed('slow step');
      assert.deepEqual([first.text, second.text], ['one', 'two'], 'the steps were counted in Redis, in order');
      // A sequence step waits for Redis's count (one round trip, 200 ms here); nothing else does.
      assert.ok(first.ms >= 190 && second.ms >= 190, `sequence steps: ${first.ms.toFixed(0)} and ${second.ms.toFixed(0)} ms`);
      assert.ok(median(plain) < 190, `plain requests: median ${median(plain).toFixed(0)} ms (${plain.map((ms) => ms.toFixed(0)).join(', ')})`);
      assert.equal((await admin(mock, 'GET', '/readyz')).body.state.backend.countingLocally, false);
    } finally {
      await mock.close();
      await proxy.close();
    }
  });

  test('a mock started while Redis is away starts degraded, serves its file, and catches up once Redis answers', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const mock = await startMockLLM({ config: CONFIG, redis: url });
    mocks.push(mock);
    assert.equal(await ask(mock, 'ping'), 'pong');
    const down = await admin(mock, 'GET', '/readyz');
    assert.equal(down.status, 200);
    assert.equal(down.body.status, 'degraded');
    assert.equal(down.body.state.backend.connected, false);
    await assert.rejects(mock.addRule({ prompt: 'later?', response: 'now' }), (error: Error & { code?: string }) => error.name === 'MockLLMError' && error.code === 'unavailable' && /unreachable/.test(error.message));

    const late = await RedisServer.startOnPort(port);
    try {
      await eventually(async () => (await admin(mock, 'GET', '/readyz')).body.state.backend.connected === true, { what: 'the mock to connect' });
      await mock.addRule({ prompt: 'later?', response: 'now' });
      assert.equal(await ask(mock, 'later?'), 'now');
    } finally {
      await mock.close();
      await late.stop();
    }
  });
});
