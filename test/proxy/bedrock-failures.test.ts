// A Bedrock upstream's ConverseStream that does not finish: cut mid-way (the client sees the drop)
// or ended cleanly before `messageStop` (the client reads what came). Neither is recorded.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { eventFrame } from '../../src/providers/bedrock/eventstream.ts';
import { withDeadline } from '../helpers/deadline.ts';
import { eventually, startTestServer, type TestServer } from '../helpers/server.ts';
import { fakeUpstream } from './support.ts';

const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const BEARER = 'ABSKQmVkcm9ja0FQSUtleS1mYWlsdXJlczAxMjM0NTY3ODlhYmNk';
const HEAD = { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': '2f1c0e1e-0000-4000-8000-000000000000' };
const opening = [eventFrame('messageStart', '{"role":"assistant"}'), eventFrame('contentBlockDelta', '{"contentBlockIndex":0,"delta":{"text":"The first words "}}')];

let dir: string;
let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
let mock: TestServer;
let recordPath: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mockllm-bedrock-failures-'));
  recordPath = join(dir, 'recorded.yml');
  let requests = 0;
  upstream = await fakeUpstream((res, socket) => {
    res.writeHead(200, HEAD);
    for (const frame of opening) res.write(frame);
    // The first request's connection is cut with the body unfinished; the second's body ends cleanly, without messageStop.
    if (requests++ === 0) res.write(eventFrame('contentBlockDelta', '{"contentBlockIndex":0,"delta":{"text":"and then"}}'), () => setTimeout(() => socket.destroy(), 50));
    else res.end();
  });
  mock = await startTestServer('rules: []\n', { upstreams: { bedrock: upstream.url }, record: recordPath });
});

after(async () => {
  await mock?.stop();
  await upstream?.close();
  await rm(dir, { recursive: true, force: true });
});

const client = () => new BedrockRuntimeClient({ region: 'us-east-1', endpoint: mock.url, token: { token: BEARER }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 });

async function readStream(c: BedrockRuntimeClient, prompt: string): Promise<{ text: string; error: unknown }> {
  const output = await c.send(new ConverseStreamCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: prompt }] }] }));
  let text = '';
  try {
    for await (const event of output.stream!) text += event.contentBlockDelta?.delta?.text ?? '';
    return { text, error: undefined };
  } catch (error) {
    return { text, error };
  }
}

test('a ConverseStream the upstream cuts mid-way reaches the client as a drop after the text that came, and is not recorded', async () => {
  const c = client();
  try {
    const { text, error } = await withDeadline(readStream(c, 'tell me everything'), 30_000, 'the stream to end');
    assert.ok(error, 'the client saw an error, not a stream that ended cleanly');
    assert.equal(text, 'The first words and then');
    await eventually(() => mock.logs.some((line) => line.msg === 'upstream answer broke off: not recorded'), { what: 'the drop to be logged' });
    assert.equal(existsSync(recordPath), false, 'nothing was recorded');
  } finally {
    c.destroy();
  }
});

test('a ConverseStream that ends before messageStop is passed on as it came and not recorded', async () => {
  const c = client();
  try {
    const { text, error } = await withDeadline(readStream(c, 'tell me something short'), 30_000, 'the stream to end');
    assert.equal(text, 'The first words ');
    assert.equal(error, undefined);
    await eventually(() => mock.logs.some((line) => line.msg === 'upstream answer incomplete or not recordable: not recorded' && line.provider === 'bedrock'), { what: 'the incomplete answer to be logged' });
    assert.equal(existsSync(recordPath), false, 'nothing was recorded');
  } finally {
    c.destroy();
  }
});
