// Latency rules measured the way a client feels them: time to the first content chunk, the gaps
// between chunks, tokens_per_second, and simulate_non_stream_latency. The machine may be loaded,
// so only the direction that cannot come from noise is tight (a delay cannot arrive early); upper
// bounds are 30 s, far beyond any configured delay, and "does not wait" is checked against a delay
// of 20 s. Timings are benchmarks' business (bench/); seeded jitter is checked exactly in
// test/unit/pacing.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { withDeadline } from '../helpers/deadline.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const OPENAI_MODEL = 'gpt-4o-mini';
const ANTHROPIC_MODEL = 'claude-sonnet-5-5';

const SHORT = 'one two three four five six seven eight';
const SHORT_CHUNKS = SHORT.split(' ').length;
const RATED = 'Streaming at a fixed rate of tokens per second spreads this answer evenly over its chunks.';
const TPS = 60;
const NON_STREAM = 'alpha beta gamma delta epsilon';
/** A delay no loaded machine comes near by accident: "does not wait" means well under it. */
const VERY_SLOW_MS = 20_000;
/** Far beyond every configured delay here, for the direction noise can move. */
const GENEROUS_MS = 30_000;

const CONFIG = `
rules:
  - id: slow
    match: {prompt: slow}
    response: {text: ${JSON.stringify(SHORT)}, chunking: word, latency: {ttft_ms: 300, chunk_delay_ms: 50}}
  - id: rated
    match: {prompt: rated}
    response: {text: ${JSON.stringify(RATED)}, chunking: word, latency: {tokens_per_second: ${TPS}}}
  - id: very-slow
    match: {prompt: very slow}
    response: {text: ${JSON.stringify(SHORT)}, chunking: word, latency: {ttft_ms: ${VERY_SLOW_MS}}}
  - id: held
    match: {prompt: held}
    response: {text: ${JSON.stringify(NON_STREAM)}, latency: {ttft_ms: ${VERY_SLOW_MS}, simulate_non_stream_latency: true}}
  - id: slow-non-stream
    match: {prompt: slow non-stream}
    response: {text: ${JSON.stringify(NON_STREAM)}, chunking: word, latency: {ttft_ms: 200, chunk_delay_ms: 40, simulate_non_stream_latency: true}}
defaults:
  unknown_response: "no rule matched"
`;

let server: TestServer;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  server = await startTestServer(CONFIG);
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-latency', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-latency', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

interface Timing {
  text: string;
  /** Milliseconds from sending the request to each content chunk's arrival. */
  arrivals: number[];
}

async function timeOpenAi(prompt: string): Promise<Timing> {
  const started = performance.now();
  const stream = await openai.chat.completions.create({ model: OPENAI_MODEL, stream: true, messages: [{ role: 'user', content: prompt }] });
  const arrivals: number[] = [];
  let text = '';
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta.content;
    if (delta) {
      arrivals.push(performance.now() - started);
      text += delta;
    }
  }
  return { text, arrivals };
}

async function timeAnthropic(prompt: string): Promise<Timing> {
  const started = performance.now();
  const stream = await anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 200, stream: true, messages: [{ role: 'user', content: prompt }] });
  const arrivals: number[] = [];
  let text = '';
  for await (const event of stream) {
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
      arrivals.push(performance.now() - started);
      text += event.delta.text;
    }
  }
  return { text, arrivals };
}

const gaps = (arrivals: number[]) => arrivals.slice(1).map((t, i) => t - arrivals[i]!);
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const fmt = (n: number) => n.toFixed(1);

/** Figures for the report: printed, never compared with anything but generous bounds. */
function report(label: string, timing: Timing): void {
  const g = gaps(timing.arrivals);
  console.log(`# ${label}: ttft ${fmt(timing.arrivals[0]!)} ms, mean gap ${fmt(mean(g))} ms (min ${fmt(Math.min(...g))}, max ${fmt(Math.max(...g))}), total ${fmt(timing.arrivals.at(-1)!)} ms over ${timing.arrivals.length} chunks`);
}

describe('ttft_ms and chunk_delay_ms', () => {
  for (const [provider, time] of [['openai', timeOpenAi], ['anthropic', timeAnthropic]] as const) {
    test(`${provider}: the first chunk waits ttft_ms (300) and later chunks come about chunk_delay_ms (50) apart`, async () => {
      const timing = await time('slow');
      report(`${provider} ttft 300 / delay 50`, timing);
      assert.equal(timing.text, SHORT);
      assert.equal(timing.arrivals.length, SHORT_CHUNKS, 'one arrival per word: paced chunks are not batched together');
      // The schedule is absolute (chunk k is due at 300 + 50k ms after the request arrived), so no
      // chunk can arrive before its time, whatever the load; a stall only makes chunks late.
      timing.arrivals.forEach((arrival, k) => {
        assert.ok(arrival >= 300 + 50 * k - 5, `chunk ${k} arrived at ${fmt(arrival)} ms, before its time of ${300 + 50 * k} ms`);
      });
      const total = timing.arrivals.at(-1)!;
      assert.ok(total < GENEROUS_MS, `last chunk at ${fmt(total)} ms; expected about 650`);
    });
  }

  test('without simulate_non_stream_latency a non-stream answer does not wait', async () => {
    const started = performance.now();
    const completion = await openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'very slow' }] });
    const elapsed = performance.now() - started;
    assert.equal(completion.choices[0]!.message.content, SHORT);
    assert.ok(elapsed < VERY_SLOW_MS / 2, `a non-stream answer took ${fmt(elapsed)} ms; the ${VERY_SLOW_MS} ms ttft applies to streams only`);
  });
});

describe('tokens_per_second', () => {
  test('chunks are spread so the answer streams at about the configured token rate', async () => {
    const tokens = countTokens(RATED);
    const chunks = RATED.split(' ').length;
    const timing = await timeOpenAi('rated');
    report(`openai tokens_per_second ${TPS} (${tokens} tokens, ${chunks} chunks)`, timing);
    assert.equal(timing.text, RATED);
    // tokens/TPS seconds spread over the chunks: one gap per chunk after the first.
    const expectedGap = (tokens / TPS / chunks) * 1000;
    assert.equal(timing.arrivals.length, chunks, 'one arrival per word');
    // Chunk k is due k gaps after the first one's time; on an absolute schedule it is never early.
    // The first chunk itself is due at once, so the last arrives no sooner than (chunks - 1) gaps in.
    const last = timing.arrivals.at(-1)!;
    assert.ok(last >= expectedGap * (chunks - 1) * 0.95, `the last chunk arrived at ${fmt(last)} ms; it is due at ${fmt(expectedGap * (chunks - 1))}`);
    assert.ok(last < GENEROUS_MS, `the last chunk arrived at ${fmt(last)} ms`);
  });
});

describe('simulate_non_stream_latency', () => {
  // ttft 200 + 4 gaps of 40 ms: the stream would take 360 ms, so the non-stream answer waits that long.
  const CONFIGURED_TOTAL = 200 + 4 * 40;

  test('a non-stream openai answer waits as long as the stream would have taken', async () => {
    const started = performance.now();
    const completion = await openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'slow non-stream' }] });
    const elapsed = performance.now() - started;
    console.log(`# non-stream with simulate_non_stream_latency (configured ${CONFIGURED_TOTAL} ms): ${fmt(elapsed)} ms`);
    assert.equal(completion.choices[0]!.message.content, NON_STREAM);
    assert.ok(elapsed >= CONFIGURED_TOTAL - 10, `answered after ${fmt(elapsed)} ms, before the configured ${CONFIGURED_TOTAL} ms`);
    assert.ok(elapsed < GENEROUS_MS, `answered after ${fmt(elapsed)} ms`);
  });

  test('a non-stream Anthropic answer waits too', async () => {
    const started = performance.now();
    const message = await anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'slow non-stream' }] });
    const elapsed = performance.now() - started;
    assert.deepEqual(message.content, [{ type: 'text', text: NON_STREAM }]);
    assert.ok(elapsed >= CONFIGURED_TOTAL - 10, `answered after ${fmt(elapsed)} ms, before the configured ${CONFIGURED_TOTAL} ms`);
  });

  test('a client that gives up while the answer is held back does not get it, and the server keeps serving', async () => {
    // The server's side of the exchange, seen from node:http: the request arrives and is read,
    // then held (rule `held`: 20 s); the client aborts during the hold.
    const arrived = new Promise<{ req: IncomingMessage; res: ServerResponse }>((resolve) => {
      const onRequest = (req: IncomingMessage, res: ServerResponse) => {
        if (req.url !== '/v1/chat/completions') return;
        server.server.off('request', onRequest);
        resolve({ req, res });
      };
      server.server.on('request', onRequest);
    });
    const controller = new AbortController();
    const pending = fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'held' }] }),
      signal: controller.signal,
    });
    pending.catch(() => {});
    const { req, res } = await withDeadline(arrived, 10_000, 'the request to reach the server');
    const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
    if (!req.readableEnded) await withDeadline(new Promise((resolve) => req.once('end', resolve)), 10_000, 'the server to read the body');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(res.headersSent, false, 'the answer is still held back when the client gives up');

    const startedAbort = performance.now();
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await withDeadline(closed, 10_000, 'the server to see the client go');
    assert.equal(res.headersSent, false, 'nothing of the answer was sent after the client left');
    assert.ok(performance.now() - startedAbort < VERY_SLOW_MS, 'the hold did not run to its end first');

    const after = await openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'anything' }] });
    assert.equal(after.choices[0]!.message.content, 'no rule matched');
  });
});
