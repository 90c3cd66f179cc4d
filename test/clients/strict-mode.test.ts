// Strict mode rejects what the real APIs reject; lenient mode (the default) keeps accepting the
// loose requests of the original mockllm examples. Strict mode is switched on two ways: the
// config's `settings.strict`, and the server option that MOCKLLM_STRICT sets (which wins).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { configYaml, UNKNOWN } from './fixtures.ts';

const SKY = 'The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.';
const RESPONSES = { 'what colour is the sky?': SKY };

type Json = Record<string, any>;

const CHAT = '/v1/chat/completions';
const MESSAGES = '/v1/messages';
const V2023 = { 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-strict' };
const V2026 = { 'anthropic-version': '2026-10-21', authorization: 'Bearer sk-ant-strict' };
const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'what colour is the sky?' }] };
const messagesBody = { model: 'claude-sonnet-5-5', max_tokens: 256, messages: [{ role: 'user', content: 'what colour is the sky?' }] };

async function send(server: TestServer, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
  const response = await post(`${server.url}${path}`, body, headers);
  const text = await response.text();
  return { status: response.status, body: response.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as Json) : { text } };
}

function assertAnthropic400(result: { status: number; body: Json }, message: string | RegExp): void {
  assert.equal(result.status, 400, `expected 400, got ${result.status}: ${JSON.stringify(result.body)}`);
  assert.equal(result.body.type, 'error');
  assert.equal(result.body.error.type, 'invalid_request_error');
  if (typeof message === 'string') assert.equal(result.body.error.message, message);
  else assert.match(result.body.error.message, message);
}

function assertOpenAi400(result: { status: number; body: Json }, expected: { message: string; param: string | null; code: string | null }): void {
  assert.equal(result.status, 400, `expected 400, got ${result.status}: ${JSON.stringify(result.body)}`);
  assert.deepEqual(result.body, { error: { message: expected.message, type: 'invalid_request_error', param: expected.param, code: expected.code } });
}

async function rejection<E>(promise: Promise<unknown>, type: abstract new (...args: any[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
    return error;
  }
  assert.fail(`expected ${type.name}, but the call succeeded`);
}

const strictServers: { how: string; start: () => Promise<TestServer> }[] = [
  { how: 'settings.strict: true in the config', start: () => startTestServer(configYaml({ responses: RESPONSES, unknown: UNKNOWN, settings: { strict: true } })) },
  { how: 'the MOCKLLM_STRICT server option', start: () => startTestServer(configYaml({ responses: RESPONSES, unknown: UNKNOWN }), { strict: true }) },
];

for (const entry of strictServers) {
  describe(`strict mode via ${entry.how}`, () => {
    let server: TestServer;
    let anthropic: Anthropic;
    let openai: OpenAI;

    before(async () => {
      server = await entry.start();
      anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-strict', maxRetries: 0 });
      openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-strict', maxRetries: 0 });
    });

    after(async () => {
      await server?.stop();
    });

    test('an Anthropic request without max_tokens is a 400 saying exactly max_tokens: Field required', async () => {
      const { max_tokens: _, ...noMax } = messagesBody;
      const error = await rejection(anthropic.messages.create(noMax as any), Anthropic.BadRequestError);
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.apiMessage, 'max_tokens: Field required');
      assertAnthropic400(await send(server, MESSAGES, noMax, V2023), 'max_tokens: Field required');
    });

    test('an Anthropic request without an anthropic-version header is a 400', async () => {
      const noVersion = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-strict', maxRetries: 0, defaultHeaders: { 'anthropic-version': null } });
      const error = await rejection(noVersion.messages.create(messagesBody as Anthropic.MessageCreateParamsNonStreaming), Anthropic.BadRequestError);
      assert.match(error.apiMessage ?? '', /anthropic-version/);
      assertAnthropic400(await send(server, MESSAGES, messagesBody, { 'x-api-key': 'sk-ant-strict' }), /anthropic-version/);
    });

    test('an unknown anthropic-version is a 400', async () => {
      assertAnthropic400(await send(server, MESSAGES, messagesBody, { 'anthropic-version': '2019-01-01' }), /anthropic-version/);
    });

    test('temperature under anthropic-version 2026-10-21 is a 400, and accepted under 2023-06-01', async () => {
      const withTemperature = { ...messagesBody, temperature: 0.5 };
      const error = await rejection(anthropic.messages.create(withTemperature as any), Anthropic.BadRequestError);
      assert.match(error.apiMessage ?? '', /^temperature: /);
      assertAnthropic400(await send(server, MESSAGES, withTemperature, V2026), /^temperature: /);
      for (const field of ['top_p', 'top_k']) {
        assertAnthropic400(await send(server, MESSAGES, { ...messagesBody, [field]: 0.5 * (field === 'top_k' ? 2 : 1) }, V2026), new RegExp(`^${field}: `));
      }
      const old = await send(server, MESSAGES, withTemperature, V2023);
      assert.equal(old.status, 200);
      assert.equal(old.body.content[0].text, SKY);
    });

    test('an unknown top-level Anthropic field is a 400 saying foo: Extra inputs are not permitted', async () => {
      const error = await rejection(anthropic.messages.create({ ...messagesBody, foo: 1 } as any), Anthropic.BadRequestError);
      assert.equal(error.apiMessage, 'foo: Extra inputs are not permitted');
      assertAnthropic400(await send(server, MESSAGES, { ...messagesBody, foo: 1 }, V2023), 'foo: Extra inputs are not permitted');
    });

    test('an unknown top-level OpenAI field is a 400 saying Unrecognized request argument supplied: foo', async () => {
      const error = await rejection(openai.chat.completions.create({ ...chatBody, foo: 1 } as any), OpenAI.BadRequestError);
      assert.equal(error.message, '400 Unrecognized request argument supplied: foo');
      assertOpenAi400(await send(server, CHAT, { ...chatBody, foo: 1 }), { message: 'Unrecognized request argument supplied: foo', param: null, code: null });
    });

    test('OpenAI stream_options without stream is a 400 naming stream_options', async () => {
      const error = await rejection(openai.chat.completions.create({ ...chatBody, stream_options: { include_usage: true } } as any), OpenAI.BadRequestError);
      assert.equal(error.param, 'stream_options');
      const expected = { message: "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param: 'stream_options', code: null };
      assertOpenAi400(await send(server, CHAT, { ...chatBody, stream_options: { include_usage: true } }), expected);
      assertOpenAi400(await send(server, CHAT, { ...chatBody, stream: false, stream_options: { include_usage: true } }), expected);
    });

    test('well-formed requests from the official SDKs, both Anthropic versions and auth styles still get the configured text', async () => {
      const completion = await openai.chat.completions.create({
        ...(chatBody as OpenAI.ChatCompletionCreateParamsNonStreaming),
        temperature: 0.2,
        max_completion_tokens: 100,
        seed: 7,
        user: 'tester',
      });
      assert.equal(completion.choices[0]!.message.content, SKY);
      const streamed = await openai.chat.completions
        .stream({ model: chatBody.model, messages: [{ role: 'user', content: 'what colour is the sky?' }], stream_options: { include_usage: true } })
        .finalChatCompletion();
      assert.equal(streamed.choices[0]!.message.content, SKY);
      const message = await anthropic.messages.create({ ...(messagesBody as Anthropic.MessageCreateParamsNonStreaming), system: 'Be brief.' });
      assert.deepEqual(message.content, [{ type: 'text', text: SKY }]);
      assert.equal(await anthropic.messages.stream(messagesBody as Anthropic.MessageCreateParamsNonStreaming).finalText(), SKY);
      for (const headers of [V2023, V2026]) {
        const raw = await send(server, MESSAGES, messagesBody, headers);
        assert.equal(raw.status, 200, JSON.stringify(raw.body));
        assert.equal(raw.body.content[0].text, SKY);
      }
    });
  });
}

describe('lenient mode (the default)', () => {
  let server: TestServer;
  let overridden: TestServer;

  before(async () => {
    server = await startTestServer(configYaml({ responses: RESPONSES, unknown: UNKNOWN }));
    // MOCKLLM_STRICT=false wins over the config's settings.strict.
    overridden = await startTestServer(configYaml({ responses: RESPONSES, unknown: UNKNOWN, settings: { strict: true } }), { strict: false });
  });

  after(async () => {
    await Promise.all([server?.stop(), overridden?.stop()]);
  });

  test('the original curl example (no max_tokens, no anthropic-version) gets the configured text', async () => {
    for (const target of [server, overridden]) {
      const loose = { model: 'claude-3-sonnet-20240229', messages: [{ role: 'user', content: 'what colour is the sky?' }] };
      const plain = await send(target, MESSAGES, loose);
      assert.equal(plain.status, 200, JSON.stringify(plain.body));
      assert.deepEqual(plain.body.content, [{ type: 'text', text: SKY }]);
      const streamed = await post(`${target.url}${MESSAGES}`, { ...loose, stream: true });
      assert.equal(streamed.status, 200);
      const text = await streamed.text();
      const deltas = [...text.matchAll(/^data: (\{"type":"content_block_delta".*)$/gm)].map((m) => JSON.parse(m[1]!).delta.text as string);
      assert.equal(deltas.join(''), SKY);
    }
  });

  test('an unknown field, temperature under 2026-10-21 and stream_options without stream are tolerated', async () => {
    const anthropicLoose = await send(server, MESSAGES, { ...messagesBody, foo: 1, temperature: 0.5 }, V2026);
    assert.equal(anthropicLoose.status, 200, JSON.stringify(anthropicLoose.body));
    assert.equal(anthropicLoose.body.content[0].text, SKY);
    const openAiLoose = await send(server, CHAT, { ...chatBody, foo: 1, stream_options: { include_usage: true } });
    assert.equal(openAiLoose.status, 200, JSON.stringify(openAiLoose.body));
    assert.equal(openAiLoose.body.choices[0].message.content, SKY);
  });

  test('a system turn inside Anthropic messages is taken as an instruction, not the prompt', async () => {
    const result = await send(server, MESSAGES, {
      model: 'claude-sonnet-5-5',
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'what colour is the sky?' },
      ],
    });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.body.content[0].text, SKY);
  });
});
