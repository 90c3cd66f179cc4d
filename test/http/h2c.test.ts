// HTTP/2 without TLS (h2c, prior knowledge) and HTTP/1.1 on the same port: the AWS SDK's default
// handler opens cleartext HTTP/2; everything else speaks HTTP/1.1. Raw node:http2 requests here, so
// nothing an SDK tolerates is hidden.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, constants, type ClientHttp2Session, type Http2ServerResponse, type IncomingHttpHeaders } from 'node:http2';
import { connect as tcpConnect, type Socket } from 'node:net';
import { PROVIDERS } from '../../src/providers/index.ts';
import { withDeadline } from '../helpers/deadline.ts';
import { eventually, parseSse, post, startTestServer, type TestServer } from '../helpers/server.ts';

// ~400 KB of answer as SSE, one word per frame: far more than an HTTP/2 stream's flow-control window (64 KB).
const LONG = Array.from({ length: 20_000 }, (_, i) => `w${String(i).padStart(6, '0')} `).join('');
const CONFIG = `responses:
  "what colour is the sky?": "The sky is blue."
  "long": ${JSON.stringify(LONG)}
rules:
  - id: broken
    match: { prompt: "break please" }
    response: { text: "one two three four five six", chunking: word, fault: { fail_after_chunks: 2, mode: disconnect } }
  - id: slow
    match: { prompt: "slow please" }
    response: { text: "slow", latency: { ttft_ms: 60000 } }
`;

const ANTHROPIC_HEADERS = { 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-h2c' };
const chatBody = (content: string, stream: boolean) => ({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content }] });
const messagesBody = (content: string, stream: boolean) => ({ model: 'claude-sonnet-5-5', max_tokens: 100, stream, messages: [{ role: 'user', content }] });

interface H2Reply {
  headers: IncomingHttpHeaders;
  body: string;
  rstCode: number;
  error?: Error;
}

/** One POST over an HTTP/2 session, read to the end (or to the stream's reset). */
function h2Post(session: ClientHttp2Session, path: string, body: unknown, headers: Record<string, string> = {}): Promise<H2Reply> {
  return withDeadline(
    new Promise<H2Reply>((resolve) => {
      const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json', ...headers });
      let responseHeaders: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let error: Error | undefined;
      stream.on('response', (h) => (responseHeaders = h));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (e) => (error = e));
      stream.on('close', () => resolve({ headers: responseHeaders, body: Buffer.concat(chunks).toString('utf8'), rstCode: stream.rstCode ?? 0, ...(error && { error }) }));
      stream.end(JSON.stringify(body));
    }),
    30_000,
    `POST ${path} over h2`,
  );
}

function h2Session(server: TestServer): ClientHttp2Session {
  const session = connect(server.url);
  session.on('error', () => {});
  return session;
}

let server: TestServer;
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

before(async () => {
  process.on('warning', onWarning);
  server = await startTestServer(CONFIG);
});
after(async () => {
  process.off('warning', onWarning);
  await server?.stop();
});

describe('the same port speaks HTTP/2 (prior knowledge) and HTTP/1.1', () => {
  test('OpenAI chat completions answer over h2, as JSON and as an SSE stream ending in [DONE], with no connection-specific headers', async () => {
    const session = h2Session(server);
    try {
      const json = await h2Post(session, '/v1/chat/completions', chatBody('what colour is the sky?', false));
      assert.equal(json.headers[':status'], 200);
      assert.equal(JSON.parse(json.body).choices[0].message.content, 'The sky is blue.');
      assert.ok(json.headers['x-request-id'], 'the request id header');
      assert.ok(json.headers['x-mockllm-match'], 'the match header');

      const stream = await h2Post(session, '/v1/chat/completions', chatBody('what colour is the sky?', true));
      assert.equal(stream.headers[':status'], 200);
      assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
      assert.equal(stream.headers.connection, undefined);
      assert.equal(stream.headers['keep-alive'], undefined);
      const frames = parseSse(stream.body);
      assert.equal(frames.at(-1)!.data, '[DONE]');
      const text = frames.slice(0, -1).map((f) => JSON.parse(f.data).choices[0]?.delta.content ?? '').join('');
      assert.equal(text, 'The sky is blue.');
    } finally {
      session.close();
    }
  });

  test('Anthropic messages answer over h2, as JSON and as an SSE stream ending in message_stop', async () => {
    const session = h2Session(server);
    try {
      const json = await h2Post(session, '/v1/messages', messagesBody('what colour is the sky?', false), ANTHROPIC_HEADERS);
      assert.equal(json.headers[':status'], 200);
      assert.equal(JSON.parse(json.body).content[0].text, 'The sky is blue.');
      assert.ok(json.headers['request-id'], 'Anthropic request-id header');

      const stream = await h2Post(session, '/v1/messages', messagesBody('what colour is the sky?', true), ANTHROPIC_HEADERS);
      const frames = parseSse(stream.body);
      assert.equal(frames.at(-1)!.event, 'message_stop');
      const text = frames.filter((f) => f.event === 'content_block_delta').map((f) => JSON.parse(f.data).delta.text).join('');
      assert.equal(text, 'The sky is blue.');
    } finally {
      session.close();
    }
  });

  test('HTTP/1.1 on the same port answers as before', async () => {
    const res = await post(`${server.url}/v1/chat/completions`, chatBody('what colour is the sky?', false));
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as any).choices[0].message.content, 'The sky is blue.');
    const stream = await post(`${server.url}/v1/messages`, messagesBody('what colour is the sky?', true), ANTHROPIC_HEADERS);
    assert.equal(stream.headers.get('connection'), 'keep-alive');
    assert.equal(parseSse(await stream.text()).at(-1)!.event, 'message_stop');
  });

  test('errors over h2 have the provider shape: a body that is not JSON is a 400, an unknown path a 404', async () => {
    const session = h2Session(server);
    try {
      const bad = await h2Post(session, '/v1/messages', '{"model":', ANTHROPIC_HEADERS);
      assert.equal(bad.headers[':status'], 400);
      assert.equal(JSON.parse(bad.body).error.type, 'invalid_request_error');
      const missing = await h2Post(session, '/v1/nothing-here', {});
      assert.equal(missing.headers[':status'], 404);
      assert.ok(JSON.parse(missing.body).error.message);
    } finally {
      session.close();
    }
  });

  test('concurrent streams on one h2 connection each get their own whole answer', async () => {
    const session = h2Session(server);
    try {
      const replies = await Promise.all(Array.from({ length: 8 }, () => h2Post(session, '/v1/chat/completions', chatBody('what colour is the sky?', true))));
      for (const reply of replies) assert.equal(parseSse(reply.body).at(-1)!.data, '[DONE]');
    } finally {
      session.close();
    }
  });

  test('a preface that arrives in pieces is still recognised as HTTP/2 (the server answers with its SETTINGS frame)', async () => {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = tcpConnect(server.port, '127.0.0.1', () => resolve(s)).on('error', reject);
    });
    try {
      socket.setNoDelay(true);
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.write('PRI * HT');
      // Let the first piece arrive on its own before the rest.
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.write('TP/2.0\r\n\r\nSM\r\n\r\n');
      socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])); // an empty SETTINGS frame
      const head = await eventually(() => (Buffer.concat(received).length >= 9 ? Buffer.concat(received) : undefined), { what: 'the server preface' });
      assert.equal(head![3], 0x4, 'the first frame is SETTINGS');
    } finally {
      socket.destroy();
    }
  });

  test('an HTTP/2 connection that breaks the protocol is dropped, and the server keeps serving', async () => {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = tcpConnect(server.port, '127.0.0.1', () => resolve(s)).on('error', reject);
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    socket.write(Buffer.alloc(64, 0xff)); // no frame, just noise
    await withDeadline(closed, 15_000, 'the server to drop the connection');
    const res = await post(`${server.url}/v1/chat/completions`, chatBody('what colour is the sky?', false));
    assert.equal(res.status, 200);
  });
});

describe('streams over h2', () => {
  test('a long stream completes, and a reader that stops reading holds it back instead of the server buffering it all', async () => {
    // The server's side of the first h2 request for the long answer: its HTTP/2 stream.
    const responses: Http2ServerResponse[] = [];
    const onRequest = (req: { url?: string }, res: Http2ServerResponse) => {
      if (res.stream) responses.push(res);
    };
    server.server.on('request', onRequest);
    const session = h2Session(server);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json' });
      stream.end(JSON.stringify(chatBody('long', true)));
      stream.pause();
      const res = (await eventually(() => responses[0], { what: 'the server-side response' }))!;
      // Give the writer time to fill every buffer it may fill.
      await eventually(() => res.stream.writableNeedDrain, { what: 'the h2 stream to report backpressure' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const buffered = res.stream.writableLength;
      assert.ok(buffered < 128 * 1024, `the server buffered ${buffered} bytes for a reader that reads nothing`);
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.resume();
      await withDeadline(new Promise((resolve) => stream.on('end', resolve)), 60_000, 'the end of the long stream');
      const frames = parseSse(Buffer.concat(chunks).toString('utf8'));
      assert.equal(frames.at(-1)!.data, '[DONE]');
      assert.equal(frames.slice(0, -1).map((f) => JSON.parse(f.data).choices[0]?.delta.content ?? '').join(''), LONG);
    } finally {
      server.server.off('request', onRequest);
      session.close();
    }
  });

  test('a disconnect fault resets the h2 stream after the allowed chunks, and the connection goes on serving', async () => {
    const session = h2Session(server);
    try {
      const broken = await h2Post(session, '/v1/chat/completions', chatBody('break please', true));
      assert.equal(broken.rstCode, constants.NGHTTP2_INTERNAL_ERROR);
      assert.ok(!broken.body.includes('[DONE]'));
      const text = broken.body.split('\n\n').filter((f) => f.startsWith('data: {')).map((f) => JSON.parse(f.slice(6)).choices[0]?.delta.content ?? '').join('');
      assert.equal(text, 'one two');
      const next = await h2Post(session, '/v1/chat/completions', chatBody('what colour is the sky?', false));
      assert.equal(next.headers[':status'], 200);
    } finally {
      session.close();
    }
  });

  test('a disconnect fault on a non-stream answer resets only that h2 stream', async () => {
    const session = h2Session(server);
    try {
      const broken = await h2Post(session, '/v1/chat/completions', chatBody('break please', false));
      assert.notEqual(broken.rstCode, 0);
      assert.equal(broken.body, '');
      const next = await h2Post(session, '/v1/chat/completions', chatBody('what colour is the sky?', false));
      assert.equal(next.headers[':status'], 200);
    } finally {
      session.close();
    }
  });

  test("every other provider's chat endpoint answers over h2 as over HTTP/1.1, streams included", async () => {
    const registered = new Set(PROVIDERS.flatMap((p) => p.routes.map((r) => r.path)));
    const all: { template: string; path: string; body: unknown; headers: Record<string, string> }[] = [
      { template: '/v1beta/models/{model}:generateContent', path: '/v1beta/models/gemini-2.5-flash:generateContent', body: { contents: [{ role: 'user', parts: [{ text: 'what colour is the sky?' }] }] }, headers: { 'x-goog-api-key': 'k' } },
      { template: '/v1beta/models/{model}:streamGenerateContent', path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', body: { contents: [{ role: 'user', parts: [{ text: 'what colour is the sky?' }] }] }, headers: { 'x-goog-api-key': 'k' } },
      { template: '/api/chat', path: '/api/chat', body: { model: 'llama3.2', messages: [{ role: 'user', content: 'what colour is the sky?' }] }, headers: {} },
      { template: '/openai/deployments/{deployment}/chat/completions', path: '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21', body: { messages: [{ role: 'user', content: 'what colour is the sky?' }], stream: true }, headers: { 'api-key': 'k' } },
      { template: '/model/{modelId}/converse', path: '/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse', body: { messages: [{ role: 'user', content: [{ text: 'what colour is the sky?' }] }] }, headers: {} },
    ];
    const targets = all.filter((t) => registered.has(t.template));
    const session = h2Session(server);
    try {
      for (const target of targets) {
        const overH2 = await h2Post(session, target.path, target.body, target.headers);
        const overH1 = await post(`${server.url}${target.path}`, target.body, target.headers);
        assert.equal(overH2.headers[':status'], 200, `${target.path} over h2: ${overH2.body.slice(0, 200)}`);
        assert.equal(overH1.status, 200);
        assert.equal(overH2.headers['content-type'], overH1.headers.get('content-type'), target.path);
        assert.equal(overH2.headers['x-mockllm-match'], overH1.headers.get('x-mockllm-match'), target.path);
        // The same framing: as many lines, frames or elements either way (ids and timings aside).
        assert.equal(overH2.body.split('\n').length, (await overH1.text()).split('\n').length, target.path);
      }
    } finally {
      session.close();
    }
  });

  test('h2 requests are journaled, logged and counted like HTTP/1.1 ones', async () => {
    const session = h2Session(server);
    try {
      const reply = await h2Post(session, '/v1/chat/completions', chatBody('what colour is the sky?', true), { 'x-request-id': 'h2c-journal-check' });
      assert.equal(reply.headers['x-request-id'], 'h2c-journal-check');
    } finally {
      session.close();
    }
    const line = await eventually(() => server.logs.find((l) => l.msg === 'request' && l.requestId === 'h2c-journal-check'), { what: 'the access log line' });
    assert.equal(line!.streamOutcome, 'completed');
    const journal = (await (await fetch(`${server.url}/admin/requests`)).json()) as { requests: unknown[] };
    const entries = journal.requests as { request?: { headers?: Record<string, string> }; status?: number }[];
    const entry = entries.find((e) => e.request?.headers?.['x-request-id'] === 'h2c-journal-check');
    assert.ok(entry, 'the journal holds the h2 request');
    assert.equal(entry.status, 200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /mockllm_stream_chunks_total\{provider="openai"\} [1-9]/);
  });

  test('no process warning was raised (HTTP/2 forbids the connection header the SSE framing sets on HTTP/1.1)', () => {
    assert.deepEqual(warnings.map((w) => w.message), []);
  });
});

describe('shutting down with HTTP/2 connections open', () => {
  test('close() resolves with an idle h2 session open, and one in the middle of a held answer, leaving no connection', async () => {
    const own = await startTestServer(CONFIG, { shutdownGraceMs: 500 });
    const idle = h2Session(own);
    const busy = h2Session(own);
    const idleClosed = new Promise<void>((resolve) => idle.on('close', () => resolve()));
    const busyClosed = new Promise<void>((resolve) => busy.on('close', () => resolve()));
    try {
      const warm = await h2Post(idle, '/v1/chat/completions', chatBody('what colour is the sky?', false));
      assert.equal(warm.headers[':status'], 200);
      const held = h2Post(busy, '/v1/chat/completions', chatBody('slow please', true));
      await eventually(async () => (await fetch(`${own.url}/metrics`)).text().then((t) => /mockllm_active_streams 1/.test(t)), { what: 'the held stream to be open' });
      await withDeadline(own.stop(), 20_000, 'close() with h2 sessions open');
      assert.equal(own.server.listening, false);
      const count = await new Promise<number>((resolve, reject) => own.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
      assert.equal(count, 0);
      await withDeadline(Promise.all([idleClosed, busyClosed]), 15_000, 'the client sessions to close');
      const reply = await held;
      assert.ok(!reply.body.includes('[DONE]'), 'the held answer did not complete');
    } finally {
      idle.destroy();
      busy.destroy();
    }
  });

  test('close() resolves within its grace period after a client cancelled its h2 streams and never closed its end of the connection', async () => {
    const own = await startTestServer(CONFIG, { shutdownGraceMs: 500 });
    const session = h2Session(own);
    try {
      // Requests cancelled (RST_STREAM CANCEL) at once or a few milliseconds in: the session the
      // server ends leaves its socket half-open, and this client never ends its side.
      for (let i = 0; i < 100; i++) {
        const stream = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json' });
        stream.on('error', () => {});
        stream.end(JSON.stringify(chatBody('what colour is the sky?', false)));
        await new Promise((resolve) => setTimeout(resolve, i % 5));
        stream.close(constants.NGHTTP2_CANCEL);
        if (!stream.closed) await withDeadline(new Promise((resolve) => stream.once('close', resolve)), 5_000, 'the cancelled stream to close');
      }
      session.close();
      // Before: close() waited for that socket for ever (it was left out of the grace period's cut).
      await withDeadline(own.stop(), 10_000, 'close() after cancelled h2 streams');
      assert.equal(own.server.listening, false);
    } finally {
      session.destroy();
    }
  });
});
