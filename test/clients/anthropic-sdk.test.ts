// The official `@anthropic-ai/sdk` (1.x) as a client of a real mockllm on 127.0.0.1: non-stream, raw
// stream iteration, the `messages.stream()` helper, multi-turn, content blocks, system prompts,
// matching modes, the unknown-prompt fallback, usage, and both auth/version header styles.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { configYaml, recordingFetch, UNKNOWN } from './fixtures.ts';

const HI = 'Hello from the Anthropic side of the mock.';
const SKY = 'The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.';
const FIRST = 'This is the answer to the first question.';
const SECOND = 'And this one answers the second question.';
const BLOCKS = 'Both text blocks arrived, joined by a newline.';
const SYSTEM_TRAP = 'Wrong: the system prompt was matched instead of the user message.';

const RESPONSES = {
  hi: HI,
  'what colour is the sky?': SKY,
  'first question': FIRST,
  'second question': SECOND,
  'block one\nblock two': BLOCKS,
  'you are a helpful assistant.': SYSTEM_TRAP,
};

const MODEL = 'claude-sonnet-5-5';

let server: TestServer;
let exactServer: TestServer;
let client: Anthropic;
let exactClient: Anthropic;

before(async () => {
  server = await startTestServer(configYaml({ responses: RESPONSES, unknown: UNKNOWN }));
  exactServer = await startTestServer(configYaml({ responses: RESPONSES, unknown: UNKNOWN, settings: { match: 'exact' } }));
  // The Anthropic SDK's baseURL has no /v1: it appends /v1/messages itself.
  client = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-test' });
  exactClient = new Anthropic({ baseURL: exactServer.url, apiKey: 'sk-ant-test' });
});

after(async () => {
  await Promise.all([server?.stop(), exactServer?.stop()]);
});

type Params = Omit<Anthropic.MessageCreateParamsNonStreaming, 'model' | 'max_tokens'>;
const user = (content: string): Anthropic.MessageParam[] => [{ role: 'user', content }];

function textOf(message: Anthropic.Message): string {
  return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

async function ask(params: Params, on: Anthropic = client): Promise<Anthropic.Message> {
  return on.messages.create({ model: MODEL, max_tokens: 1024, ...params });
}

describe('@anthropic-ai/sdk, non-stream', () => {
  test('a configured prompt gets its configured text in a complete message', async () => {
    const { data, response, request_id } = await client.messages.create({ model: MODEL, max_tokens: 256, messages: user('what colour is the sky?') }).withResponse();
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(data.id, /^msg_01[1-9A-HJ-NP-Za-km-z]{22}$/);
    assert.equal(data.type, 'message');
    assert.equal(data.role, 'assistant');
    assert.equal(data.model, MODEL);
    assert.deepEqual(data.content.map((b) => b.type), ['text']);
    assert.equal(textOf(data), SKY);
    assert.equal(data.stop_reason, 'end_turn');
    assert.equal(data.stop_sequence, null);
    assert.ok(data.usage.input_tokens > 0, `input_tokens ${data.usage.input_tokens}`);
    assert.ok(data.usage.output_tokens > 0, `output_tokens ${data.usage.output_tokens}`);
    assert.match(request_id ?? '', /^req_/);
    assert.equal(response.headers.get('request-id'), request_id);
  });

  test('an unknown prompt gets defaults.unknown_response', async () => {
    assert.equal(textOf(await ask({ messages: user('what is the airspeed of an unladen swallow?') })), UNKNOWN);
  });

  test('a longer answer costs more output tokens and a longer conversation more input tokens', async () => {
    const short = await ask({ messages: user('hi') });
    const long = await ask({ messages: user('what colour is the sky?') });
    assert.ok(long.usage.output_tokens > short.usage.output_tokens, `${long.usage.output_tokens} <= ${short.usage.output_tokens}`);
    const conversation = await ask({
      system: 'You are terse and precise, and you never use more words than needed.',
      messages: [
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: FIRST },
        { role: 'user', content: 'hi' },
      ],
    });
    assert.equal(textOf(conversation), HI);
    assert.equal(conversation.usage.output_tokens, short.usage.output_tokens);
    assert.ok(conversation.usage.input_tokens > short.usage.input_tokens, `${conversation.usage.input_tokens} <= ${short.usage.input_tokens}`);
  });
});

describe('@anthropic-ai/sdk, prompt matching', () => {
  test('in a multi-turn conversation the last user message is what is matched', async () => {
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: FIRST },
      { role: 'user', content: 'second question' },
    ];
    assert.equal(textOf(await ask({ messages })), SECOND);
    assert.equal(textOf(await ask({ messages: [...messages, { role: 'assistant', content: 'Well,' }] })), SECOND);
  });

  test('the system prompt, as a string or as blocks, is an instruction, not the prompt', async () => {
    assert.equal(textOf(await ask({ system: 'You are a helpful assistant.', messages: user('hi') })), HI);
    assert.equal(textOf(await ask({ system: [{ type: 'text', text: 'You are a helpful assistant.' }], messages: user('first question') })), FIRST);
    assert.equal(textOf(await ask({ system: 'You are a helpful assistant.', messages: user('nothing configured matches this') })), UNKNOWN);
  });

  test('content given as text blocks is joined with newlines before matching', async () => {
    const messages: Anthropic.MessageParam[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'block one' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          { type: 'text', text: 'block two' },
        ],
      },
    ];
    assert.equal(textOf(await ask({ messages })), BLOCKS);
    // Exact mode proves the separator is a newline: a space or nothing would not match byte for byte.
    assert.equal(textOf(await ask({ messages }, exactClient)), BLOCKS);
  });

  test('normalised matching ignores case, surrounding space and runs of whitespace', async () => {
    assert.equal(textOf(await ask({ messages: user('\n What  COLOUR is the sky?\t') })), SKY);
  });

  test('settings.match exact compares the prompt byte for byte', async () => {
    assert.equal(textOf(await ask({ messages: user('what colour is the sky?') }, exactClient)), SKY);
    assert.equal(textOf(await ask({ messages: user('What colour is the sky?') }, exactClient)), UNKNOWN);
    assert.equal(textOf(await ask({ messages: user(' what colour is the sky?') }, exactClient)), UNKNOWN);
  });
});

describe('@anthropic-ai/sdk, streaming', () => {
  test('raw create({stream:true}) yields the event ladder and the configured text', async () => {
    const stream = await client.messages.create({ model: MODEL, max_tokens: 256, stream: true, messages: user('what colour is the sky?') });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'message_start');
    assert.equal(types[1], 'content_block_start');
    assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    const middle = types.slice(2, -3);
    assert.ok(middle.length > 0 && middle.every((t) => t === 'content_block_delta'), `unexpected events in the middle: ${middle.join(',')}`);
    let text = '';
    for (const event of events) {
      if (event.type === 'content_block_delta') {
        assert.equal(event.index, 0);
        assert.equal(event.delta.type, 'text_delta');
        if (event.delta.type === 'text_delta') text += event.delta.text;
      }
    }
    assert.equal(text, SKY);
    const delta = events.find((e) => e.type === 'message_delta');
    assert.equal(delta?.type === 'message_delta' && delta.delta.stop_reason, 'end_turn');
  });

  test('messages.stream().finalMessage() assembles the configured text, and text events carry it', async () => {
    const pieces: string[] = [];
    const stream = client.messages.stream({ model: MODEL, max_tokens: 256, messages: user('what colour is the sky?') });
    stream.on('text', (delta) => pieces.push(delta));
    const final = await stream.finalMessage();
    assert.equal(textOf(final), SKY);
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.role, 'assistant');
    assert.equal(pieces.join(''), SKY);
  });

  test('stream and non-stream report identical, non-zero usage for the same request', async () => {
    const params: Params = {
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: FIRST },
        { role: 'user', content: 'second question' },
      ],
    };
    const plain = await ask(params);
    const final = await client.messages.stream({ model: MODEL, max_tokens: 256, ...params }).finalMessage();
    assert.equal(textOf(final), SECOND);
    assert.equal(textOf(plain), SECOND);
    assert.ok(plain.usage.input_tokens > 0 && plain.usage.output_tokens > 0);
    assert.equal(final.usage.input_tokens, plain.usage.input_tokens);
    assert.equal(final.usage.output_tokens, plain.usage.output_tokens);
  });

  test('finalText() of a stream whose content is blocks follows the last user message', async () => {
    const text = await client.messages
      .stream({
        model: MODEL,
        max_tokens: 256,
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: HI },
          { role: 'user', content: [{ type: 'text', text: 'block one' }, { type: 'text', text: 'block two' }] },
        ],
      })
      .finalText();
    assert.equal(text, BLOCKS);
  });
});

describe('@anthropic-ai/sdk, auth and version headers', () => {
  test('the 1.x default (Authorization: Bearer, anthropic-version 2026-10-21) is accepted', async () => {
    const recorder = recordingFetch();
    const bearer = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-bearer', fetch: recorder.fetch });
    const message = await bearer.messages.create({ model: MODEL, max_tokens: 64, messages: user('hi') });
    assert.equal(textOf(message), HI);
    const sent = recorder.requests[0]!;
    assert.equal(sent.get('authorization'), 'Bearer sk-ant-bearer');
    assert.equal(sent.get('anthropic-version'), '2026-10-21');
  });

  test('the 0.x style (x-api-key, anthropic-version 2023-06-01) is accepted, streaming too', async () => {
    const recorder = recordingFetch();
    const legacy = new Anthropic({
      baseURL: server.url,
      apiKey: null,
      fetch: recorder.fetch,
      defaultHeaders: { 'x-api-key': 'sk-ant-legacy', 'anthropic-version': '2023-06-01', Authorization: null },
    });
    const message = await legacy.messages.create({ model: MODEL, max_tokens: 64, messages: user('hi') });
    assert.equal(textOf(message), HI);
    assert.equal(await legacy.messages.stream({ model: MODEL, max_tokens: 64, messages: user('first question') }).finalText(), FIRST);
    for (const sent of recorder.requests) {
      assert.equal(sent.get('x-api-key'), 'sk-ant-legacy');
      assert.equal(sent.get('authorization'), null);
      assert.equal(sent.get('anthropic-version'), '2023-06-01');
    }
  });
});
