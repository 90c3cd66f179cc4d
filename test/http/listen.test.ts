// The server's port: on Linux a group of listening sockets (SO_REUSEPORT), because libuv accepts
// one connection per listening socket per event-loop iteration (src/http/listen.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { ACCEPT_SOCKETS, listenOnPort } from '../../src/http/listen.ts';
import { post, startTestServer } from '../helpers/server.ts';

const linux = process.platform === 'linux';

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('on Linux the port is held by a group of listening sockets, and connections to any of them are answered by the one server', { skip: !linux && 'SO_REUSEPORT groups are Linux only' }, async () => {
  let answered = 0;
  const server = createServer((_req, res) => {
    answered++;
    res.end('ok');
  });
  const listening = await listenOnPort(server, 0, '127.0.0.1');
  try {
    assert.equal(listening.sockets, ACCEPT_SOCKETS);
    // Enough new connections at once that the kernel spreads them over the group (by address hash).
    const statuses = await Promise.all(Array.from({ length: 200 }, () => get(listening.port)));
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(answered, 200);
  } finally {
    await listening.close();
  }
});

test('the group accepts more than one waiting connection per event-loop iteration', { skip: !linux && 'SO_REUSEPORT groups are Linux only' }, async () => {
  // Each connection the server sees blocks its event loop for 20 ms, as a server busy writing
  // streams does: with one listening socket libuv accepts one connection per iteration, so 64
  // connections opened at once take 64 iterations; the group takes far fewer.
  let seen = 0;
  const server = createServer();
  server.on('connection', () => {
    seen++;
    const until = performance.now() + 20;
    while (performance.now() < until);
  });
  const iterationsToAccept = async (group: number) => {
    const listening = await listenOnPort(server, 0, '127.0.0.1', group);
    seen = 0;
    let iterations = 0;
    let counting = true;
    const tick = () => {
      iterations++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const clients = Array.from({ length: 64 }, () => connect(listening.port, '127.0.0.1'));
    const deadline = performance.now() + 30_000;
    while (seen < 64) {
      assert.ok(performance.now() < deadline, `every connection accepted within 30 s (${seen} of 64)`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    counting = false;
    for (const client of clients) client.destroy();
    server.closeAllConnections();
    await listening.close();
    return { iterations, sockets: listening.sockets };
  };
  const single = await iterationsToAccept(1);
  const grouped = await iterationsToAccept(ACCEPT_SOCKETS);
  assert.equal(single.sockets, 1);
  assert.equal(grouped.sockets, ACCEPT_SOCKETS);
  assert.ok(single.iterations >= 60, `one socket: one accept per iteration (${single.iterations} iterations for 64 connections)`);
  assert.ok(grouped.iterations < single.iterations / 2, `a group of ${ACCEPT_SOCKETS}: ${grouped.iterations} iterations, against ${single.iterations} with one socket`);
});

test('a port another mockllm already holds is refused (EADDRINUSE), not silently shared through SO_REUSEPORT', async () => {
  const first = await startTestServer();
  try {
    const port = new URL(first.url).port;
    await assert.rejects(startTestServer(undefined, { port: Number(port) }), (error: NodeJS.ErrnoException) => error.code === 'EADDRINUSE');
    // The first one still answers alone.
    const res = await post(`${first.url}/v1/chat/completions`, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(res.status, 200);
  } finally {
    await first.stop();
  }
});

test('closing waits for a request on a connection any socket of the group accepted, then refuses new ones', async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let received = 0;
  const server = createServer((_req, res) => {
    received++;
    void held.then(() => res.end('late'));
  });
  const listening = await listenOnPort(server, 0, '127.0.0.1');
  // Several requests in flight, so that (on Linux) some arrived through the extra sockets.
  const inFlight = Array.from({ length: 40 }, () => get(listening.port));
  const deadline = performance.now() + 30_000;
  while (received < 40) {
    assert.ok(performance.now() < deadline, `all 40 requests arrive within 30 s (${received})`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  let closed = false;
  const closing = listening.close().then(() => (closed = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(closed, false, 'close waits for the requests in flight');
  await assert.rejects(get(listening.port), /ECONNREFUSED/);
  release();
  assert.deepEqual(new Set(await Promise.all(inFlight)), new Set([200]));
  await closing;
  assert.equal(closed, true);
});

test('of two servers started at the same moment on one port, in separate processes, only one gets it; the other is refused with EADDRINUSE', { skip: !linux && 'SO_REUSEPORT groups are Linux only' }, async () => {
  // Each child waits for a shared start time, listens, and holds the port for 1.2 s (longer than a
  // refused one keeps retrying), so both holding it at once would be seen. Before the group checked
  // its port's listeners, about a third of such pairs both listened and split the connections.
  const listenModule = new URL('../../src/http/listen.ts', import.meta.url).href;
  const child = `
    import { createServer } from 'node:http';
    import { listenOnPort } from ${JSON.stringify(listenModule)};
    const [port, startAt] = process.argv.slice(-2).map(Number);
    while (Date.now() < startAt);
    try {
      const listening = await listenOnPort(createServer(), port, '127.0.0.1');
      console.log('listening ' + listening.sockets);
      setTimeout(() => listening.close().then(() => process.exit(0)), 1200);
    } catch (error) {
      console.log(error.code);
    }`;
  const run = (port: number, startAt: number) =>
    new Promise<string>((resolve, reject) => {
      const proc = spawn(process.execPath, ['--input-type=module', '-e', child, '--', String(port), String(startAt)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      proc.stdout.on('data', (chunk) => (out += chunk));
      proc.on('error', reject);
      proc.on('exit', () => resolve(out.trim()));
    });
  for (let pair = 0; pair < 6; pair++) {
    const free = createServer();
    const port = await new Promise<number>((resolve) => free.listen(0, '127.0.0.1', () => resolve((free.address() as { port: number }).port)));
    await new Promise((resolve) => free.close(resolve));
    const startAt = Date.now() + 500;
    const outcomes = (await Promise.all([run(port, startAt), run(port, startAt)])).sort();
    assert.deepEqual(outcomes, ['EADDRINUSE', `listening ${ACCEPT_SOCKETS}`], `pair ${pair} on port ${port}: ${outcomes.join(', ')}`);
  }
});
