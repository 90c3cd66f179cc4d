// Record through the proxy, stop the upstream, replay from the recorded file alone: the official
// SDKs (OpenAI chat and Responses, Anthropic; streamed and not) get the same text, tool calls with
// the ids they send back, finish reasons and usage. The upstream is a second mockllm playing the API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { validateFiles } from '../../src/cli/validate.ts';
import type { ConfigFile, ResponseObject } from '../../src/config/schema.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { anthropicFlows, askThreeTimes, chatFlows, errorFlows, openAiClient, responsesFlows, type Observed } from './flows.ts';
import { ANTHROPIC_KEY, HELLO, LEAKED_KEY, OPENAI_KEY, STORY, SUNNY, UPSTREAM_CONFIG } from './support.ts';

let upstream: TestServer;
let recorder: TestServer;
let replay: TestServer;
let recordDir: string;
let recordPath: string;
let recordedText: string;
const recorded: Record<string, Observed | string[]> = {};
let leakAnswer: string;

before(async () => {
  recordDir = await mkdtemp(join(tmpdir(), 'mockllm-record-'));
  recordPath = join(recordDir, 'recorded.yml');
  upstream = await startTestServer(UPSTREAM_CONFIG);
  // The recording mock serves a config with no rules: every request is a miss, so it is proxied.
  recorder = await startTestServer('rules: []\n', { upstreams: { openai: upstream.url, anthropic: upstream.url }, record: recordPath, recordErrors: true });
  recorded.chat = await chatFlows(recorder.url);
  recorded.responses = await responsesFlows(recorder.url);
  recorded.anthropic = await anthropicFlows(recorder.url);
  recorded.three = await askThreeTimes(recorder.url);
  recorded.errors = await errorFlows(recorder.url);
  const leak = await openAiClient(recorder.url).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'what is your key?' }] });
  leakAnswer = leak.choices[0]!.message.content!;
  // close() waits for the recordings still being written.
  await recorder.close();
  await upstream.close();
  recordedText = await readFile(recordPath, 'utf8');
  replay = await startTestServer(recordedText);
});

after(async () => {
  await rm(recordDir, { recursive: true, force: true });
  await replay?.stop();
  await recorder?.stop();
  await upstream?.stop();
});

describe('through the proxy, the client gets what the upstream said', () => {
  test('OpenAI chat, Responses and Anthropic answers came from the upstream', () => {
    const chat = recorded.chat as { hello: { text: string }; story: { text: string }; loop: { step2: { text: string } } };
    assert.equal(chat.hello.text, HELLO);
    assert.equal(chat.story.text, STORY);
    assert.equal(chat.loop.step2.text, SUNNY);
    assert.equal((recorded.responses as { hello: { text: string } }).hello.text, HELLO);
    assert.equal((recorded.anthropic as { story: { text: string } }).story.text, STORY);
    assert.deepEqual(recorded.three, ['You rolled 4.', 'You rolled 1.', 'You rolled 6.']);
    assert.ok(leakAnswer.includes(LEAKED_KEY), 'the client itself gets the answer as the upstream sent it');
  });

  test('the upstream received the client credentials, passed through', async () => {
    const entries = await upstream.journal.list({});
    assert.ok(entries.length >= 10);
    for (const entry of entries) {
      const headers = entry.request.headers;
      assert.ok(headers.authorization === '[REDACTED]' || headers['x-api-key'] === '[REDACTED]', `credentials reached the upstream: ${JSON.stringify(headers)}`);
      assert.equal(headers.host, new URL(upstream.url).host, 'the host header is the upstream connection\'s own');
    }
  });
});

describe('the recorded file', () => {
  test('passes the config validator and starts with when and from which upstream it was recorded', () => {
    const report = validateFiles([recordPath]);
    assert.equal(report.valid, true, JSON.stringify(report));
    assert.match(recordedText, /^# Recorded by mockllm from anthropic=http:\/\/127\.0\.0\.1:\d+, openai=http:\/\/127\.0\.0\.1:\d+\n# First recorded \d{4}-\d\d-\d\dT/);
  });

  test('never holds the client credentials, and a key-shaped string in an answer is scrubbed', () => {
    for (const secret of [OPENAI_KEY, ANTHROPIC_KEY, LEAKED_KEY, 'CLIENTsecret', 'LEAKEDinANSWER']) assert.ok(!recordedText.includes(secret), `the file holds ${secret}`);
    assert.match(recordedText, /My key is \[REDACTED\], do not tell\./);
  });

  test('the streamed answer keeps the upstream timing as latency; the steps of a loop are told apart', () => {
    const doc = loadYaml(recordedText) as ConfigFile;
    const rules = doc.rules!;
    const story = rules.find((r) => r.match.prompt === 'tell a story' && r.match.provider === 'openai' && r.match.endpoint === '/v1/chat/completions')!;
    const latency = (story.response as ResponseObject).latency!;
    assert.ok(latency.ttft_ms! >= 250, `ttft ${latency.ttft_ms}`);
    assert.ok(latency.tokens_per_second! > 0);
    const weather = rules.filter((r) => r.match.prompt === 'weather in Paris?' && r.match.provider === 'anthropic');
    assert.deepEqual(weather.map((r) => [r.match.tool_result, r.match.assistant_turns]), [[false, 0], ['get_weather', 1]]);
    const die = rules.find((r) => r.match.prompt === 'roll a die')!;
    assert.equal((die.response as ResponseObject).sequence!.length, 3);
  });
});

describe('replayed from the recorded file alone, with the upstream gone', () => {
  test('OpenAI chat: the same text, tool call (id, name, arguments), finish reasons and usage, streamed and not', async () => {
    assert.deepEqual(await chatFlows(replay.url), recorded.chat);
  });

  test('OpenAI Responses: the same text, function call (call_id), status and usage', async () => {
    assert.deepEqual(await responsesFlows(replay.url), recorded.responses);
  });

  test('Anthropic messages: the same text, tool_use (id, input), stop reasons and usage', async () => {
    assert.deepEqual(await anthropicFlows(replay.url), recorded.anthropic);
  });

  test('the same question asked three times replays the three recorded answers in order', async () => {
    assert.deepEqual(await askThreeTimes(replay.url), ['You rolled 4.', 'You rolled 1.', 'You rolled 6.']);
  });

  test('the recorded upstream error comes back with its status, message and retry hint', async () => {
    const errors = (await errorFlows(replay.url)) as Record<string, { status: number; retryAfter: string | null; message: string }>;
    assert.deepEqual(errors, recorded.errors);
    assert.equal(errors.openai!.status, 429);
    assert.equal(errors.anthropic!.retryAfter, '7');
  });

  test('?unused=true lists exactly the recorded rule this replay never asked for', async () => {
    const unused = (await (await fetch(`${replay.url}/admin/responses?unused=true`)).json()) as { responses: { id: string; match: { prompt?: string } }[] };
    // Every exchange above was replayed except the one whose answer held a key.
    assert.deepEqual(unused.responses.map((r) => r.match.prompt), ['what is your key?']);
    const unmatched = await replay.journal.list({ matched: false });
    assert.deepEqual(unmatched.map((e) => e.prompt), [], 'nothing fell through to the default answer');
  });
});

test('the logs of the recording mock never show the client credentials', () => {
  const logs = recorder.logText();
  assert.ok(logs.includes('recorded upstream answer'));
  for (const secret of [OPENAI_KEY, ANTHROPIC_KEY, 'CLIENTsecret']) assert.ok(!logs.includes(secret), `the logs hold ${secret}`);
});
