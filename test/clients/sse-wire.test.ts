// Byte-level checks of what the server puts on the wire, with plain fetch: the framing, headers and
// chunk ladders that lenient clients would paper over (API-FORMATS §0, §1, §8).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSse, post, startTestServer, type SseFrame, type TestServer } from '../helpers/server.ts';
import { checkCleanCuts, configYaml, UNICODE_ANSWER, UNKNOWN } from './fixtures.ts';

const SKY = 'The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.';
const QUOTED = 'Line one\nLine "two"\twith a tab, a backslash \\ and </script>.';

let server: TestServer;

before(async () => {
  server = await startTestServer(
    configYaml({ responses: { 'what colour is the sky?': SKY, unicode: UNICODE_ANSWER, 'escape me': QUOTED }, unknown: UNKNOWN }),
  );
});

after(async () => {
  await server?.stop();
});

interface WireStream {
  response: Response;
  text: string;
  frames: SseFrame[];
}

/** Reads a whole answer as bytes, insisting it is valid UTF-8, then splits it into SSE frames. */
async function readStream(path: string, body: unknown, headers: Record<string, string> = {}): Promise<WireStream> {
  const response = await post(`${server.url}${path}`, body, headers);
  assert.equal(response.status, 200);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(await response.arrayBuffer());
  return { response, text, frames: parseSse(text) };
}

function assertSseHeaders(response: Response): void {
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(response.headers.get('cache-control'), 'no-cache');
  assert.equal(response.headers.get('content-length'), null, 'a stream must not announce a content-length');
}

type Json = Record<string, any>;

const OPENAI = '/v1/chat/completions';
const openAiBody = (content: string, extra: Json = {}) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], stream: true, ...extra });

/** The JSON chunks of an OpenAI stream, after checking it ends with exactly one `[DONE]` and has no event lines. */
function openAiChunks(frames: SseFrame[]): Json[] {
  assert.equal(frames.at(-1)!.data, '[DONE]', 'the last frame is not data: [DONE]');
  assert.equal(frames.filter((f) => f.data === '[DONE]').length, 1);
  for (const frame of frames) assert.equal(frame.event, undefined, 'OpenAI chat streams carry no event: lines');
  return frames.slice(0, -1).map((f) => JSON.parse(f.data) as Json);
}

describe('OpenAI chat stream on the wire', () => {
  test('frames are data: lines closed by a blank line, served as text/event-stream, ending with [DONE]', async () => {
    const { response, text, frames } = await readStream(OPENAI, openAiBody('what colour is the sky?'));
    assertSseHeaders(response);
    assert.ok(text.startsWith('data: {'), `unexpected start ${JSON.stringify(text.slice(0, 20))}`);
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    assert.ok(!text.includes('\r'), 'frames use \\n line ends');
    assert.ok(frames.length > 3);
  });

  test('every chunk repeats one id, created, model and fingerprint, and every choice has index, delta, logprobs and finish_reason', async () => {
    const { frames } = await readStream(OPENAI, openAiBody('what colour is the sky?'));
    const chunks = openAiChunks(frames);
    const first = chunks[0]!;
    assert.match(first.id, /^chatcmpl-[A-Za-z0-9]{29}$/);
    for (const chunk of chunks) {
      assert.equal(chunk.id, first.id);
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.created, first.created);
      assert.equal(chunk.model, 'gpt-4o-mini');
      assert.equal(chunk.system_fingerprint, first.system_fingerprint);
      assert.equal(chunk.choices.length, 1);
      const [choice] = chunk.choices;
      assert.deepEqual(Object.keys(choice).sort(), ['delta', 'finish_reason', 'index', 'logprobs']);
      assert.equal(choice.index, 0);
      assert.equal(choice.logprobs, null);
    }
  });

  test('the role chunk comes first, content deltas next, then one finish chunk with an empty delta', async () => {
    const { frames } = await readStream(OPENAI, openAiBody('what colour is the sky?'));
    const choices = openAiChunks(frames).map((c) => c.choices[0]);
    assert.equal(choices[0].delta.role, 'assistant');
    assert.equal(choices[0].delta.content, '');
    assert.equal(choices[0].finish_reason, null);
    const last = choices.at(-1);
    assert.deepEqual(last.delta, {});
    assert.equal(last.finish_reason, 'stop');
    const middle = choices.slice(1, -1);
    for (const choice of middle) {
      assert.deepEqual(Object.keys(choice.delta), ['content']);
      assert.equal(choice.finish_reason, null);
    }
    assert.equal(middle.map((c) => c.delta.content).join(''), SKY);
  });

  test('without include_usage no chunk has a usage key at all', async () => {
    for (const extra of [{}, { stream_options: { include_usage: false } }]) {
      const { frames } = await readStream(OPENAI, openAiBody('what colour is the sky?', extra));
      for (const chunk of openAiChunks(frames)) {
        assert.ok(!('usage' in chunk), `usage key present with ${JSON.stringify(extra)}: ${JSON.stringify(chunk)}`);
        assert.equal(chunk.choices.length, 1);
      }
    }
  });

  test('with include_usage every chunk has usage null and a last choices:[] chunk holds the non-stream usage', async () => {
    const { frames } = await readStream(OPENAI, openAiBody('what colour is the sky?', { stream_options: { include_usage: true } }));
    const chunks = openAiChunks(frames);
    const usageChunk = chunks.at(-1)!;
    assert.deepEqual(usageChunk.choices, []);
    for (const chunk of chunks.slice(0, -1)) {
      assert.equal(chunk.usage, null);
      assert.equal(chunk.choices.length, 1);
    }
    assert.equal(usageChunk.id, chunks[0]!.id);
    const plain = (await (await post(`${server.url}${OPENAI}`, { ...openAiBody('what colour is the sky?'), stream: false })).json()) as Json;
    assert.deepEqual(usageChunk.usage, plain.usage);
    assert.equal(usageChunk.usage.total_tokens, usageChunk.usage.prompt_tokens + usageChunk.usage.completion_tokens);
  });

  test('n=2 gives each choice its own role chunk and finish chunk under its own index', async () => {
    const { frames } = await readStream(OPENAI, openAiBody('what colour is the sky?', { n: 2 }));
    const chunks = openAiChunks(frames);
    for (const index of [0, 1]) {
      const mine = chunks.flatMap((c) => c.choices).filter((choice: Json) => choice.index === index);
      assert.equal(mine[0].delta.role, 'assistant');
      assert.deepEqual(mine.at(-1).delta, {});
      assert.equal(mine.at(-1).finish_reason, 'stop');
      assert.equal(mine.filter((c: Json) => c.finish_reason !== null).length, 1);
      assert.equal(mine.map((c: Json) => c.delta.content ?? '').join(''), SKY);
    }
  });

  test('a Unicode answer arrives exactly, cut only at grapheme boundaries', async () => {
    const { frames } = await readStream(OPENAI, openAiBody('unicode'));
    const pieces = openAiChunks(frames)
      .map((c) => c.choices[0].delta.content as string | undefined)
      .filter((p): p is string => p !== undefined && p !== '');
    assert.equal(checkCleanCuts(pieces, UNICODE_ANSWER), UNICODE_ANSWER);
  });

  test('quotes, newlines, tabs and backslashes survive the JSON framing', async () => {
    const { frames } = await readStream(OPENAI, openAiBody('escape me'));
    for (const frame of frames) assert.ok(!frame.data.includes('\n'), 'a data line holds a raw newline');
    const text = openAiChunks(frames)
      .map((c) => c.choices[0].delta.content ?? '')
      .join('');
    assert.equal(text, QUOTED);
  });

  test('stream:true decides streaming even when the client sends Accept: application/json', async () => {
    const { response, frames } = await readStream(OPENAI, openAiBody('what colour is the sky?'), { accept: 'application/json' });
    assertSseHeaders(response);
    assert.equal(frames.at(-1)!.data, '[DONE]');
  });

  test('a non-stream answer is application/json and holds the same Unicode text', async () => {
    const response = await post(`${server.url}${OPENAI}`, { ...openAiBody('unicode'), stream: false });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await response.json()) as Json;
    assert.equal(body.choices[0].message.content, UNICODE_ANSWER);
  });
});

const ANTHROPIC = '/v1/messages';
const ANTHROPIC_HEADERS = { 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-wire' };
const anthropicBody = (content: string, extra: Json = {}) => ({
  model: 'claude-sonnet-5-5',
  max_tokens: 512,
  messages: [{ role: 'user', content }],
  stream: true,
  ...extra,
});

/** The JSON events of an Anthropic stream, after checking every frame names its event and none is `[DONE]`. */
function anthropicEvents(frames: SseFrame[]): Json[] {
  return frames.map((frame) => {
    assert.notEqual(frame.data, '[DONE]', 'Anthropic streams never send [DONE]');
    const event = JSON.parse(frame.data) as Json;
    assert.equal(frame.event, event.type, `event: line ${JSON.stringify(frame.event)} differs from the JSON type ${JSON.stringify(event.type)}`);
    return event;
  });
}

describe('Anthropic messages stream on the wire', () => {
  test('every frame is an event: line plus a data: line, served as text/event-stream, with no [DONE]', async () => {
    const { response, text, frames } = await readStream(ANTHROPIC, anthropicBody('what colour is the sky?'), ANTHROPIC_HEADERS);
    assertSseHeaders(response);
    assert.ok(text.startsWith('event: message_start\ndata: {'));
    assert.ok(text.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n'));
    assert.ok(!text.includes('[DONE]'));
    assert.ok(!text.includes('\r'));
    for (const frame of frames) assert.ok(frame.event, `frame without an event: line: ${frame.data}`);
    anthropicEvents(frames);
  });

  test('events come in the documented order with the text in content_block_delta frames', async () => {
    const { frames } = await readStream(ANTHROPIC, anthropicBody('what colour is the sky?'), ANTHROPIC_HEADERS);
    const events = anthropicEvents(frames);
    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(0, 3), ['message_start', 'content_block_start', 'ping']);
    assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    const deltas = events.slice(3, -3);
    assert.ok(deltas.length > 0);
    for (const delta of deltas) {
      assert.equal(delta.type, 'content_block_delta');
      assert.equal(delta.index, 0);
      assert.equal(delta.delta.type, 'text_delta');
    }
    assert.equal(deltas.map((d) => d.delta.text).join(''), SKY);
    const [start, blockStart] = events;
    assert.match(start!.message.id, /^msg_01/);
    assert.equal(start!.message.role, 'assistant');
    assert.deepEqual(start!.message.content, []);
    assert.equal(start!.message.model, 'claude-sonnet-5-5');
    assert.deepEqual(blockStart, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    assert.deepEqual(events.at(-3), { type: 'content_block_stop', index: 0 });
    assert.equal(events.at(-2)!.delta.stop_reason, 'end_turn');
  });

  test('message_start carries the input tokens and message_delta the output tokens of the non-stream answer', async () => {
    const { frames } = await readStream(ANTHROPIC, anthropicBody('what colour is the sky?'), ANTHROPIC_HEADERS);
    const events = anthropicEvents(frames);
    const plain = (await (await post(`${server.url}${ANTHROPIC}`, { ...anthropicBody('what colour is the sky?'), stream: false }, ANTHROPIC_HEADERS)).json()) as Json;
    assert.equal(plain.content[0].text, SKY);
    assert.ok(plain.usage.input_tokens > 0 && plain.usage.output_tokens > 0);
    assert.equal(events[0]!.message.usage.input_tokens, plain.usage.input_tokens);
    const messageDelta = events.find((e) => e.type === 'message_delta')!;
    assert.equal(messageDelta.usage.output_tokens, plain.usage.output_tokens);
  });

  test('a Unicode answer arrives exactly, cut only at grapheme boundaries', async () => {
    const { frames } = await readStream(ANTHROPIC, anthropicBody('unicode'), ANTHROPIC_HEADERS);
    const pieces = anthropicEvents(frames)
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => e.delta.text as string);
    assert.equal(checkCleanCuts(pieces, UNICODE_ANSWER), UNICODE_ANSWER);
  });

  test('quotes, newlines, tabs and backslashes survive the JSON framing', async () => {
    const { frames } = await readStream(ANTHROPIC, anthropicBody('escape me'), ANTHROPIC_HEADERS);
    const text = anthropicEvents(frames)
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => e.delta.text)
      .join('');
    assert.equal(text, QUOTED);
  });

  test('stream:true decides streaming even when the client sends Accept: application/json', async () => {
    const { response, frames } = await readStream(ANTHROPIC, anthropicBody('what colour is the sky?'), { ...ANTHROPIC_HEADERS, accept: 'application/json' });
    assertSseHeaders(response);
    assert.equal(frames.at(-1)!.event, 'message_stop');
  });

  test('a non-stream answer is application/json and holds the same Unicode text', async () => {
    const response = await post(`${server.url}${ANTHROPIC}`, { ...anthropicBody('unicode'), stream: false }, ANTHROPIC_HEADERS);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await response.json()) as Json;
    assert.deepEqual(body.content, [{ type: 'text', text: UNICODE_ANSWER }]);
  });
});
