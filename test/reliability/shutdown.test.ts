// Graceful shutdown of the real CLI (`node src/cli.ts`): on SIGTERM readiness turns 503 at once,
// the listener closes (new connections are refused), streams in flight run to their end within
// the grace period or are cut when it runs out, and the process exits 0; a second signal exits at
// once with 130.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { request, type IncomingMessage } from 'node:http';
import { eventually, parseSse } from '../helpers/server.ts';
import { startCli as startServingCli } from '../helpers/cli.ts';
import { withDeadline } from '../helpers/deadline.ts';

// 40 words at 25 ms each: a stream takes about a second.
const SLOW = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
// 400 words at 25 ms: ten seconds, longer than any grace period used here.
const VERY_SLOW = Array.from({ length: 400 }, (_, i) => `v${i}`).join(' ');
const CONFIG = `rules:
  - id: slow
    match: {prompt: "slow"}
    response: {text: ${JSON.stringify(SLOW)}, chunking: word, latency: {chunk_delay_ms: 25}}
  - id: very-slow
    match: {prompt: "very slow"}
    response: {text: ${JSON.stringify(VERY_SLOW)}, chunking: word, latency: {chunk_delay_ms: 25}}
`;

const startCli = (args: string[] = [], env: Record<string, string> = {}) => startServingCli(CONFIG, args, { env });

interface Stream {
  /** Resolves with the whole body once the server ends the response, or rejects if the connection breaks. */
  body: Promise<string>;
  ended: () => boolean;
  firstChunk: Promise<void>;
}

/** A streaming request on its own connection; its first chunk and its end can be awaited. */
function openStream(port: number, anthropic: boolean, prompt: string): Stream {
  const body = JSON.stringify(
    anthropic
      ? { model: 'claude-sonnet-4-5', max_tokens: 4096, stream: true, messages: [{ role: 'user', content: prompt }] }
      : { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: prompt }] },
  );
  let ended = false;
  let gotFirst!: () => void;
  const firstChunk = new Promise<void>((resolve) => (gotFirst = resolve));
  const done = new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: anthropic ? '/v1/messages' : '/v1/chat/completions',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...(anthropic && { 'anthropic-version': '2023-06-01' }) },
      },
      (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          gotFirst();
        });
        res.on('end', () => {
          ended = true;
          resolve(text);
        });
        res.on('error', (error) => {
          ended = true;
          reject(Object.assign(error, { partial: text }));
        });
        res.on('aborted', () => {
          ended = true;
          reject(Object.assign(new Error('aborted'), { partial: text }));
        });
      },
    );
    req.on('error', (error) => {
      ended = true;
      reject(error);
    });
    req.end(body);
  });
  // Handled here too: a cut stream rejects before the test gets to await it.
  done.catch(() => undefined);
  return { body: done, ended: () => ended, firstChunk };
}

function textOf(sse: string, anthropic: boolean): string {
  return parseSse(sse)
    .filter((f) => (anthropic ? f.event === 'content_block_delta' : f.data !== '[DONE]'))
    .map((f) => (anthropic ? (JSON.parse(f.data).delta.text as string) : ((JSON.parse(f.data).choices[0]?.delta?.content as string | undefined) ?? '')))
    .join('');
}

/** Whether a new TCP connection to the port is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** A connection with a request started but not finished: not idle, so shutdown does not drop it. */
async function halfSentRequest(port: number, path: string): Promise<{ finish(): Promise<{ status: number; body: string }>; socket: Socket }> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
  return {
    socket,
    finish: () =>
      withDeadline(
        new Promise((resolve, reject) => {
          let raw = '';
          socket.setEncoding('utf8');
          socket.on('data', (chunk: string) => {
            raw += chunk;
            const head = raw.indexOf('\r\n\r\n');
            if (head < 0) return;
            const length = /content-length: (\d+)/i.exec(raw.slice(0, head));
            if (length && raw.length >= head + 4 + Number(length[1])) {
              resolve({ status: Number(raw.slice(9, 12)), body: raw.slice(head + 4, head + 4 + Number(length[1])) });
              socket.destroy();
            }
          });
          socket.once('error', reject);
          socket.write('Connection: close\r\n\r\n');
        }),
        5000,
        `the answer to GET ${path}`,
      ),
  };
}

test('SIGTERM with streams in flight: readiness 503 at once, new connections refused, every stream runs to its end, exit 0', async (t) => {
  const cli = await startCli();
  try {
    const probe = await halfSentRequest(cli.port, '/readyz');
    const streams = [openStream(cli.port, false, 'slow'), openStream(cli.port, true, 'slow'), openStream(cli.port, false, 'slow'), openStream(cli.port, true, 'slow')];
    await withDeadline(Promise.all(streams.map((s) => s.firstChunk)), 15_000, 'the first chunk of every stream');

    const signalled = performance.now();
    cli.child.kill('SIGTERM');
    await cli.waitForLog('shutting down');
    // The listener closes while the streams are still running.
    await eventually(() => refused(cli.port), { timeoutMs: 15_000, intervalMs: 10, what: 'new connections to be refused' });
    const refusedAfter = performance.now() - signalled;
    assert.ok(streams.some((s) => !s.ended()), 'the listener closed only once every stream had ended');
    // A request already under way when the signal came is answered: not ready.
    const readiness = await probe.finish();
    assert.equal(readiness.status, 503);
    assert.equal(JSON.parse(readiness.body).status, 'not_ready');

    const bodies = await withDeadline(Promise.all(streams.map((s) => s.body)), 10_000, 'the streams to finish');
    bodies.forEach((body, i) => {
      const anthropic = i % 2 === 1;
      assert.equal(textOf(body, anthropic), SLOW, `stream ${i} carried the whole answer`);
      assert.ok(anthropic ? body.includes('event: message_stop\n') : body.endsWith('data: [DONE]\n\n'), `stream ${i} ended with its terminator`);
    });
    const exit = await withDeadline(cli.exit, 10_000, 'the CLI to exit');
    assert.equal(exit.code, 0, cli.stderr());
    await cli.waitForLog('mockllm stopped');
    const completed = cli.logs.filter((l) => l.msg === 'request' && l.streamOutcome === 'completed');
    assert.equal(completed.length, streams.length, 'every stream is logged as completed');
    t.diagnostic(`refused new connections ${Math.round(refusedAfter)} ms after SIGTERM; exited 0 after ${Math.round(exit.at - signalled)} ms`);
  } finally {
    await cli.cleanup();
  }
});

for (const how of ['--shutdown-grace-ms', 'MOCKLLM_SHUTDOWN_GRACE_MS'] as const) {
  test(`a stream longer than the grace period (${how} 400) is cut when it runs out, and the CLI still exits 0`, async () => {
    const cli = how === '--shutdown-grace-ms' ? await startCli(['--shutdown-grace-ms', '400']) : await startCli([], { MOCKLLM_SHUTDOWN_GRACE_MS: '400' });
    try {
      const streams = [openStream(cli.port, false, 'very slow'), openStream(cli.port, true, 'very slow')];
      await withDeadline(Promise.all(streams.map((s) => s.firstChunk)), 15_000, 'the first chunks');
      const signalled = performance.now();
      cli.child.kill('SIGTERM');
      const exit = await withDeadline(cli.exit, 15_000, 'the CLI to exit');
      const took = exit.at - signalled;
      assert.equal(exit.code, 0, cli.stderr());
      assert.ok(took >= 350, `exited after ${Math.round(took)} ms, before the grace period ran out`);
      // No upper bound on the time: that the streams were cut (below) shows the CLI did not wait for them.
      // The cut streams end (no hang), without their terminator: the client can tell.
      for (const [i, stream] of streams.entries()) {
        const outcome = await withDeadline(stream.body.then((body) => ({ body, error: undefined }), (error: Error & { partial?: string }) => ({ body: error.partial ?? '', error })), 15_000, `stream ${i} to end`);
        assert.ok(!outcome.body.endsWith('data: [DONE]\n\n') && !outcome.body.includes('message_stop'), `stream ${i} was not cut`);
        assert.ok(outcome.body.length > 0, `stream ${i} had started`);
      }
      await cli.waitForLog('mockllm stopped');
    } finally {
      await cli.cleanup();
    }
  });
}

test('a second signal during the grace period exits at once with code 130', async (t) => {
  const cli = await startCli();
  try {
    const stream = openStream(cli.port, false, 'very slow');
    await withDeadline(stream.firstChunk, 15_000, 'the first chunk');
    cli.child.kill('SIGTERM');
    await cli.waitForLog('shutting down');
    const second = performance.now();
    cli.child.kill('SIGINT');
    const exit = await withDeadline(cli.exit, 15_000, 'the CLI to exit on the second signal');
    assert.equal(exit.code, 130);
    // 130, not the graceful 0, and no 'mockllm stopped': it did not wait for the grace period (no wall-clock bound).
    t.diagnostic(`exited ${Math.round(exit.at - second)} ms after the second signal`);
    assert.ok(cli.logs.some((l) => l.msg === 'second signal: exiting at once' && l.signal === 'SIGINT'));
    assert.ok(!cli.logs.some((l) => l.msg === 'mockllm stopped'), 'it did not wait for the stream');
    await withDeadline(stream.body.catch(() => ''), 15_000, 'the stream to end with the process');
  } finally {
    await cli.cleanup();
  }
});
