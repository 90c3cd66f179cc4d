// Clients that hang up mid-stream and clients that read very slowly. After 500 abandoned streams
// the server holds no stream, timer, socket or listener it did not hold before, and its memory is
// back near where it was; a reader that stops reading stalls the stream (backpressure) instead of
// making the server buffer the answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { PROVIDERS } from '../../src/providers/index.ts';
import { eventually, parseSse, startTestServer, type TestServer } from '../helpers/server.ts';
import { withDeadline } from '../helpers/deadline.ts';
import { collectGarbage } from '../helpers/gc.ts';
import { activeResources, gauge, rawRequest, scrapeMetrics } from './support.ts';

const gc = collectGarbage;

// ~400 words at 5 ms a chunk: about 2 s if read to the end, so every client hangs up mid-way.
const SLOW = Array.from({ length: 400 }, (_, i) => `slow${i}`).join(' ');
// ~700 KB in 100,000 words and no delay: about 17 MB of SSE, far more than socket buffers hold.
const HUGE = Array.from({ length: 100_000 }, (_, i) => `h${String(i).padStart(5, '0')}`).join(' ');

const CONFIG = `rules:
  - id: slow
    match: {prompt: "slow please"}
    response: {text: ${JSON.stringify(SLOW)}, chunking: word, latency: {chunk_delay_ms: 5}}
  - id: huge
    match: {prompt: "huge please"}
    response: {text: ${JSON.stringify(HUGE)}, chunking: word}
  - id: short
    match: {prompt: "short please"}
    response: {text: "Short and complete.", chunking: whole}
`;

const REGISTERED = new Set(PROVIDERS.flatMap((p) => p.routes.map((r) => r.path)));
interface Target {
  path: string;
  headers: Record<string, string>;
  body(content: string): unknown;
}
const ALL_TARGETS: Target[] = [
  { path: '/v1/chat/completions', headers: {}, body: (content: string) => ({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content }] }) },
  { path: '/v1/messages', headers: { 'anthropic-version': '2023-06-01' }, body: (content: string) => ({ model: 'claude-sonnet-4-5', max_tokens: 4096, stream: true, messages: [{ role: 'user', content }] }) },
  { path: '/v1/responses', headers: {}, body: (content: string) => ({ model: 'gpt-4.1', stream: true, input: content }) },
];
const TARGETS = ALL_TARGETS.filter((t) => REGISTERED.has(t.path));

let server: TestServer;

before(async () => {
  server = await startTestServer(CONFIG);
});
after(async () => {
  await server?.stop();
});

type AbortPlan = { when: 'at-once' } | { when: 'on-headers' } | { when: 'after-bytes'; bytes: number };

/** A streaming request that hangs up as planned; resolves once its socket is closed. */
function abortingClient(target: Target, prompt: string, plan: AbortPlan): Promise<number> {
  const url = new URL(server.url);
  const body = JSON.stringify(target.body(prompt));
  return withDeadline(
    new Promise<number>((resolve) => {
      let received = 0;
      const req = request({
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: target.path,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...target.headers },
      });
      req.on('error', () => undefined); // the abort itself
      req.on('close', () => resolve(received));
      req.on('response', (res: IncomingMessage) => {
        res.on('error', () => undefined);
        if (plan.when === 'on-headers') return void req.destroy();
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (plan.when === 'after-bytes' && received >= plan.bytes) req.destroy();
        });
      });
      req.end(body);
      if (plan.when === 'at-once') setImmediate(() => req.destroy());
    }),
    15_000,
    `a client aborting ${target.path} (${plan.when})`,
  );
}

/** Runs `count` tasks with at most `width` at a time. */
async function pool(count: number, width: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await task(next++);
  }));
}

async function connections(): Promise<number> {
  return new Promise((resolve, reject) => server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

function listenerCounts(emitter: NodeJS.EventEmitter): Record<string, number> {
  return Object.fromEntries(emitter.eventNames().map((name) => [String(name), emitter.listenerCount(name)]));
}

/** A full stream of the short answer, read to the end: the server is still serving correctly. */
async function completeStream(target: Target): Promise<string> {
  const res = await rawRequest(server.url, {
    method: 'POST',
    path: target.path,
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify(target.body('short please')),
  });
  assert.equal(res.status, 200);
  return res.text;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** Reads what is buffered (at most `max` bytes when that much is there), waiting for data if none is. */
async function readSome(res: IncomingMessage, max: number): Promise<Buffer> {
  for (;;) {
    const chunk = (res.read(max) ?? res.read()) as Buffer | null;
    if (chunk) return chunk;
    await withDeadline(new Promise((resolve) => res.once('readable', resolve)), 15_000, 'readable data');
  }
}

describe('500 clients hanging up mid-stream', () => {
  test('leave no active stream, timer, socket, connection or listener behind, and memory returns near its baseline', async (t) => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      // Warm up (tokenizer tables, caches, the allocator's pools) with 100 aborted streams, then take
      // the baseline: a leak grows with every client, a warm allocator does not.
      for (const target of TARGETS) await completeStream(target);
      await pool(100, 100, (i) => abortingClient(TARGETS[i % TARGETS.length]!, i % 10 === 0 ? 'huge please' : 'slow please', { when: 'after-bytes', bytes: 1000 + ((i * 7919) % (i % 10 === 0 ? 100_000 : 10_000)) }));
      await eventually(async () => gauge(await scrapeMetrics(server.url), 'mockllm_active_streams') === 0, { what: 'no active stream before the run' });
      gc();
      const baseline = { resources: activeResources(), memory: process.memoryUsage(), server: listenerCounts(server.server), process: listenerCounts(process) };

      let seed = 12345;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const plans: AbortPlan[] = [];
      let receivedTotal = 0;
      const wave = (offset: number) =>
        pool(250, 250, async (j) => {
          const i = offset + j;
          const target = TARGETS[i % TARGETS.length]!;
          const huge = i % 10 === 0;
          const roll = random();
          const plan: AbortPlan = roll < 0.1 ? { when: 'at-once' } : roll < 0.2 ? { when: 'on-headers' } : { when: 'after-bytes', bytes: 1 + Math.floor(random() * (huge ? 100_000 : 10_000)) };
          plans.push(plan);
          const received = await abortingClient(target, huge ? 'huge please' : 'slow please', plan);
          receivedTotal += received;
        });
      // Two waves of 250: memory after the second must be where the first left it (a leak grows per client).
      const t0 = performance.now();
      await wave(0);
      gc();
      const middle = process.memoryUsage();
      const t1 = performance.now();
      await wave(250);
      const t2 = performance.now();

      await eventually(async () => gauge(await scrapeMetrics(server.url), 'mockllm_active_streams') === 0, { timeoutMs: 10_000, what: 'mockllm_active_streams back to 0' });
      await eventually(async () => (await connections()) === 0, { timeoutMs: 10_000, what: 'no open connection on the server' });
      for (const type of ['Timeout', 'TCPSocketWrap', 'TCPWRAP']) {
        await eventually(() => (activeResources().get(type) ?? 0) <= (baseline.resources.get(type) ?? 0), {
          timeoutMs: 10_000,
          what: `${type} handles back to ${baseline.resources.get(type) ?? 0} (now ${activeResources().get(type) ?? 0})`,
        });
      }
      assert.deepEqual(listenerCounts(server.server), baseline.server, 'listeners on the http.Server');
      assert.deepEqual(listenerCounts(process), { ...baseline.process, warning: (baseline.process.warning ?? 0) }, 'listeners on process');
      assert.deepEqual(warnings, [], 'no MaxListenersExceededWarning or other process warning');

      const t3 = performance.now();
      t.diagnostic(`waves ${Math.round(t1 - t0)} + ${Math.round(t2 - t1)} ms, clean-up seen after ${Math.round(t3 - t2)} ms`);
      // The server is still answering, completely and correctly.
      for (const target of TARGETS) {
        const text = await completeStream(target);
        assert.ok(parseSse(text).length > 2);
        assert.ok(text.includes('Short'), text.slice(0, 200));
      }
      await eventually(async () => gauge(await scrapeMetrics(server.url), 'mockllm_active_streams') === 0, { what: 'no active stream after the check' });

      gc();
      const now = process.memoryUsage();
      const heapGrowth = now.heapUsed - baseline.memory.heapUsed;
      const rssGrowth = now.rss - baseline.memory.rss;
      const secondWaveRss = now.rss - middle.rss;
      t.diagnostic(
        `aborted: ${plans.filter((p) => p.when === 'at-once').length} at once, ${plans.filter((p) => p.when === 'on-headers').length} on headers, ` +
          `${plans.filter((p) => p.when === 'after-bytes').length} after 1–100,000 bytes; ${Math.round(receivedTotal / 1024)} KB received in all; ` +
          `heap used ${mb(baseline.memory.heapUsed)} → ${mb(middle.heapUsed)} → ${mb(now.heapUsed)} MB, ` +
          `RSS ${mb(baseline.memory.rss)} → ${mb(middle.rss)} → ${mb(now.rss)} MB (heap reserved ${mb(baseline.memory.heapTotal)} → ${mb(now.heapTotal)} MB)`,
      );
      // The live heap is back where it was (the journal and metric series are full from the start).
      // RSS grows while V8 enlarges its reserved heap under the allocation rate, which it keeps; the
      // bounds are generous, but a leak of one stream's buffers per client (100+ KB × 500) is not
      // within them, and the second wave must not add what the first did.
      assert.ok(heapGrowth < 30 * 1024 * 1024, `heap used grew by ${mb(heapGrowth)} MB after GC`);
      assert.ok(secondWaveRss < 150 * 1024 * 1024, `RSS grew by ${mb(secondWaveRss)} MB during the second wave of 250`);
      assert.ok(rssGrowth < 350 * 1024 * 1024, `RSS grew by ${mb(rssGrowth)} MB`);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('a client that reads very slowly', () => {
  test('stalls the stream (the server socket buffer stays bounded, no progress while unread), then gets the whole answer when it reads', async (t) => {
    const target = TARGETS[0]!;
    const serverSockets: Socket[] = [];
    const onConnection = (socket: Socket) => serverSockets.push(socket);
    server.server.on('connection', onConnection);
    const url = new URL(server.url);
    const body = JSON.stringify(target.body('huge please'));
    let res!: IncomingMessage;
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path: target.path, agent: false, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } });
    try {
      res = await withDeadline(new Promise<IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject).end(body)), 15_000, 'the response headers');
      res.pause();
      assert.equal(res.statusCode, 200);
      const socket = (await eventually(() => serverSockets[0], { what: 'the server-side socket' }))!;
      gc();
      const heapBefore = process.memoryUsage().heapUsed;

      // Unread: the server writes until the kernel buffers are full, then stops.
      let last = -1;
      let stalledAt = 0;
      await eventually(
        () => {
          const written = socket.bytesWritten;
          const stalled = written === last;
          last = written;
          if (stalled) stalledAt = written;
          return stalled;
        },
        { timeoutMs: 10_000, intervalMs: 250, what: 'the stream to stall while unread' },
      );
      const maxBuffered = socket.writableLength;
      assert.equal(gauge(await scrapeMetrics(server.url), 'mockllm_active_streams'), 1, 'the stream is waiting, not ended');
      // Tens of MB of SSE in all; the server got no further than what the socket buffers hold.
      assert.ok(stalledAt < 16 * 1024 * 1024, `the server wrote ${mb(stalledAt)} MB to a client that read nothing`);
      assert.ok(maxBuffered <= 1024 * 1024, `the server buffers ${maxBuffered} bytes in user space for the unread socket`);
      t.diagnostic(`stalled after ${stalledAt} bytes written (of about ${mb(17 * 1024 * 1024)} MB), ${maxBuffered} bytes buffered in the server`);

      // A trickle: 4 KB at a time. The server writes only about as much as the client took (plus
      // what the kernel's buffers absorb as they grow), and buffers no more in user space.
      const chunks: Buffer[] = [];
      let consumed = 0;
      // Each wait for 'drain' adds a listener to the server's socket (beside Node's own): it must be
      // removed again, or a slow reader would pile them up.
      const listenersAtStall = listenerCounts(socket);
      for (let i = 0; i < 10; i++) {
        const chunk = await readSome(res, 4096);
        chunks.push(chunk);
        consumed += chunk.length;
        assert.ok(socket.writableLength <= 1024 * 1024, `buffered ${socket.writableLength} bytes while trickling`);
        assert.ok(socket.listenerCount('drain') <= (listenersAtStall.drain ?? 0), `${socket.listenerCount('drain')} drain listeners on the socket`);
      }
      let again = -1;
      await eventually(
        () => {
          const written = socket.bytesWritten;
          const stalled = written === again;
          again = written;
          return stalled;
        },
        { timeoutMs: 10_000, intervalMs: 250, what: 'the stream to stall again' },
      );
      assert.deepEqual(listenerCounts(socket), listenersAtStall, 'listeners on the server socket after the trickle');
      const progress = again - stalledAt;
      assert.ok(progress <= consumed + 4 * 1024 * 1024, `after the client took ${consumed} bytes the server wrote ${progress} more`);
      gc();
      const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
      assert.ok(heapGrowth < 20 * 1024 * 1024, `heap grew by ${mb(heapGrowth)} MB while the client read slowly`);
      t.diagnostic(`trickle: the client took ${consumed} bytes, the server wrote ${progress} more`);

      // Now read everything: the answer is complete and exact.
      const ended = new Promise<void>((resolve) => res.on('end', resolve));
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.resume();
      await withDeadline(ended, 30_000, 'the rest of the stream');
      const frames = parseSse(Buffer.concat(chunks).toString('utf8'));
      assert.equal(frames.at(-1)!.data, '[DONE]');
      const text = frames
        .filter((f) => f.data !== '[DONE]')
        .map((f) => (JSON.parse(f.data) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
        .join('');
      assert.equal(text.length, HUGE.length);
      assert.ok(text === HUGE, 'the slowly read stream carried the exact answer');
      t.diagnostic(`then read ${mb(Buffer.concat(chunks).length)} MB of SSE to the end`);
      await eventually(async () => gauge(await scrapeMetrics(server.url), 'mockllm_active_streams') === 0, { what: 'the stream to end' });
    } finally {
      server.server.off('connection', onConnection);
      req.destroy();
    }
  });
});
