// Bedrock through the proxy with @aws-sdk/client-bedrock-runtime: the client signs with SigV4 for
// the mock's host, so the mock signs each request again for the upstream with its own AWS
// credentials; a client with a Bedrock API key (bearer) is passed through. The upstream is a fake
// endpoint that checks both as AWS would (test/proxy/aws-support.ts) in front of a second mockllm.
// Converse and ConverseStream, a two-step tool loop, InvokeModel and its stream are recorded, then
// replayed from the recorded file alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AccessDeniedException,
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseStreamOutput,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type Message,
} from '@aws-sdk/client-bedrock-runtime';
import { load as loadYaml } from 'js-yaml';
import { validateFiles } from '../../src/cli/validate.ts';
import type { ConfigFile, ResponseObject } from '../../src/config/schema.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { fakeBedrock, type FakeBedrock } from './aws-support.ts';
import { HELLO, STORY, SUNNY, UPSTREAM_CONFIG } from './support.ts';

const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
/** What the application's SDK signs with: they never leave the client, and must not need to. */
const CLIENT_KEYS = { accessKeyId: 'AKIACLIENTEXAMPLE001', secretAccessKey: 'client/Secret+Key0123456789abcdefghijklm' };
/** The mock's own environment: what it signs the forwarded requests with. */
const MOCK_KEYS = { accessKeyId: 'ASIAMOCKENVEXAMPLE01', secretAccessKey: 'mockEnv/Secret+Key0123456789abcdefghijkl', sessionToken: 'IQoJb3JpZ2luX2VjEMOCKsessionTOKEN0123456789/+=' };
const MOCK_REGION = 'eu-central-1';
const BEARER = 'ABSKQmVkcm9ja0FQSUtleS1leGFtcGxlMDEyMzQ1Njc4OWFiY2RlZg==';

const WEATHER_TOOL = { toolSpec: { name: 'get_weather', description: 'Weather by city', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } } };
const user = (text: string): Message => ({ role: 'user', content: [{ text }] });
const anthropicBody = (prompt: string) => JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 256, messages: [{ role: 'user', content: prompt }] });

const sigv4Client = (url: string) => new BedrockRuntimeClient({ region: 'us-east-1', endpoint: url, credentials: CLIENT_KEYS, maxAttempts: 1 });
/** What AWS_BEARER_TOKEN_BEDROCK makes the SDK do: prefer the bearer scheme, with that token. */
const bearerClient = (url: string) => new BedrockRuntimeClient({ region: 'us-east-1', endpoint: url, token: { token: BEARER }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 });

async function streamed(stream: AsyncIterable<ConverseStreamOutput> | undefined) {
  let text = '';
  let stop: string | undefined;
  let usage: number[] | undefined;
  let toolUse: unknown;
  for await (const event of stream!) {
    text += event.contentBlockDelta?.delta?.text ?? '';
    if (event.contentBlockStart?.start?.toolUse) toolUse = event.contentBlockStart.start.toolUse;
    stop = event.messageStop?.stopReason ?? stop;
    if (event.metadata?.usage) usage = [event.metadata.usage.inputTokens!, event.metadata.usage.outputTokens!];
  }
  return { text, stop, usage, toolUse };
}

/** Converse and ConverseStream, a tool loop of two steps (the second streamed), InvokeModel whole and streamed. */
async function sigv4Flows(url: string) {
  const client = sigv4Client(url);
  try {
    const hello = await client.send(new ConverseCommand({ modelId: MODEL, messages: [user('say hello')] }));
    const story = await streamed((await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [user('tell a story')] }))).stream);

    const ask = user('weather in Paris?');
    const toolConfig = { tools: [WEATHER_TOOL] };
    const step1 = await client.send(new ConverseCommand({ modelId: MODEL, messages: [ask], toolConfig }));
    const use = step1.output!.message!.content!.find((block) => block.toolUse)!.toolUse!;
    const step2 = await streamed(
      (
        await client.send(
          new ConverseStreamCommand({
            modelId: MODEL,
            toolConfig,
            messages: [ask, step1.output!.message!, { role: 'user', content: [{ toolResult: { toolUseId: use.toolUseId, content: [{ json: { temp_c: 21 } }] } }] }],
          }),
        )
      ).stream,
    );

    const invoke = await client.send(new InvokeModelCommand({ modelId: MODEL, contentType: 'application/json', body: anthropicBody('say hello') }));
    const invoked = JSON.parse(new TextDecoder().decode(invoke.body)) as { content: { text?: string }[]; stop_reason: string; usage: { input_tokens: number; output_tokens: number } };
    let invokeStreamText = '';
    let invokeStreamStop: string | undefined;
    const invokeStream = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, contentType: 'application/json', body: anthropicBody('tell a story') }));
    for await (const event of invokeStream.body!) {
      const chunk = JSON.parse(new TextDecoder().decode(event.chunk!.bytes)) as { type: string; delta?: { text?: string; stop_reason?: string } };
      if (chunk.type === 'content_block_delta') invokeStreamText += chunk.delta?.text ?? '';
      if (chunk.type === 'message_delta') invokeStreamStop = chunk.delta?.stop_reason;
    }
    return {
      hello: { text: hello.output?.message?.content?.[0]?.text, stop: hello.stopReason, usage: [hello.usage?.inputTokens, hello.usage?.outputTokens] },
      story,
      loop: {
        step1: { id: use.toolUseId, name: use.name, input: use.input, stop: step1.stopReason, usage: [step1.usage?.inputTokens, step1.usage?.outputTokens] },
        step2,
      },
      invoke: { text: invoked.content.map((b) => b.text ?? '').join(''), stop: invoked.stop_reason, usage: [invoked.usage.input_tokens, invoked.usage.output_tokens] },
      invokeStream: { text: invokeStreamText, stop: invokeStreamStop },
    };
  } finally {
    client.destroy();
  }
}

/** The upstream's error, as the SDK reports it: its typed exception, status and message. */
async function errorFlow(url: string) {
  const client = sigv4Client(url);
  try {
    const error = await client.send(new ConverseCommand({ modelId: MODEL, messages: [user('fail please')] })).then(
      () => undefined,
      (e: unknown) => e as { name: string; message: string; $metadata: { httpStatusCode?: number } },
    );
    return error && { name: error.name, status: error.$metadata.httpStatusCode, message: error.message };
  } finally {
    client.destroy();
  }
}

/** The same question three times, with a Bedrock API key. */
async function bearerFlows(url: string) {
  const client = bearerClient(url);
  try {
    const answers: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await client.send(new ConverseCommand({ modelId: MODEL, messages: [user('roll a die')] }));
      answers.push(result.output?.message?.content?.[0]?.text);
    }
    return answers;
  } finally {
    client.destroy();
  }
}

let dir: string;
let recordPath: string;
let recordedText: string;
let upstream: TestServer;
let fake: FakeBedrock;
let recorder: TestServer;
let replay: TestServer;
const recorded: { sigv4?: Awaited<ReturnType<typeof sigv4Flows>>; bearer?: unknown[]; error?: Awaited<ReturnType<typeof errorFlow>> } = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mockllm-record-bedrock-'));
  recordPath = join(dir, 'recorded.yml');
  upstream = await startTestServer(UPSTREAM_CONFIG);
  fake = await fakeBedrock(upstream.url, { credentials: MOCK_KEYS, region: MOCK_REGION, bearer: BEARER });
  // The mock reads its AWS credentials from its environment when it starts: this test process's.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: MOCK_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOCK_KEYS.secretAccessKey, AWS_SESSION_TOKEN: MOCK_KEYS.sessionToken, AWS_REGION: MOCK_REGION });
  try {
    recorder = await startTestServer('rules: []\n', { upstreams: { bedrock: fake.url }, record: recordPath, recordErrors: true });
  } finally {
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION']) delete process.env[name];
  }
  recorded.sigv4 = await sigv4Flows(recorder.url);
  recorded.bearer = await bearerFlows(recorder.url);
  recorded.error = await errorFlow(recorder.url);
  await recorder.close();
  await fake.close();
  await upstream.close();
  recordedText = await readFile(recordPath, 'utf8');
  replay = await startTestServer(recordedText);
});

after(async () => {
  await replay?.stop();
  await recorder?.stop();
  await fake?.close();
  await upstream?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('recording through the proxy', () => {
  test('the client got the upstream\'s answers: text, stream, tool loop, InvokeModel, and three different answers to one question', () => {
    const flows = recorded.sigv4!;
    assert.equal(flows.hello.text, HELLO);
    assert.equal(flows.story.text, STORY);
    assert.deepEqual([flows.loop.step1.name, flows.loop.step1.input, flows.loop.step1.stop], ['get_weather', { city: 'Paris' }, 'tool_use']);
    assert.equal(flows.loop.step2.text, SUNNY);
    assert.equal(flows.invoke.text, HELLO);
    assert.equal(flows.invokeStream.text, STORY);
    assert.deepEqual(recorded.bearer, ['You rolled 4.', 'You rolled 1.', 'You rolled 6.']);
    assert.deepEqual(recorded.error, { name: 'ThrottlingException', status: 429, message: 'Rate limit reached for requests' });
  });

  test('every SigV4 request reached the upstream signed for its own host and region with the mock\'s credentials; the bearer key passed through as sent', () => {
    const sigv4 = fake.seen.filter((s) => s.auth === 'sigv4');
    const bearer = fake.seen.filter((s) => s.auth === 'bearer');
    assert.equal(sigv4.length, 7, JSON.stringify(fake.seen.map((s) => [s.path, s.auth, s.refused])));
    assert.equal(bearer.length, 3);
    assert.deepEqual(fake.seen.filter((s) => s.refused).map((s) => s.refused), []);
    for (const s of sigv4) {
      assert.equal(s.headers['x-amz-security-token'], MOCK_KEYS.sessionToken);
      assert.ok(!String(s.headers.authorization).includes(CLIENT_KEYS.accessKeyId), 'the client\'s own signature is not forwarded');
    }
  });

  test('the recorded file is a valid config with a rule per step, the stream\'s timing as latency, and none of the credentials', () => {
    assert.equal(validateFiles([recordPath]).valid, true);
    const doc = loadYaml(recordedText) as ConfigFile;
    const rules = doc.rules!;
    assert.ok(rules.every((rule) => rule.match.provider === 'bedrock'));
    const endpoints = rules.map((rule) => rule.match.endpoint).sort();
    assert.deepEqual(endpoints, [
      '/model/{modelId}/converse',
      '/model/{modelId}/converse',
      '/model/{modelId}/converse',
      '/model/{modelId}/converse',
      '/model/{modelId}/converse-stream',
      '/model/{modelId}/converse-stream',
      '/model/{modelId}/invoke',
      '/model/{modelId}/invoke-with-response-stream',
    ]);
    const error = rules.find((rule) => rule.match.prompt === 'fail please')!.response as ResponseObject;
    assert.deepEqual(error.error, { status: 429, message: 'Rate limit reached for requests', type: 'ThrottlingException', retry_after: 7 });
    const story = rules.find((rule) => rule.match.endpoint === '/model/{modelId}/converse-stream' && rule.match.prompt === 'tell a story')!.response as ResponseObject;
    // The upstream waits 300 ms before its first chunk, then 20 ms between words.
    assert.ok(story.latency!.ttft_ms! >= 250, JSON.stringify(story.latency));
    assert.ok(story.latency!.tokens_per_second! > 0, JSON.stringify(story.latency));
    const secrets = [CLIENT_KEYS.accessKeyId, CLIENT_KEYS.secretAccessKey, MOCK_KEYS.accessKeyId, MOCK_KEYS.secretAccessKey, MOCK_KEYS.sessionToken, BEARER];
    for (const secret of secrets) {
      assert.ok(!recordedText.includes(secret), `the file holds ${secret}`);
      assert.ok(!recorder.logText().includes(secret), `the log holds ${secret}`);
    }
  });
});

describe('replaying the recorded file alone', () => {
  test('Converse, ConverseStream, the tool loop (tool use id kept) and InvokeModel answer as the upstream did, usage included', async () => {
    assert.deepEqual(await sigv4Flows(replay.url), recorded.sigv4);
  });

  test('the same question asked three times replays the three recorded answers in order', async () => {
    assert.deepEqual(await bearerFlows(replay.url), recorded.bearer);
  });

  test('the upstream\'s error (--record-errors) replays as the same typed exception, status and message', async () => {
    assert.deepEqual(await errorFlow(replay.url), recorded.error);
  });
});

test('without AWS credentials in its environment, the mock answers a SigV4 request with AccessDeniedException saying why, and forwards nothing', async () => {
  const seen: string[] = [];
  const server = await startTestServer('rules: []\n', { upstreams: { bedrock: 'http://127.0.0.1:9' } });
  try {
    const client = sigv4Client(server.url);
    const error = await client.send(new ConverseCommand({ modelId: MODEL, messages: [user('say hello')] })).then(
      () => undefined,
      (e: unknown) => e,
    );
    client.destroy();
    assert.ok(error instanceof AccessDeniedException, String(error));
    assert.equal(error.$metadata.httpStatusCode, 403);
    assert.match(error.message, /signed with AWS Signature V4 for the mock's own host/);
    assert.match(error.message, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    assert.match(error.message, /AWS_BEARER_TOKEN_BEDROCK/);
    seen.push(...server.logs.filter((line) => line.msg === 'upstream unreachable').map((line) => String(line.msg)));
    assert.deepEqual(seen, [], 'nothing was sent upstream');
  } finally {
    await server.stop();
  }
});
