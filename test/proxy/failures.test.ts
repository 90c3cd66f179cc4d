// What goes wrong upstream reaches the client as it happened, and nothing half-done is recorded: a
// stream dropped mid-way, a stream that ends before its terminal event, an upstream that is down or
// silent (502 / 504 in the provider's own error shape), and the mock keeps serving afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { rejectionOf, withDeadline } from '../helpers/deadline.ts';
import { eventually, post, startTestServer, type TestServer } from '../helpers/server.ts';
import { anthropicClient, openAiClient } from './flows.ts';
import { deadUrl, fakeUpstream, OPENAI_KEY } from './support.ts';

const SSE_HEAD = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const finishChunk = `data: ${JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] })}\n\n`;
const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }] })}\n\n`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mockllm-proxy-failures-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('an upstream stream that breaks off', () => {
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  let mock: TestServer;
  let recordPath: string;

  before(async () => {
    // Two chunks, then the connection is cut with the chunked body unfinished.
    upstream = await fakeUpstream((res, socket) => {
      res.writeHead(200, SSE_HEAD);
      res.write(chunk('The first words '));
      res.write(chunk('and then'), () => setTimeout(() => socket.destroy(), 50));
    });
    recordPath = join(dir, 'dropped.yml');
    mock = await startTestServer('rules: []\n', { upstreams: { openai: upstream.url }, record: recordPath });
  });
  after(async () => {
    await mock.stop();
    await upstream.close();
  });

  test('the client sees the drop after the chunks that came, and nothing is recorded', async () => {
    const stream = await openAiClient(mock.url).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'tell me everything' }], stream: true });
    let text = '';
    const error = await rejectionOf(
      (async () => {
        for await (const part of stream) text += part.choices[0]?.delta.content ?? '';
      })(),
      30_000,
      'the stream to fail',
    );
    assert.ok(error instanceof Error, String(error));
    assert.equal(text, 'The first words and then');
    await eventually(() => mock.logs.some((line) => line.msg === 'upstream answer broke off: not recorded'), { what: 'the log line' });
    assert.equal(existsSync(recordPath), false);
    const [entry] = await mock.journal.list({ limit: 1 });
    assert.equal(entry!.proxied?.upstream, upstream.url);
  });
});

describe('an upstream stream in progress', () => {
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  let mock: TestServer;
  let release!: () => void;

  before(async () => {
    const released = new Promise<void>((resolve) => (release = resolve));
    // The first frame, then nothing until the test has seen that frame at the client.
    upstream = await fakeUpstream((res) => {
      res.writeHead(200, { ...SSE_HEAD, 'x-upstream-own': 'kept' });
      res.write(chunk('first '));
      void released.then(() => {
        res.write(chunk('second'));
        res.end('data: [DONE]\n\n');
      });
    });
    mock = await startTestServer('rules: []\n', { upstreams: { openai: upstream.url } });
  });
  after(async () => {
    await mock.stop();
    await upstream.close();
  });

  test('reaches the client frame by frame, with the upstream\'s status and headers, never buffered whole', async () => {
    const response = await post(`${mock.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-upstream-own'), 'kept');
    assert.equal(response.headers.get('x-mockllm-upstream'), upstream.url);
    assert.equal(response.headers.get('openai-organization'), null, 'the mock\'s own provider headers are not mixed in');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('first')) {
      const { value, done } = await withDeadline(reader.read(), 15_000, 'the first frame before the upstream sends the rest');
      assert.equal(done, false);
      text += value;
    }
    assert.equal(text, chunk('first '));
    release();
    for (;;) {
      const { value, done } = await withDeadline(reader.read(), 15_000, 'the rest');
      if (done) break;
      text += value;
    }
    assert.equal(text, chunk('first ') + chunk('second') + 'data: [DONE]\n\n');
  });
});

describe('a gzip-compressed upstream answer', () => {
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  let mock: TestServer;
  let recordPath: string;

  before(async () => {
    // An SSE stream compressed with gzip, flushed frame by frame, as a CDN in front of an API may send it.
    upstream = await fakeUpstream((res) => {
      res.writeHead(200, { ...SSE_HEAD, 'content-encoding': 'gzip' });
      const gzip = createGzip();
      gzip.pipe(res);
      for (const frame of [chunk('Squeezed '), chunk('and whole'), finishChunk, 'data: [DONE]\n\n']) gzip.write(frame, () => gzip.flush());
      gzip.end();
    });
    recordPath = join(dir, 'gzip.yml');
    mock = await startTestServer('rules: []\n', { upstreams: { openai: upstream.url }, record: recordPath });
  });
  after(async () => {
    await mock.stop();
    await upstream.close();
  });

  test('reaches the client as sent (compressed, which its client inflates) and is recorded inflated', async () => {
    const stream = await openAiClient(mock.url).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'squeeze' }], stream: true });
    let text = '';
    for await (const part of stream) text += part.choices[0]?.delta.content ?? '';
    assert.equal(text, 'Squeezed and whole');
    await mock.close();
    assert.match(await readFile(recordPath, 'utf8'), /text: Squeezed and whole\n\s+finish_reason: stop/);
  });
});

describe('an upstream stream that ends before its terminal event', () => {
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  let mock: TestServer;
  let recordPath: string;

  before(async () => {
    // A well-formed HTTP answer whose SSE never says [DONE] nor a finish reason.
    upstream = await fakeUpstream((res) => {
      res.writeHead(200, SSE_HEAD);
      res.end(chunk('cut short'));
    });
    recordPath = join(dir, 'truncated.yml');
    mock = await startTestServer('rules: []\n', { upstreams: { openai: upstream.url }, record: recordPath });
  });
  after(async () => {
    await mock.stop();
    await upstream.close();
  });

  test('is passed on as it came, and is not recorded as if whole', async () => {
    const response = await post(`${mock.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true }, { authorization: `Bearer ${OPENAI_KEY}` });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), chunk('cut short'));
    await eventually(() => mock.logs.some((line) => line.msg === 'upstream answer incomplete or not recordable: not recorded'), { what: 'the log line' });
    assert.equal(existsSync(recordPath), false);
  });
});

describe('an upstream that is down', () => {
  let mock: TestServer;

  before(async () => {
    const down = await deadUrl();
    mock = await startTestServer('rules: []\n', { upstreams: { openai: down, anthropic: down }, record: join(dir, 'down.yml') });
  });
  after(() => mock.stop());

  test('OpenAI clients get a 502 in OpenAI\'s error shape', async () => {
    const error = await rejectionOf(openAiClient(mock.url).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }), 30_000, 'the call');
    assert.ok(error instanceof OpenAI.APIError, String(error));
    assert.equal(error.status, 502);
    assert.match(error.message, /could not reach the openai upstream \(http:\/\/127\.0\.0\.1:\d+\): ECONNREFUSED/);
    assert.equal((error.error as { type?: string }).type, 'server_error');
  });

  test('Anthropic clients get a 502 in Anthropic\'s error shape, streamed or not; the mock keeps serving', async () => {
    for (const stream of [false, true]) {
      const call = stream
        ? anthropicClient(mock.url).messages.stream({ model: 'claude-sonnet-5-5', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] }).finalMessage()
        : anthropicClient(mock.url).messages.create({ model: 'claude-sonnet-5-5', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
      const error = await rejectionOf(call, 30_000, 'the call');
      assert.ok(error instanceof Anthropic.APIError, String(error));
      assert.equal(error.status, 502);
      assert.equal((error.error as { type?: string }).type, 'error');
    }
    assert.equal((await fetch(`${mock.url}/healthz`)).status, 200);
    assert.ok(mock.logs.some((line) => line.msg === 'upstream unreachable' && line.reason === 'ECONNREFUSED'));
    assert.equal(existsSync(join(dir, 'down.yml')), false);
  });
});

describe('an upstream that never answers', () => {
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  let mock: TestServer;

  before(async () => {
    upstream = await fakeUpstream(() => {});
    mock = await startTestServer('rules: []\n', { upstreams: { openai: upstream.url }, upstreamTimeoutMs: 300 });
  });
  after(async () => {
    await mock.stop();
    await upstream.close();
  });

  test('times out into a 504 in the provider\'s error shape', async () => {
    const response = await post(`${mock.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(response.status, 504);
    const body = (await response.json()) as { error: { message: string; type: string } };
    assert.match(body.error.message, /did not answer within 300 ms/);
    assert.ok(mock.logs.some((line) => line.msg === 'upstream timed out'));
  });
});

describe('a client that goes away during a proxied stream', () => {
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  let mock: TestServer;
  let recordPath: string;
  let upstreamClosed: Promise<void>;

  before(async () => {
    let closed!: () => void;
    upstreamClosed = new Promise((resolve) => (closed = resolve));
    // A stream that would go on for a long time, one chunk every 50 ms, until its reader leaves.
    upstream = await fakeUpstream((res) => {
      res.writeHead(200, SSE_HEAD);
      const timer = setInterval(() => res.write(chunk('more ')), 50);
      res.on('close', () => {
        clearInterval(timer);
        closed();
      });
    });
    recordPath = join(dir, 'abandoned.yml');
    mock = await startTestServer('rules: []\n', { upstreams: { openai: upstream.url }, record: recordPath });
  });
  after(async () => {
    await mock.stop();
    await upstream.close();
  });

  test('the upstream request is cancelled too, and nothing is recorded', async () => {
    const response = await post(`${mock.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'go on forever' }], stream: true });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    await withDeadline(upstreamClosed, 15_000, 'the upstream connection to close');
    await eventually(() => mock.logs.some((line) => line.msg === 'client went away during the upstream answer: not recorded'), { what: 'the log line' });
    assert.equal(existsSync(recordPath), false);
  });
});

test('without --upstream nothing changes: a miss gets the default answer', async () => {
  const mock = await startTestServer('rules: []\n');
  try {
    const completion = await openAiClient(mock.url).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    assert.match(completion.choices[0]!.message.content!, /mock response/);
  } finally {
    await mock.stop();
  }
});
