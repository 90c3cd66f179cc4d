// Higher-level clients on top of the same endpoints: the Vercel AI SDK (`openai.chat()` and
// `anthropic()` providers; the default `openai()` factory uses /v1/responses, not served yet) and
// LangChain's ChatOpenAI and ChatAnthropic. Each runs against a lenient and a strict server: a
// strict server must still accept everything these real clients send.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, streamText, type LanguageModel } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { ChatOpenAI } from '@langchain/openai';
import { ChatAnthropic } from '@langchain/anthropic';
import type { AIMessageChunk } from '@langchain/core/messages';
import Anthropic from '@anthropic-ai/sdk';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { configYaml, UNICODE_ANSWER, UNKNOWN } from './fixtures.ts';

const HI = 'Hello from mockllm, as seen through a framework.';
const SKY = 'The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.';
const RESPONSES = { hi: HI, 'what colour is the sky?': SKY, unicode: UNICODE_ANSWER };

const OPENAI_MODEL = 'gpt-4o';
const ANTHROPIC_MODEL = 'claude-sonnet-5-5';

/** Runs a streamText call to the end, failing on any error part instead of letting it pass silently. */
async function streamAll(model: LanguageModel, prompt: string) {
  const errors: unknown[] = [];
  const result = streamText({ model, prompt, maxRetries: 0, onError: ({ error }) => void errors.push(error) });
  const pieces: string[] = [];
  for await (const piece of result.textStream) pieces.push(piece);
  const [text, finishReason, usage] = await Promise.all([result.text, result.finishReason, result.usage]);
  assert.deepEqual(errors, [], 'the stream reported errors');
  assert.equal(pieces.join(''), text);
  return { text, finishReason, usage };
}

async function langChainStream(model: ChatOpenAI | ChatAnthropic, input: string): Promise<AIMessageChunk> {
  let full: AIMessageChunk | undefined;
  let chunks = 0;
  for await (const chunk of await model.stream(input)) {
    full = full ? full.concat(chunk) : chunk;
    chunks++;
  }
  assert.ok(full && chunks > 1, `expected several chunks, got ${chunks}`);
  return full;
}

for (const strict of [false, true]) {
  describe(`AI SDK and LangChain against a ${strict ? 'strict' : 'lenient'} server`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(configYaml({ responses: RESPONSES, unknown: UNKNOWN, settings: { strict } }));
    });

    after(async () => {
      await server?.stop();
    });

    const aiOpenAi = () => createOpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-ai-sdk' }).chat(OPENAI_MODEL);
    const aiAnthropic = () => createAnthropic({ baseURL: `${server.url}/v1`, apiKey: 'sk-ant-ai-sdk' })(ANTHROPIC_MODEL);

    test('AI SDK generateText via openai.chat() gets the text, finishReason stop and the OpenAI token counts', async () => {
      const result = await generateText({ model: aiOpenAi(), prompt: 'hi', maxRetries: 0 });
      assert.equal(result.text, HI);
      assert.equal(result.finishReason, 'stop');
      assert.equal(result.usage.inputTokens, 8);
      assert.equal(result.usage.outputTokens, countTokens(HI));
      assert.equal(result.usage.totalTokens, 8 + countTokens(HI));
    });

    test('AI SDK streamText via openai.chat() gets the same text, finishReason and usage as generateText', async () => {
      const streamed = await streamAll(aiOpenAi(), 'what colour is the sky?');
      const generated = await generateText({ model: aiOpenAi(), prompt: 'what colour is the sky?', maxRetries: 0 });
      assert.equal(streamed.text, SKY);
      assert.equal(streamed.finishReason, 'stop');
      assert.equal(streamed.usage.inputTokens, generated.usage.inputTokens);
      assert.equal(streamed.usage.outputTokens, countTokens(SKY));
      assert.equal(streamed.usage.totalTokens, generated.usage.totalTokens);
    });

    test('AI SDK generateText via anthropic() gets the text, finishReason stop and the usage the Anthropic SDK sees', async () => {
      const result = await generateText({ model: aiAnthropic(), prompt: 'hi', maxRetries: 0 });
      assert.equal(result.text, HI);
      assert.equal(result.finishReason, 'stop');
      const reference = await new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-ref', maxRetries: 0 }).messages.create({
        model: ANTHROPIC_MODEL,
        max_tokens: 64,
        messages: [{ role: 'user', content: 'hi' }],
      });
      assert.ok(reference.usage.input_tokens > 0 && reference.usage.output_tokens > 0);
      assert.equal(result.usage.inputTokens, reference.usage.input_tokens);
      assert.equal(result.usage.outputTokens, reference.usage.output_tokens);
    });

    test('AI SDK streamText via anthropic() gets the same text, finishReason and usage as generateText', async () => {
      const streamed = await streamAll(aiAnthropic(), 'what colour is the sky?');
      const generated = await generateText({ model: aiAnthropic(), prompt: 'what colour is the sky?', maxRetries: 0 });
      assert.equal(streamed.text, SKY);
      assert.equal(streamed.finishReason, 'stop');
      assert.ok((streamed.usage.inputTokens ?? 0) > 0 && (streamed.usage.outputTokens ?? 0) > 0);
      assert.equal(streamed.usage.inputTokens, generated.usage.inputTokens);
      assert.equal(streamed.usage.outputTokens, generated.usage.outputTokens);
    });

    test('AI SDK streams of a Unicode answer reassemble it exactly on both providers', async () => {
      assert.equal((await streamAll(aiOpenAi(), 'unicode')).text, UNICODE_ANSWER);
      assert.equal((await streamAll(aiAnthropic(), 'unicode')).text, UNICODE_ANSWER);
    });

    test('LangChain ChatOpenAI invoke and stream return the configured text with usage', async () => {
      const model = new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: 'sk-langchain', maxRetries: 0, configuration: { baseURL: `${server.url}/v1` } });
      const message = await model.invoke('hi');
      assert.equal(message.content, HI);
      assert.equal(message.usage_metadata?.input_tokens, 8);
      assert.equal(message.usage_metadata?.output_tokens, countTokens(HI));
      const streamed = await langChainStream(model, 'what colour is the sky?');
      assert.equal(streamed.content, SKY);
      assert.equal(streamed.usage_metadata?.output_tokens, countTokens(SKY));
    });

    test('LangChain ChatAnthropic invoke and stream return the configured text with usage', async () => {
      // LangChain takes the Anthropic base URL without /v1.
      const model = new ChatAnthropic({ model: ANTHROPIC_MODEL, apiKey: 'sk-ant-langchain', maxRetries: 0, anthropicApiUrl: server.url });
      const message = await model.invoke('what colour is the sky?');
      assert.equal(message.content, SKY);
      assert.ok((message.usage_metadata?.input_tokens ?? 0) > 0 && (message.usage_metadata?.output_tokens ?? 0) > 0);
      const streamed = await langChainStream(model, 'what colour is the sky?');
      const text = typeof streamed.content === 'string' ? streamed.content : streamed.content.map((part) => ('text' in part ? part.text : '')).join('');
      assert.equal(text, SKY);
      assert.ok((streamed.usage_metadata?.output_tokens ?? 0) > 0);
    });
  });
}
