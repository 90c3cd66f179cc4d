// Thinking and cache figures as the frameworks read them: the AI SDK turns Anthropic thinking blocks
// and OpenAI reasoning summaries into reasoning text (streamed and not), and reads cache and
// reasoning tokens into its usage; a multi-step AI SDK tool loop with thinking sends the signed
// blocks back and passes strict mode.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, stepCountIs, streamText, tool, jsonSchema } from 'ai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const THOUGHT = 'First I check the forecast, then I answer.';
const AFTER = 'The forecast is in.';

const CONFIG = `settings:
  strict: true
rules:
  - id: forecast-answer
    priority: 2
    match: { contains: "forecast for Rome", tool_result: forecast }
    response: { thinking: ${JSON.stringify(AFTER)}, text: "Sunny in Rome." }
  - id: forecast-call
    priority: 1
    match: { contains: "forecast for Rome" }
    response:
      thinking: ${JSON.stringify(THOUGHT)}
      tool_calls: [{ name: forecast, arguments: { city: Rome } }]
  - id: billed
    match: { contains: "bill me" }
    response:
      thinking: ${JSON.stringify(THOUGHT)}
      text: "Billed."
      usage: { input_tokens: 100, cache_read_input_tokens: 900, cache_creation_input_tokens: 50, reasoning_tokens: 40, output_tokens: 70 }
`;

let server: TestServer;

before(async () => {
  server = await startTestServer(CONFIG);
});

after(async () => {
  await server?.stop();
});

const forecast = tool({
  description: 'The forecast for a city',
  inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }),
  execute: async ({ city }) => `${city}: sunny, 24 °C`,
});

describe('the AI SDK', () => {
  const anthropic = () => createAnthropic({ baseURL: `${server.url}/v1`, apiKey: 'sk-ant' })('claude-sonnet-4-5');
  const thinking = { anthropic: { thinking: { type: 'enabled', budgetTokens: 2048 } } };

  test('Anthropic: a two-step tool loop with thinking returns each step\'s reasoning and sends the signed blocks back (strict mode)', async () => {
    const result = await generateText({ model: anthropic(), prompt: 'What is the forecast for Rome?', tools: { forecast }, stopWhen: stepCountIs(3), providerOptions: thinking, maxOutputTokens: 4096 });
    assert.equal(result.text, 'Sunny in Rome.');
    assert.equal(result.steps.length, 2);
    assert.equal(result.steps[0]!.reasoningText, THOUGHT);
    assert.equal(result.steps[1]!.reasoningText, AFTER);
  });

  test('Anthropic, streamed: reasoning deltas join to the thinking, then the text', async () => {
    const result = streamText({ model: anthropic(), prompt: 'bill me', providerOptions: thinking, maxOutputTokens: 4096 });
    let reasoning = '';
    for await (const part of result.fullStream) if (part.type === 'reasoning-delta') reasoning += part.text;
    assert.equal(reasoning, THOUGHT);
    assert.equal(await result.text, 'Billed.');
  });

  test('Anthropic usage: cache read and write and the uncached input as the AI SDK reads them', async () => {
    const { usage } = await generateText({ model: anthropic(), prompt: 'bill me', providerOptions: thinking, maxOutputTokens: 4096 });
    assert.equal(usage.inputTokenDetails.cacheReadTokens, 900);
    assert.equal(usage.inputTokenDetails.cacheWriteTokens, 50);
    assert.equal(usage.inputTokenDetails.noCacheTokens, 100);
    assert.equal(usage.inputTokens, 1050);
    assert.equal(usage.outputTokens, 70);
  });

  test('OpenAI Responses: the reasoning summary is the reasoning text, and reasoning and cached tokens are in usage', async () => {
    const openai = createOpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test' });
    const result = await generateText({ model: openai('gpt-5.5'), prompt: 'bill me', providerOptions: { openai: { reasoningEffort: 'medium', reasoningSummary: 'auto' } } });
    assert.equal(result.reasoningText, THOUGHT);
    assert.equal(result.text, 'Billed.');
    assert.equal(result.usage.inputTokens, 1050);
    assert.equal(result.usage.inputTokenDetails.cacheReadTokens, 900);
    assert.equal(result.usage.outputTokenDetails.reasoningTokens, 40);
  });
});
