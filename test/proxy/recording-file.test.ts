// The recording file as a file: merged with what is already there, never left invalid, one per
// mock (two mocks recording side by side do not mix), picked up by hot reload when it is the
// served config; and the same through the CLI flags (`--upstream`, `--record`, `mockllm validate`)
// and the library options.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { startMockLLM } from '../../src/index.ts';
import type { ConfigFile } from '../../src/config/schema.ts';
import { spawnCli, startCli } from '../helpers/cli.ts';
import { eventually, post, startTestServer, startTestServerAt, type TestServer } from '../helpers/server.ts';
import { anthropicClient, openAiClient } from './flows.ts';
import { HELLO, OPENAI_KEY, UPSTREAM_CONFIG } from './support.ts';

const ask = (url: string, prompt: string) => openAiClient(url).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] });
const rulesOf = async (path: string) => ((loadYaml(await readFile(path, 'utf8')) as ConfigFile).rules ?? []);

let upstream: TestServer;
let dir: string;
before(async () => {
  upstream = await startTestServer(UPSTREAM_CONFIG);
  dir = await mkdtemp(join(tmpdir(), 'mockllm-recording-file-'));
});
after(async () => {
  await upstream.stop();
  await rm(dir, { recursive: true, force: true });
});

test('recording into an existing config keeps what it holds and adds the new rule after it', async () => {
  const path = join(dir, 'existing.yml');
  await writeFile(path, 'responses:\n  "hand written": "kept as it was"\nrules:\n  - id: mine\n    match: { contains: "mine" }\n    response: "still mine"\n');
  const mock = await startTestServer('rules: []\n', { upstreams: { openai: upstream.url }, record: path });
  try {
    await ask(mock.url, 'say hello');
    await mock.close();
    const text = await readFile(path, 'utf8');
    assert.match(text, /^# Recorded by mockllm from openai=http:\/\/127\.0\.0\.1:\d+\n/);
    const doc = loadYaml(text) as ConfigFile;
    assert.deepEqual(doc.responses, { 'hand written': 'kept as it was' });
    assert.deepEqual(doc.rules!.map((r) => r.id), ['mine', doc.rules![1]!.id]);
    assert.equal(doc.rules![1]!.response && (doc.rules![1]!.response as { text: string }).text, HELLO);
  } finally {
    await mock.stop();
  }
});

test('a recording file that does not load is left untouched, and the failure is logged', async () => {
  const path = join(dir, 'broken.yml');
  const broken = 'rules:\n  - match: { prompt: 1 }\n    response: [not, a, response\n';
  await writeFile(path, broken);
  const mock = await startTestServer('rules: []\n', { upstreams: { openai: upstream.url }, record: path });
  try {
    assert.equal((await ask(mock.url, 'say hello')).choices[0]!.message.content, HELLO, 'the client is answered all the same');
    await eventually(() => mock.logs.some((line) => line.msg === 'could not write the recording'), { what: 'the failure to be logged' });
    assert.equal(await readFile(path, 'utf8'), broken);
  } finally {
    await mock.stop();
  }
});

test('without --record-errors an upstream error reaches the client as it was and is not recorded', async () => {
  const path = join(dir, 'no-errors.yml');
  const mock = await startTestServer('rules: []\n', { upstreams: { openai: upstream.url }, record: path });
  try {
    const response = await post(`${mock.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fail please' }] }, { authorization: `Bearer ${OPENAI_KEY}` });
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), '7');
    assert.equal(((await response.json()) as { error: { message: string } }).error.message, 'Rate limit reached for requests');
    await mock.close();
    assert.ok(mock.logs.some((line) => line.msg === 'upstream error not recorded (--record-errors records them)'));
    assert.equal(existsSync(path), false);
  } finally {
    await mock.stop();
  }
});

test('two mocks recording into different files at once do not interfere', async () => {
  const [pathA, pathB] = [join(dir, 'a.yml'), join(dir, 'b.yml')];
  const [a, b] = await Promise.all([
    startTestServer('rules: []\n', { upstreams: { openai: upstream.url }, record: pathA }),
    startTestServer('rules: []\n', { upstreams: { openai: upstream.url }, record: pathB }),
  ]);
  try {
    await Promise.all([ask(a.url, 'say hello'), ask(b.url, 'weather in Paris?'), ask(a.url, 'tell a story'), ask(b.url, 'what is your key?')]);
    await Promise.all([a.close(), b.close()]);
    assert.deepEqual((await rulesOf(pathA)).map((r) => r.match.prompt).sort(), ['say hello', 'tell a story']);
    assert.deepEqual((await rulesOf(pathB)).map((r) => r.match.prompt).sort(), ['weather in Paris?', 'what is your key?']);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('recording into the served config: hot reload picks the new rule up, and the next identical request is answered from it', async () => {
  // The record path is the served config's own path.
  const base = await mkdtemp(join(tmpdir(), 'mockllm-self-record-'));
  const configPath = join(base, 'responses.yml');
  await writeFile(configPath, 'rules: []\n');
  const same = await startTestServerAt(base, configPath, { upstreams: { openai: upstream.url }, record: configPath });
  try {
    const before = (await upstream.journal.list({})).length;
    const first = await post(`${same.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'roll a die' }] }, { authorization: `Bearer ${OPENAI_KEY}` });
    assert.equal(first.headers.get('x-mockllm-match'), 'none');
    const answered = ((await first.json()) as { choices: [{ message: { content: string } }] }).choices[0].message.content;
    const again = await eventually(
      async () => {
        const response = await post(`${same.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'roll a die' }] }, { authorization: `Bearer ${OPENAI_KEY}` });
        const id = response.headers.get('x-mockllm-match') ?? '';
        const body = (await response.json()) as { choices: [{ message: { content: string } }] };
        return id.startsWith('rec-openai-') ? body.choices[0].message.content : undefined;
      },
      { what: 'the reloaded recording to answer' },
    );
    assert.equal(again, answered, 'the recorded answer, not the upstream\'s next one');
    // Requests before the reload landed went upstream; the recorded answers are steps of one rule.
    const upstreamCalls = (await upstream.journal.list({})).length - before;
    assert.ok(upstreamCalls >= 1);
    assert.equal((await rulesOf(configPath)).length, 1);
  } finally {
    await same.stop();
  }
});

describe('the CLI', () => {
  test('--upstream (and MOCKLLM_UPSTREAM_<PROVIDER>) and --record proxy and record; mockllm validate accepts the file', async () => {
    const recordDir = await mkdtemp(join(tmpdir(), 'mockllm-cli-record-'));
    const recordPath = join(recordDir, 'recorded.yml');
    const cli = await startCli('rules: []\n', ['--upstream', `openai=${upstream.url}`, '--record', recordPath], { env: { MOCKLLM_UPSTREAM_ANTHROPIC: upstream.url } });
    try {
      assert.equal((await ask(cli.url, 'say hello')).choices[0]!.message.content, HELLO);
      const claude = await anthropicClient(cli.url).messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'say hello' }] });
      assert.deepEqual(claude.content, [{ type: 'text', text: HELLO }]);
      await eventually(() => cli.logs.filter((line) => line.msg === 'recorded upstream answer').length === 2, { what: 'both recordings' });
      const validate = spawnCli(['validate', recordPath]);
      assert.equal(await validate.exited(), 0, validate.stderr());
      assert.deepEqual((await rulesOf(recordPath)).map((r) => r.match.provider), ['openai', 'anthropic']);
      assert.ok(!cli.logs.some((line) => JSON.stringify(line).includes(OPENAI_KEY)));
    } finally {
      await cli.cleanup();
      await rm(recordDir, { recursive: true, force: true });
    }
  });

  test('an --upstream that names no provider, and --record without an upstream, are refused with exit 2', async () => {
    const nobody = spawnCli(['--upstream', 'nobody=http://127.0.0.1:1', '--port', '0']);
    assert.equal(await nobody.exited(), 2);
    assert.match(nobody.stderr(), /--upstream nobody: "nobody" is not a provider; use one of .*openai/);
    const lonely = spawnCli(['--record', join(dir, 'x.yml'), '--port', '0']);
    assert.equal(await lonely.exited(), 2);
    assert.match(lonely.stderr(), /--record needs --upstream/);
  });
});

test('the library: upstreams and record options, and rules() with hits and {unused: true}', async () => {
  const recordPath = join(dir, 'library.yml');
  const mock = await startMockLLM({ config: { rules: [{ id: 'local', match: { prompt: 'local question' }, response: 'answered here' }] }, upstreams: { openai: upstream.url }, record: recordPath });
  try {
    assert.equal((await ask(mock.url, 'say hello')).choices[0]!.message.content, HELLO);
    assert.deepEqual((await mock.rules({ unused: true })).map((r) => r.id), ['local']);
    await ask(mock.url, 'local question');
    assert.deepEqual(await mock.rules({ unused: true }), []);
    const [local] = await mock.rules();
    assert.equal(local!.hits, 1);
    assert.match(local!.lastHitAt!, /^\d{4}-\d\d-\d\dT/);
  } finally {
    await mock.close();
  }
  assert.equal((await rulesOf(recordPath)).length, 1);
  await assert.rejects(startMockLLM({ upstreams: { nobody: 'http://127.0.0.1:1' } }), /upstreams: "nobody" is not a provider/);
  await assert.rejects(startMockLLM({ record: recordPath }), /record needs upstreams/);
});
