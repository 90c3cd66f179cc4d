// Two answers the recorder used to miss: OpenAI's legacy completions (`client.completions.create`,
// whole and streamed, with echo; several choices are proxied but not recorded), and Gemini's
// streamGenerateContent without `alt=sse`, a JSON array whose elements arrive one by one and are
// now timed like the SSE stream's chunks. Recorded through the proxy, replayed from the file alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import OpenAI from 'openai';
import { validateFiles } from '../../src/cli/validate.ts';
import type { ConfigFile, ResponseObject } from '../../src/config/schema.ts';
import { jsonArraySplitter } from '../../src/proxy/frames.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { HELLO, OPENAI_KEY, STORY, UPSTREAM_CONFIG } from './support.ts';

const GEMINI_KEY = 'AIzaSyCLIENTsecretARRAY0123456789abcdefg';

async function completionFlows(url: string) {
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: OPENAI_KEY, maxRetries: 0, timeout: 30_000 });
  const hello = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'say hello' });
  const echoed = await client.completions.create({ model: 'davinci-002', prompt: 'say hello', echo: true });
  let storyText = '';
  let storyFinish: string | null = null;
  let storyUsage: number[] | undefined;
  const stream = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'tell a story', stream: true, stream_options: { include_usage: true } });
  for await (const chunk of stream) {
    storyText += chunk.choices[0]?.text ?? '';
    storyFinish = chunk.choices[0]?.finish_reason ?? storyFinish;
    if (chunk.usage) storyUsage = [chunk.usage.prompt_tokens, chunk.usage.completion_tokens];
  }
  let echoStreamText = '';
  for await (const chunk of await client.completions.create({ model: 'davinci-002', prompt: 'tell a story', stream: true, echo: true })) echoStreamText += chunk.choices[0]?.text ?? '';
  return {
    hello: [hello.choices[0]!.text, hello.choices[0]!.finish_reason, hello.usage?.prompt_tokens, hello.usage?.completion_tokens],
    echoed: [echoed.choices[0]!.text, echoed.choices[0]!.finish_reason],
    story: [storyText, storyFinish, storyUsage],
    echoStream: echoStreamText,
  };
}

/** streamGenerateContent without alt=sse, read as it arrives: each element with the time it completed. */
async function geminiArray(url: string) {
  const started = performance.now();
  const response = await fetch(`${url}/v1beta/models/gemini-2.5-flash:streamGenerateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': GEMINI_KEY },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'tell a story' }] }] }),
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const splitter = jsonArraySplitter();
  const decoder = new TextDecoder();
  for await (const piece of response.body!) splitter.push(decoder.decode(piece, { stream: true }), performance.now() - started);
  const chunks = splitter.frames!.map((frame) => ({ json: JSON.parse(frame.data) as { candidates?: { content?: { parts?: { text?: string }[] }; finishReason?: string }[]; usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number } }, atMs: frame.atMs }));
  const withText = chunks.filter((c) => c.json.candidates?.[0]?.content?.parts?.some((p) => p.text));
  const last = chunks.at(-1)!.json;
  return {
    observed: {
      text: chunks.map((c) => c.json.candidates?.[0]?.content?.parts?.map((p) => p.text ?? '').join('') ?? '').join(''),
      finish: last.candidates?.[0]?.finishReason,
      usage: [last.usageMetadata?.promptTokenCount, last.usageMetadata?.candidatesTokenCount],
    },
    firstContentMs: withText[0]!.atMs,
    spanMs: withText.at(-1)!.atMs - withText[0]!.atMs,
  };
}

let dir: string;
let recordPath: string;
let recordedText: string;
let upstream: TestServer;
let recorder: TestServer;
let replay: TestServer;
let recordedCompletions: Awaited<ReturnType<typeof completionFlows>>;
let recordedGemini: Awaited<ReturnType<typeof geminiArray>>;
let severalChoices: string[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mockllm-record-completions-'));
  recordPath = join(dir, 'recorded.yml');
  upstream = await startTestServer(UPSTREAM_CONFIG);
  recorder = await startTestServer('rules: []\n', { upstreams: { openai: upstream.url, gemini: upstream.url }, record: recordPath });
  recordedCompletions = await completionFlows(recorder.url);
  recordedGemini = await geminiArray(recorder.url);
  const client = new OpenAI({ baseURL: `${recorder.url}/v1`, apiKey: OPENAI_KEY, maxRetries: 0 });
  const several = await client.completions.create({ model: 'babbage-002', prompt: 'roll a die', n: 2 });
  severalChoices = several.choices.map((c) => c.text);
  await recorder.close();
  await upstream.close();
  recordedText = await readFile(recordPath, 'utf8');
  replay = await startTestServer(recordedText);
});

after(async () => {
  await replay?.stop();
  await recorder?.stop();
  await upstream?.stop();
  await rm(dir, { recursive: true, force: true });
});

const rules = () => (loadYaml(recordedText) as ConfigFile).rules!;

describe('legacy completions', () => {
  test('the client got the upstream\'s completions through the proxy, echo included', () => {
    assert.equal(recordedCompletions.hello[0], HELLO);
    assert.equal(recordedCompletions.echoed[0], `say hello${HELLO}`);
    assert.equal(recordedCompletions.story[0], STORY);
    assert.equal(recordedCompletions.echoStream, `tell a story${STORY}`);
    assert.equal(severalChoices.length, 2);
  });

  test('each completion is a rule with the text (without the echoed prompt), finish reason and usage; a stream\'s rule has its timing', () => {
    assert.equal(validateFiles([recordPath]).valid, true);
    const completions = rules().filter((rule) => rule.match.endpoint === '/v1/completions');
    const byKey = Object.fromEntries(completions.map((rule) => [`${String(rule.match.model)} ${rule.match.prompt}`, rule.response as ResponseObject]));
    assert.deepEqual(Object.keys(byKey).sort(), ['davinci-002 say hello', 'davinci-002 tell a story', 'gpt-3.5-turbo-instruct say hello', 'gpt-3.5-turbo-instruct tell a story']);
    assert.equal(byKey['davinci-002 say hello']!.text, HELLO);
    assert.equal(byKey['davinci-002 tell a story']!.text, STORY);
    const story = byKey['gpt-3.5-turbo-instruct tell a story']!;
    assert.equal(story.finish_reason, 'stop');
    assert.ok(story.usage?.prompt_tokens && story.usage.completion_tokens, JSON.stringify(story.usage));
    assert.ok(story.latency!.ttft_ms! >= 250 && story.latency!.tokens_per_second! > 0, JSON.stringify(story.latency));
  });

  test('a completion with several choices is proxied but not recorded, and the log says so', () => {
    assert.ok(!rules().some((rule) => rule.match.prompt === 'roll a die'));
    assert.ok(recorder.logs.some((line) => line.msg === 'upstream answer incomplete or not recordable: not recorded' && line.route === '/v1/completions'));
  });

  test('replayed from the file alone, the completions give the same text, echo, finish reasons and usage, whole and streamed', async () => {
    assert.deepEqual(await completionFlows(replay.url), recordedCompletions);
  });
});

describe('Gemini streamGenerateContent without alt=sse', () => {
  test('the recorded rule has the upstream\'s time to the first element and its pace', () => {
    const rule = rules().find((r) => r.match.provider === 'gemini' && r.match.prompt === 'tell a story')!;
    const latency = (rule.response as ResponseObject).latency!;
    assert.ok(recordedGemini.firstContentMs >= 250, `the upstream's first element came at ${recordedGemini.firstContentMs} ms`);
    assert.ok(latency.ttft_ms! >= 250 && latency.ttft_ms! <= recordedGemini.firstContentMs + 50, JSON.stringify(latency));
    assert.ok(latency.tokens_per_second! > 0, JSON.stringify(latency));
  });

  test('the replay streams the same array with the recorded timing: same text, finish reason and usage, the first element as late', async () => {
    const replayed = await geminiArray(replay.url);
    assert.deepEqual(replayed.observed, recordedGemini.observed);
    assert.ok(replayed.firstContentMs >= 250, `first element at ${replayed.firstContentMs} ms`);
    assert.ok(replayed.spanMs >= 100, `the elements came over ${replayed.spanMs} ms`);
  });
});
