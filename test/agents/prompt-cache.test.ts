// The prompt-cache simulation (`settings.prompt_cache: true`) across repeated requests, on virtual
// time: Anthropic cache_control breakpoints write a prefix first seen and read it again within its
// TTL (5 minutes, or 1 hour), a growing conversation reads the previous turn's prefix, and
// input + creation + read always equals count_tokens; OpenAI prompts of 1,024 tokens or more
// report cached_tokens for a repeated prefix in 128-token steps; /admin/reset forgets it all; with
// Redis, replicas share it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { VirtualClock } from '../engine/virtual-clock.ts';
import { createRedisState } from '../../src/state/redis/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { RedisServer, redisMissing } from '../state/support/redis.ts';
import { capture, replay } from './support.ts';

const CONFIG = `settings:
  prompt_cache: true
responses:
  "first question": "First answer."
defaults:
  unknown_response: "Noted."
`;
const MODEL = 'claude-sonnet-5-5';
const MINUTE = 60_000;

// A long, fixed system prompt (~2,000 tokens): what agents cache.
const SYSTEM = Array.from({ length: 160 }, (_, i) => `Rule ${i + 1}: answer carefully, cite the file and line, and keep the style of the code base.`).join('\n');
const tools: Anthropic.Tool[] = [{ name: 'read_file', description: 'Reads a file from the workspace', input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } }];

let clock: VirtualClock;
let server: TestServer;
let anthropic: Anthropic;
let openai: OpenAI;

before(async () => {
  clock = new VirtualClock();
  server = await startTestServer(CONFIG, { clock });
  anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-test', maxRetries: 0 });
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

type Body = Omit<Anthropic.MessageCreateParamsNonStreaming, 'model' | 'max_tokens'>;

/** A request's usage, checked against count_tokens for the same request. */
async function usageOf(body: Body, on: Anthropic = anthropic): Promise<Anthropic.Usage> {
  const { usage } = await on.messages.create({ model: MODEL, max_tokens: 1024, ...body });
  const counted = await on.messages.countTokens({ model: MODEL, ...body } as Anthropic.MessageCountTokensParams);
  assert.equal(usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0), counted.input_tokens, `input + creation + read = count_tokens (${JSON.stringify(usage)})`);
  return usage;
}

/** The long system prompt with a breakpoint; `variant` keeps one test's prefix apart from another's (the cache key is the exact text). */
const cachedSystem = (variant: string, ttl?: '5m' | '1h'): Anthropic.TextBlockParam[] => [{ type: 'text', text: `${SYSTEM}\nVariant: ${variant}.`, cache_control: { type: 'ephemeral', ...(ttl && { ttl }) } }];

describe('Anthropic cache_control breakpoints', () => {
  test('a prefix first seen is written, the same prefix again is read, and a different user turn is the uncached input', async () => {
    const system = `${SYSTEM}\nVariant: write-then-read.`;
    const body = (question: string): Body => ({ system: [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }], tools, messages: [{ role: 'user', content: question }] });
    const first = await usageOf(body('first question'));
    assert.ok(first.cache_creation_input_tokens! > 1000, JSON.stringify(first));
    assert.equal(first.cache_read_input_tokens, 0);
    assert.deepEqual(first.cache_creation, { ephemeral_5m_input_tokens: first.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 });
    const second = await usageOf(body('another question, longer than the first one'));
    assert.equal(second.cache_read_input_tokens, first.cache_creation_input_tokens, 'tools and system are read back');
    assert.equal(second.cache_creation_input_tokens, 0);
    assert.ok(second.input_tokens > first.input_tokens, 'only the user turn is uncached');
  });

  test('the 5-minute entry expires on the clock, and every read refreshes it', async () => {
    const body: Body = { system: cachedSystem('expiry'), messages: [{ role: 'user', content: 'first question' }] };
    const written = await usageOf(body);
    assert.ok(written.cache_creation_input_tokens! > 0);
    await clock.advance(4 * MINUTE);
    assert.equal((await usageOf(body)).cache_read_input_tokens, written.cache_creation_input_tokens, 'read within 5 minutes');
    await clock.advance(4 * MINUTE);
    assert.equal((await usageOf(body)).cache_read_input_tokens, written.cache_creation_input_tokens, 'read 8 minutes after writing: the read at 4 refreshed it');
    await clock.advance(5 * MINUTE + 1);
    const expired = await usageOf(body);
    assert.equal(expired.cache_read_input_tokens, 0, 'gone 5 minutes after the last use');
    assert.equal(expired.cache_creation_input_tokens, written.cache_creation_input_tokens, 'written again');
  });

  test('ttl "1h" is reported as a 1-hour write and outlives 5 minutes', async () => {
    const body: Body = { system: cachedSystem('one hour', '1h'), messages: [{ role: 'user', content: 'a one-hour question' }] };
    const written = await usageOf(body);
    assert.equal(written.cache_creation?.ephemeral_1h_input_tokens, written.cache_creation_input_tokens);
    assert.equal(written.cache_creation?.ephemeral_5m_input_tokens, 0);
    await clock.advance(30 * MINUTE);
    assert.equal((await usageOf(body)).cache_read_input_tokens, written.cache_creation_input_tokens);
    await clock.advance(60 * MINUTE + 1);
    assert.equal((await usageOf(body)).cache_read_input_tokens, 0);
  });

  test('a 1-hour breakpoint then a 5-minute one split the write by TTL; after 5 minutes only the 1-hour prefix is read', async () => {
    const body: Body = {
      system: cachedSystem('mixed', '1h'),
      messages: [{ role: 'user', content: [{ type: 'text', text: `Context: ${SYSTEM}`, cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'first question' }] }],
    };
    const written = await usageOf(body);
    const { ephemeral_1h_input_tokens: hour, ephemeral_5m_input_tokens: five } = written.cache_creation!;
    assert.ok(hour > 1000 && five > 1000, JSON.stringify(written));
    assert.equal(hour + five, written.cache_creation_input_tokens);
    await clock.advance(10 * MINUTE);
    const later = await usageOf(body);
    assert.equal(later.cache_read_input_tokens, hour, 'the system prefix (1 hour) is read');
    assert.deepEqual(later.cache_creation, { ephemeral_5m_input_tokens: five, ephemeral_1h_input_tokens: 0 }, 'the expired 5-minute part is written again');
  });

  test('a growing conversation with the breakpoint on its last turn reads the previous turn\'s prefix and writes the rest', async () => {
    const turn1: Anthropic.MessageParam[] = [{ role: 'user', content: [{ type: 'text', text: 'Please review the parser module.', cache_control: { type: 'ephemeral' } }] }];
    const system: Anthropic.TextBlockParam[] = [{ type: 'text', text: `${SYSTEM}\nVariant: growing.` }];
    const one = await usageOf({ system, messages: turn1 });
    assert.equal(one.cache_read_input_tokens, 0);
    assert.equal(one.input_tokens, 0, 'everything up to the breakpoint on the last block is written');
    const turn2: Anthropic.MessageParam[] = [
      { role: 'user', content: [{ type: 'text', text: 'Please review the parser module.' }] },
      { role: 'assistant', content: 'It looks fine, but the error paths are untested.' },
      { role: 'user', content: [{ type: 'text', text: 'Then add tests for them.', cache_control: { type: 'ephemeral' } }] },
    ];
    const two = await usageOf({ system, messages: turn2 });
    assert.equal(two.cache_read_input_tokens, one.cache_creation_input_tokens, 'turn 1 is found by looking back from the new breakpoint');
    assert.ok(two.cache_creation_input_tokens! > 0 && two.cache_creation_input_tokens! < 100, 'only the new turns are written');
  });

  test('the lookback reaches 20 blocks: a breakpoint 25 blocks past the last write misses it, a second breakpoint within reach finds it', async () => {
    const system: Anthropic.TextBlockParam[] = [{ type: 'text', text: `${SYSTEM}\nVariant: lookback.`, cache_control: { type: 'ephemeral' } }];
    const written = await usageOf({ system, messages: [{ role: 'user', content: 'first question' }] });
    const turns: Anthropic.MessageParam[] = Array.from({ length: 25 }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: [{ type: 'text', text: `Turn ${i}: more context.` }] }));
    const last = turns.at(-1)!.content as Anthropic.TextBlockParam[];
    last[0] = { ...last[0]!, cache_control: { type: 'ephemeral' } };
    const plainSystem: Anthropic.TextBlockParam[] = [{ type: 'text', text: system[0]!.text }];
    const far = await usageOf({ system: plainSystem, messages: turns });
    assert.equal(far.cache_read_input_tokens, 0, 'the system prefix is more than 20 blocks before the only breakpoint');
    const near = await usageOf({ system, messages: turns });
    assert.equal(near.cache_read_input_tokens, far.cache_creation_input_tokens, 'the prefix the previous request wrote is read');
    assert.ok(written.cache_creation_input_tokens! < near.cache_read_input_tokens!);
  });

  test('strict mode refuses a fifth cache_control breakpoint in Anthropic\'s words', async () => {
    const strict = await startTestServer('settings: { strict: true, prompt_cache: true }\nresponses: {}\n');
    try {
      const client = new Anthropic({ baseURL: strict.url, apiKey: 'k', maxRetries: 0 });
      const marked = (text: string): Anthropic.TextBlockParam => ({ type: 'text', text, cache_control: { type: 'ephemeral' } });
      await assert.rejects(
        client.messages.create({ model: MODEL, max_tokens: 64, system: [marked('a'), marked('b'), marked('c')], messages: [{ role: 'user', content: [marked('d'), marked('e')] }] }),
        (error: unknown) => error instanceof Anthropic.BadRequestError && /A maximum of 4 blocks with cache_control may be provided\. Found 5\./.test(error.message),
      );
    } finally {
      await strict.stop();
    }
  });

  test('streams report the cache figures in message_start, and count_tokens still counts the whole prompt', async () => {
    const body = { system: [{ type: 'text' as const, text: `${SYSTEM}\nVariant: stream.`, cache_control: { type: 'ephemeral' as const } }], messages: [{ role: 'user' as const, content: 'first question' }] };
    await usageOf(body);
    const stream = await anthropic.messages.create({ model: MODEL, max_tokens: 1024, stream: true, ...body });
    let start: Anthropic.Usage | undefined;
    for await (const event of stream) if (event.type === 'message_start') start = event.message.usage;
    const counted = await anthropic.messages.countTokens({ model: MODEL, ...body });
    assert.ok(start!.cache_read_input_tokens! > 0);
    assert.equal(start!.input_tokens + start!.cache_read_input_tokens! + (start!.cache_creation_input_tokens ?? 0), counted.input_tokens);
  });

  test('POST /admin/reset forgets the cache', async () => {
    const body: Body = { system: [{ type: 'text', text: `${SYSTEM}\nVariant: reset.`, cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'first question' }] };
    const written = await usageOf(body);
    assert.ok((await usageOf(body)).cache_read_input_tokens! > 0);
    assert.ok((await fetch(`${server.url}/admin/reset`, { method: 'POST' })).ok);
    assert.equal((await usageOf(body)).cache_creation_input_tokens, written.cache_creation_input_tokens);
  });

  test('a prefix under 1,024 tokens is not cached, as the API does not cache one: billed as ordinary input, no error', async () => {
    const body: Body = { system: [{ type: 'text', text: 'A short system prompt.', cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'first question' }] };
    for (let i = 0; i < 2; i++) {
      const usage = await usageOf(body);
      assert.deepEqual([usage.cache_creation_input_tokens, usage.cache_read_input_tokens], [0, 0]);
    }
  });

  test('without settings.prompt_cache the breakpoints report nothing cached', async () => {
    const plain = await startTestServer('responses: {}\n');
    try {
      const client = new Anthropic({ baseURL: plain.url, apiKey: 'k', maxRetries: 0 });
      const body: Body = { system: cachedSystem('off'), messages: [{ role: 'user', content: 'first question' }] };
      await usageOf(body, client);
      const usage = await usageOf(body, client);
      assert.deepEqual([usage.cache_creation_input_tokens, usage.cache_read_input_tokens], [0, 0]);
    } finally {
      await plain.stop();
    }
  });
});

describe('a captured Claude Code tool loop', () => {
  test('replayed under strict mode, its first request writes the cache and every later one reads most of its prompt from it', async () => {
    const strict = await startTestServer('settings: { strict: true, prompt_cache: true }\nresponses: {}\n');
    try {
      const usages: Anthropic.Usage[] = [];
      for (const request of capture('claude-code-tool-loop')) {
        const sent = await replay(strict.url, request, { ...request.body, stream: false });
        assert.equal(sent.status, 200, sent.text);
        const usage = (JSON.parse(sent.text) as Anthropic.Message).usage;
        // count_tokens takes the body without the fields only /v1/messages takes.
        const { stream: _s, max_tokens: _m, metadata: _d, ...counted } = request.body;
        const count = await fetch(`${strict.url}/v1/messages/count_tokens`, { method: 'POST', headers: request.headers, body: JSON.stringify(counted) });
        assert.equal(count.status, 200);
        const total = ((await count.json()) as { input_tokens: number }).input_tokens;
        assert.equal(usage.input_tokens + usage.cache_creation_input_tokens! + usage.cache_read_input_tokens!, total);
        usages.push(usage);
      }
      assert.equal(usages[0]!.cache_read_input_tokens, 0);
      assert.ok(usages[0]!.cache_creation_input_tokens! > 5000, JSON.stringify(usages[0]));
      for (const later of usages.slice(1)) assert.ok(later.cache_read_input_tokens! > later.cache_creation_input_tokens! + later.input_tokens, JSON.stringify(later));
    } finally {
      await strict.stop();
    }
  });
});

describe('a captured Codex CLI tool loop', () => {
  test('replayed under strict mode, each later request reports cached_tokens in 128-token steps and a reasoning item first', async () => {
    const strict = await startTestServer('settings: { strict: true, prompt_cache: true }\nresponses: {}\n');
    try {
      const responses: OpenAI.Responses.Response[] = [];
      for (const request of capture('codex-tool-loop')) {
        const sent = await replay(strict.url, request, { ...request.body, stream: false });
        assert.equal(sent.status, 200, sent.text);
        responses.push(JSON.parse(sent.text) as OpenAI.Responses.Response);
      }
      assert.equal(responses[0]!.usage!.input_tokens_details.cached_tokens, 0);
      for (const later of responses.slice(1)) {
        const { input_tokens, input_tokens_details } = later.usage!;
        assert.ok(input_tokens_details.cached_tokens >= 1024 && input_tokens_details.cached_tokens % 128 === 0 && input_tokens - input_tokens_details.cached_tokens < 256, JSON.stringify(later.usage));
      }
      // Codex asks for reasoning (effort, encrypted content): every answer opens with a reasoning item.
      for (const response of responses) {
        assert.equal(response.output[0]!.type, 'reasoning');
        assert.ok(response.usage!.output_tokens_details.reasoning_tokens > 0);
      }
    } finally {
      await strict.stop();
    }
  });
});

describe('OpenAI automatic prompt caching', () => {
  const long = (variant: string) => [
    { role: 'system' as const, content: `${SYSTEM}\nVariant: ${variant}.` },
    { role: 'user' as const, content: 'first question' },
  ];

  test('a repeated prompt of 1,024 tokens or more reports cached_tokens in 128-token steps, within prompt_tokens', async () => {
    const first = await openai.chat.completions.create({ model: 'gpt-4o', messages: long('chat') });
    assert.ok(first.usage!.prompt_tokens >= 1024);
    assert.equal(first.usage!.prompt_tokens_details!.cached_tokens, 0);
    const second = await openai.chat.completions.create({ model: 'gpt-4o', messages: long('chat') });
    const cached = second.usage!.prompt_tokens_details!.cached_tokens!;
    assert.equal(second.usage!.prompt_tokens, first.usage!.prompt_tokens);
    assert.ok(cached >= 1024 && (cached - 1024) % 128 === 0, `cached ${cached}`);
    assert.ok(cached <= second.usage!.prompt_tokens && second.usage!.prompt_tokens - cached < 128 + 20, `${cached} of ${second.usage!.prompt_tokens}`);
  });

  test('a different last message still reads the shared prefix; a short prompt is never cached', async () => {
    await openai.chat.completions.create({ model: 'gpt-4o', messages: long('prefix') });
    const other = await openai.chat.completions.create({ model: 'gpt-4o', messages: [...long('prefix').slice(0, 1), { role: 'user', content: 'a different question' }] });
    assert.ok(other.usage!.prompt_tokens_details!.cached_tokens! >= 1024);
    for (let i = 0; i < 2; i++) {
      const short = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'first question' }] });
      assert.equal(short.usage!.prompt_tokens_details!.cached_tokens, 0);
    }
  });

  test('prompt_cache_retention "24h" keeps the prefix past the in-memory 5 minutes', async () => {
    const ask = () => openai.chat.completions.create({ model: 'gpt-4o', prompt_cache_retention: '24h', messages: long('retention') });
    await ask();
    await clock.advance(60 * MINUTE);
    assert.ok((await ask()).usage!.prompt_tokens_details!.cached_tokens! >= 1024);
  });

  test('the Responses API reports input_tokens_details.cached_tokens the same way, and it expires after 5 idle minutes', async () => {
    const ask = () => openai.responses.create({ model: 'gpt-5.5', instructions: `${SYSTEM}\nVariant: responses.`, input: 'first question' });
    assert.equal((await ask()).usage!.input_tokens_details.cached_tokens, 0);
    const second = await ask();
    assert.ok(second.usage!.input_tokens_details.cached_tokens >= 1024);
    assert.equal(second.usage!.input_tokens_details.cached_tokens % 128, 0);
    await clock.advance(5 * MINUTE + 1);
    assert.equal((await ask()).usage!.input_tokens_details.cached_tokens, 0);
  });
});

describe('the prompt cache in Redis', { skip: redisMissing }, () => {
  let redis: RedisServer;
  const replicas: TestServer[] = [];

  before(async () => {
    redis = await RedisServer.start();
    for (let i = 0; i < 2; i++) {
      const logger = createLogger('silent');
      replicas.push(await startTestServer(CONFIG, { state: (journalSize) => createRedisState({ url: redis.url, prefix: `pcache-test-${process.pid}:`, journalSize, logger }) }));
    }
  });

  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await redis?.stop();
  });

  test('a prefix written through one replica is read through another, and a reset on either forgets it', async () => {
    const [a, b] = replicas.map((r) => new Anthropic({ baseURL: r.url, apiKey: 'k', maxRetries: 0 }));
    const body: Body = { system: cachedSystem('redis'), messages: [{ role: 'user', content: 'first question' }] };
    const written = await usageOf(body, a);
    assert.ok(written.cache_creation_input_tokens! > 0);
    assert.equal((await usageOf(body, b)).cache_read_input_tokens, written.cache_creation_input_tokens);
    assert.ok((await fetch(`${replicas[1]!.url}/admin/reset`, { method: 'POST' })).ok);
    assert.equal((await usageOf(body, a)).cache_read_input_tokens, 0);
  });
});
