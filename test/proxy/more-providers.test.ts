// Record and replay for the providers beyond OpenAI and Anthropic, through their official clients:
// Gemini (@google/genai: generateContent, a stream over SSE, a function-call loop), Ollama
// (`ollama`: /api/chat whole and streamed as NDJSON, a tool loop) and Azure OpenAI (`AzureOpenAI`
// on the deployments surface). The upstream is a second mockllm playing each API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI, type Content } from '@google/genai';
import { Ollama, type Message } from 'ollama';
import { AzureOpenAI } from 'openai';
import type OpenAI from 'openai';
import { validateFiles } from '../../src/cli/validate.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { HELLO, STORY, SUNNY, UPSTREAM_CONFIG } from './support.ts';

const GEMINI_KEY = 'AIzaSyCLIENTsecret0123456789abcdefghijk';
const AZURE_KEY = 'azure-CLIENT-secret-0123456789';

async function geminiFlows(url: string) {
  const ai = new GoogleGenAI({ apiKey: GEMINI_KEY, httpOptions: { baseUrl: url } });
  const model = 'gemini-2.5-flash';
  const hello = await ai.models.generateContent({ model, contents: 'say hello' });
  let storyText = '';
  let storyUsage: unknown;
  for await (const chunk of await ai.models.generateContentStream({ model, contents: 'tell a story' })) {
    storyText += chunk.text ?? '';
    storyUsage = [chunk.usageMetadata?.promptTokenCount, chunk.usageMetadata?.candidatesTokenCount];
  }
  const tools = [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } } }] }];
  const ask: Content[] = [{ role: 'user', parts: [{ text: 'weather in Paris?' }] }];
  const step1 = await ai.models.generateContent({ model, contents: ask, config: { tools } });
  const step2 = await ai.models.generateContent({
    model,
    contents: [...ask, step1.candidates![0]!.content!, { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] }],
    config: { tools },
  });
  return {
    hello: [hello.text, hello.candidates?.[0]?.finishReason, hello.usageMetadata?.promptTokenCount, hello.usageMetadata?.candidatesTokenCount],
    story: [storyText, storyUsage],
    loop: [step1.functionCalls?.map((c) => [c.name, c.args]), step2.text, step2.candidates?.[0]?.finishReason],
  };
}

async function ollamaFlows(url: string) {
  const client = new Ollama({ host: url });
  const model = 'llama3.2';
  const hello = await client.chat({ model, messages: [{ role: 'user', content: 'say hello' }] });
  let storyText = '';
  let last: { done_reason?: string; eval_count?: number; prompt_eval_count?: number } = {};
  for await (const part of await client.chat({ model, messages: [{ role: 'user', content: 'tell a story' }], stream: true })) {
    storyText += part.message.content;
    if (part.done) last = part;
  }
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const ask: Message[] = [{ role: 'user', content: 'weather in Paris?' }];
  const step1 = await client.chat({ model, messages: ask, tools });
  const step2 = await client.chat({ model, tools, messages: [...ask, step1.message, { role: 'tool', content: '{"temp": 21}', tool_name: 'get_weather' }] });
  return {
    hello: [hello.message.content, hello.done_reason, hello.prompt_eval_count, hello.eval_count],
    story: [storyText, last.done_reason, last.prompt_eval_count, last.eval_count],
    loop: [step1.message.tool_calls?.map((c) => [(c as { id?: string }).id, c.function.name, c.function.arguments]), step2.message.content, step2.done_reason],
  };
}

async function azureFlows(url: string) {
  const azure = new AzureOpenAI({ endpoint: url, apiKey: AZURE_KEY, apiVersion: '2024-10-21', deployment: 'gpt-4o-prod', maxRetries: 0 });
  const hello = await azure.chat.completions.create({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'say hello' }] });
  let storyText = '';
  for await (const chunk of await azure.chat.completions.create({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'tell a story' }], stream: true })) {
    storyText += chunk.choices[0]?.delta.content ?? '';
  }
  const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const ask: OpenAI.Chat.ChatCompletionMessageParam = { role: 'user', content: 'weather in Paris?' };
  const step1 = await azure.chat.completions.create({ model: 'gpt-4o-prod', messages: [ask], tools });
  const call = step1.choices[0]!.message.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
  const step2 = await azure.chat.completions.create({
    model: 'gpt-4o-prod',
    tools,
    messages: [ask, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' }],
  });
  return {
    hello: [hello.choices[0]!.message.content, hello.choices[0]!.finish_reason, hello.usage?.prompt_tokens, hello.usage?.completion_tokens],
    story: storyText,
    loop: [call.id, call.function.name, call.function.arguments, step2.choices[0]!.message.content, step2.choices[0]!.finish_reason],
  };
}

let dir: string;
let recordPath: string;
let recordedText: string;
let replay: TestServer;
const recorded: Record<string, unknown> = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mockllm-record-more-'));
  recordPath = join(dir, 'recorded.yml');
  const upstream = await startTestServer(UPSTREAM_CONFIG);
  const recorder = await startTestServer('rules: []\n', { upstreams: { gemini: upstream.url, ollama: upstream.url, azure: upstream.url }, record: recordPath });
  try {
    recorded.gemini = await geminiFlows(recorder.url);
    recorded.ollama = await ollamaFlows(recorder.url);
    recorded.azure = await azureFlows(recorder.url);
    await recorder.close();
    assert.ok(!recorder.logText().includes('no recorder for'), 'every provider here has a recorder');
  } finally {
    await recorder.stop();
    await upstream.stop();
  }
  recordedText = await readFile(recordPath, 'utf8');
  replay = await startTestServer(recordedText);
});

after(async () => {
  await replay?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('the answers while recording came from the upstream', () => {
  const gemini = recorded.gemini as { hello: unknown[]; story: unknown[]; loop: unknown[] };
  assert.equal(gemini.hello[0], HELLO);
  assert.equal(gemini.story[0], STORY);
  assert.equal(gemini.loop[1], SUNNY);
  assert.equal((recorded.ollama as { story: unknown[] }).story[0], STORY);
  assert.equal((recorded.azure as { loop: unknown[] }).loop[3], SUNNY);
});

test('the recorded file is valid and holds none of the client keys', () => {
  assert.equal(validateFiles([recordPath]).valid, true);
  for (const secret of [GEMINI_KEY, AZURE_KEY, 'CLIENTsecret', 'CLIENT-secret']) assert.ok(!recordedText.includes(secret), `the file holds ${secret}`);
});

test('Gemini replays the same text, stream, function call, finish reasons and usage', async () => {
  assert.deepEqual(await geminiFlows(replay.url), recorded.gemini);
});

test('Ollama replays the same text, NDJSON stream, tool call (id, arguments), done reasons and counts', async () => {
  assert.deepEqual(await ollamaFlows(replay.url), recorded.ollama);
});

test('Azure OpenAI replays the same text, stream, tool call id, finish reasons and usage', async () => {
  assert.deepEqual(await azureFlows(replay.url), recorded.azure);
});
