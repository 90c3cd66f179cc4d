// Cache and reasoning figures "the way bills read them", through each official SDK: one rule fixes
// the uncached input, the cache read and write, the output and the reasoning tokens, and each API
// reports them in its own words (Anthropic input excludes the cache, OpenAI and Gemini prompt
// totals include it, Bedrock splits it like Anthropic); a rule's thinking shows as each API's own
// thinking (Gemini thought parts with includeThoughts, Bedrock reasoningContent).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { GoogleGenAI } from '@google/genai';
import { ConverseCommand, ConverseStreamCommand, type ContentBlock } from '@aws-sdk/client-bedrock-runtime';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { runtimeClient } from '../providers/bedrock/support.ts';

const UNCACHED = 120;
const READ = 3000;
const WRITTEN = 400;
const OUTPUT = 90;
const REASONING = 60;
const THOUGHT = 'Weighing the cached context against the question.';

const CONFIG = `rules:
  - id: billed
    match: { contains: "bill me" }
    response:
      text: "Billed."
      usage:
        input_tokens: ${UNCACHED}
        cache_read_input_tokens: ${READ}
        cache_creation_input_tokens: ${WRITTEN}
        output_tokens: ${OUTPUT}
        reasoning_tokens: ${REASONING}
  - id: cached-only
    match: { contains: "cache figures only" }
    response: { text: "Counted.", usage: { cache_read_input_tokens: 500 } }
  - id: thoughtful
    match: { contains: "think first" }
    response: { thinking: ${JSON.stringify(THOUGHT)}, text: "Thought it through." }
`;
const TOTAL = UNCACHED + READ + WRITTEN;

let server: TestServer;

before(async () => {
  server = await startTestServer(CONFIG);
});

after(async () => {
  await server?.stop();
});

describe('fixed cache and reasoning figures', () => {
  test('@anthropic-ai/sdk: input excludes the cache, the cache figures and their 5-minute split, count_tokens the whole', async () => {
    const client = new Anthropic({ baseURL: server.url, apiKey: 'k', maxRetries: 0 });
    const params = { model: 'claude-sonnet-5-5', max_tokens: 1024, messages: [{ role: 'user' as const, content: 'bill me' }] };
    const { usage } = await client.messages.create(params);
    assert.deepEqual(
      [usage.input_tokens, usage.cache_read_input_tokens, usage.cache_creation_input_tokens, usage.output_tokens],
      [UNCACHED, READ, WRITTEN, OUTPUT],
    );
    assert.deepEqual(usage.cache_creation, { ephemeral_5m_input_tokens: WRITTEN, ephemeral_1h_input_tokens: 0 });
    const final = await client.messages.stream(params).finalMessage();
    assert.deepEqual(final.usage, usage, 'the stream\'s message_start and message_delta carry the same figures');
    const { input_tokens } = await client.messages.countTokens({ model: params.model, messages: params.messages });
    assert.equal(input_tokens, TOTAL);
  });

  test('openai chat and Responses: the prompt total includes cached_tokens, the completion includes reasoning_tokens', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const chat = await client.chat.completions.create({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'bill me' }] });
    assert.equal(chat.usage!.prompt_tokens, TOTAL);
    assert.equal(chat.usage!.prompt_tokens_details!.cached_tokens, READ);
    assert.equal(chat.usage!.completion_tokens, OUTPUT);
    assert.equal(chat.usage!.completion_tokens_details!.reasoning_tokens, REASONING);
    assert.equal(chat.usage!.total_tokens, TOTAL + OUTPUT);
    const response = await client.responses.create({ model: 'gpt-5.5', input: 'bill me' });
    assert.deepEqual(response.usage, {
      input_tokens: TOTAL,
      input_tokens_details: { cached_tokens: READ },
      output_tokens: OUTPUT,
      output_tokens_details: { reasoning_tokens: REASONING },
      total_tokens: TOTAL + OUTPUT,
    });
  });

  test('@google/genai: promptTokenCount includes cachedContentTokenCount; thoughtsTokenCount is outside candidates and inside the total', async () => {
    const ai = new GoogleGenAI({ apiKey: 'g-key', httpOptions: { baseUrl: server.url } });
    const result = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'bill me' });
    const usage = result.usageMetadata!;
    assert.equal(usage.promptTokenCount, TOTAL);
    assert.equal(usage.cachedContentTokenCount, READ);
    assert.equal(usage.candidatesTokenCount, OUTPUT);
    assert.equal(usage.thoughtsTokenCount, REASONING);
    assert.equal(usage.totalTokenCount, TOTAL + OUTPUT + REASONING);
    const counted = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'bill me' });
    assert.equal(counted.totalTokens, TOTAL);
  });

  test('bedrock runtime Converse: inputTokens excludes the cache, cacheRead/WriteInputTokens, streamed and not', async () => {
    const client = runtimeClient(server.url, 'http1');
    const input = { modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', messages: [{ role: 'user' as const, content: [{ text: 'bill me' }] }] };
    const { usage } = await client.send(new ConverseCommand(input));
    assert.equal(usage!.inputTokens, UNCACHED);
    assert.equal(usage!.cacheReadInputTokens, READ);
    assert.equal(usage!.cacheWriteInputTokens, WRITTEN);
    assert.equal(usage!.outputTokens, OUTPUT);
    assert.equal(usage!.totalTokens, TOTAL + OUTPUT);
    const stream = await client.send(new ConverseStreamCommand(input));
    let streamed: typeof usage;
    for await (const event of stream.stream!) if (event.metadata) streamed = event.metadata.usage;
    assert.deepEqual(streamed, usage);
    client.destroy();
  });

  test('cache figures without an input figure describe a prompt that much longer than the one sent', async () => {
    const client = new Anthropic({ baseURL: server.url, apiKey: 'k', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'cache figures only' }];
    const { usage } = await client.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64, messages });
    assert.equal(usage.cache_read_input_tokens, 500);
    assert.ok(usage.input_tokens > 0 && usage.input_tokens < 50, 'the counted prompt stays the uncached input');
    const { input_tokens } = await client.messages.countTokens({ model: 'claude-sonnet-5-5', messages });
    assert.equal(input_tokens, usage.input_tokens + 500);
  });
});

describe('a rule\'s thinking in Gemini and Bedrock', () => {
  test('@google/genai: thought parts only with includeThoughts, counted in thoughtsTokenCount either way, and .text leaves them out', async () => {
    const ai = new GoogleGenAI({ apiKey: 'g-key', httpOptions: { baseUrl: server.url } });
    const shown = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'think first', config: { thinkingConfig: { includeThoughts: true } } });
    const parts = shown.candidates![0]!.content!.parts!;
    assert.deepEqual(parts[0], { text: THOUGHT, thought: true });
    assert.equal(shown.text, 'Thought it through.');
    assert.ok(shown.usageMetadata!.thoughtsTokenCount! > 0);
    const hidden = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'think first' });
    assert.ok(!hidden.candidates![0]!.content!.parts!.some((p) => p.thought));
    assert.equal(hidden.usageMetadata!.thoughtsTokenCount, shown.usageMetadata!.thoughtsTokenCount);
    let streamedThought = '';
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'think first', config: { thinkingConfig: { includeThoughts: true } } })) {
      for (const part of chunk.candidates?.[0]?.content?.parts ?? []) if (part.thought) streamedThought += part.text ?? '';
    }
    assert.equal(streamedThought, THOUGHT);
  });

  test('@google/genai: with includeThoughts and no thinking in the rule a thought part still comes first; a budget of 0 thinks nothing', async () => {
    const ai = new GoogleGenAI({ apiKey: 'g-key', httpOptions: { baseUrl: server.url } });
    const thought = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'what is new?', config: { thinkingConfig: { includeThoughts: true } } });
    const parts = thought.candidates![0]!.content!.parts!;
    assert.equal(parts[0]!.thought, true);
    assert.match(parts[0]!.text!, /what is new/);
    assert.ok(thought.usageMetadata!.thoughtsTokenCount! > 0);
    const off = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'what is new?', config: { thinkingConfig: { thinkingBudget: 0, includeThoughts: true } } });
    assert.ok(!off.candidates![0]!.content!.parts!.some((p) => p.thought));
    assert.equal(off.usageMetadata!.thoughtsTokenCount, undefined);
  });

  test('bedrock runtime: with thinking on, a reasoningContent block with text and signature comes first, streamed as reasoning deltas; without, none', async () => {
    const client = runtimeClient(server.url, 'http1');
    const plain = { modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', messages: [{ role: 'user' as const, content: [{ text: 'think first' }] }] };
    const input = { ...plain, additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } } };
    const unthinking = await client.send(new ConverseCommand(plain));
    assert.deepEqual(unthinking.output!.message!.content!.map((block) => Object.keys(block).filter((k) => k !== '$unknown')), [['text']]);
    const { output } = await client.send(new ConverseCommand(input));
    const content = output!.message!.content as ContentBlock[];
    const reasoning = content[0]!.reasoningContent!.reasoningText!;
    assert.equal(reasoning.text, THOUGHT);
    assert.ok(reasoning.signature!.length > 20);
    assert.equal(content[1]!.text, 'Thought it through.');
    const stream = await client.send(new ConverseStreamCommand(input));
    let text = '';
    let signature: string | undefined;
    for await (const event of stream.stream!) {
      const delta = event.contentBlockDelta?.delta?.reasoningContent;
      if (delta?.text) text += delta.text;
      if (delta?.signature) signature = delta.signature;
    }
    assert.equal(text, THOUGHT);
    assert.equal(signature, reasoning.signature);
    client.destroy();
  });
});
