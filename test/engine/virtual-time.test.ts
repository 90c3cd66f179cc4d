// Pacing, time to first token, non-stream latency and abandoned waits on virtual time: a real
// server with an injected clock, read by a real client, where time moves only when the test says.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { eventually } from '../helpers/poll.ts';
import { VirtualClock } from './virtual-clock.ts';

const CONFIG = `
rules:
  - id: paced
    match: {prompt: paced}
    response: {text: "abcd", latency: {ttft_ms: 300, chunk_delay_ms: 50}}
  - id: slow-json
    match: {prompt: slow json}
    response: {text: "ok", latency: {ttft_ms: 1000, chunk_delay_ms: 500, simulate_non_stream_latency: true}}
`;

/** Reads an SSE body as it arrives, collecting the content deltas seen so far. */
function reader(body: ReadableStream<Uint8Array>) {
  const deltas: string[] = [];
  let buffer = '';
  let done = false;
  const decoder = new TextDecoder();
  const pump = (async () => {
    const it = body.getReader();
    for (;;) {
      const { value, done: end } = await it.read();
      if (end) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = frame.replace(/^data: /, '');
        if (data === '[DONE]') continue;
        const content = (JSON.parse(data) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content;
        if (content) deltas.push(content);
      }
    }
    done = true;
  })();
  return { deltas, pump, isDone: () => done };
}

describe('the spine on virtual time', () => {
  let clock: VirtualClock;
  let server: TestServer;
  before(async () => {
    clock = new VirtualClock();
    server = await startTestServer(CONFIG, { clock });
  });
  after(async () => {
    await server?.stop();
  });

  test('a stream waits ttft_ms before its first chunk and chunk_delay_ms before each later one, and no longer', async () => {
    const res = await post(`${server.url}/v1/chat/completions`, { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'paced' }] });
    assert.equal(res.status, 200);
    const stream = reader(res.body!);
    await eventually(() => clock.pending === 1, { what: 'the writer waits for the first chunk' });
    await clock.advance(299);
    assert.deepEqual(stream.deltas, [], 'nothing before ttft_ms');
    await clock.advance(1);
    await eventually(() => stream.deltas.length === 1, { what: 'the first chunk at 300 ms' });
    await clock.advance(49);
    assert.deepEqual(stream.deltas, ['a']);
    await clock.advance(1);
    await eventually(() => stream.deltas.length === 2, { what: 'the second chunk 50 ms later' });
    await clock.advance(100);
    await stream.pump;
    assert.deepEqual(stream.deltas, ['a', 'b', 'c', 'd']);
  });

  test('a non-stream answer with simulated latency waits for the whole stream it stands for', async () => {
    let answered = false;
    const pending = post(`${server.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'slow json' }] }).then((res) => {
      answered = true;
      return res;
    });
    await eventually(() => clock.pending === 1, { what: 'the answer waits' });
    await clock.advance(1499);
    assert.equal(answered, false, '1000 ms to the first chunk and 500 ms to the second');
    await clock.advance(1);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content, 'ok');
  });

  test('a client that hangs up during a wait ends it: no sleeper is left behind', async () => {
    const abort = new AbortController();
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'paced' }] }),
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    await eventually(() => clock.pending === 1, { what: 'the writer waits for the first chunk' });
    abort.abort();
    await eventually(() => clock.pending === 0, { what: 'the wait is cancelled when the client goes' });
  });
});
