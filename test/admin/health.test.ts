// /healthz and /readyz: what they report (version, uptime, the config serving, entry counts),
// what a broken config edit does to them (reported, not fatal), and readiness during shutdown.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, realpath, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { eventually, startTestServer, type TestServer } from '../helpers/server.ts';
import { admin, askOpenAI, openaiClient, yamlConfig } from './support.ts';

interface Health {
  status: string;
  version: string;
  uptimeSeconds: number;
  config: { path: string; hash: string; loadedAt: string; lastReloadAt: string | null; lastReloadError: string | null };
  entries: { file: number; admin: number };
  /** Where shared state lives (memory, or Redis with its connection) and the overlay's version. */
  state: { backend: { kind: string; [key: string]: unknown }; overlayVersion: number };
}

const CONFIG = yamlConfig({ responses: { 'what colour is the sky?': 'Blue.', 'what is 2+2?': '4.' } });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const VERSION = (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

let server: TestServer;

async function health(path: '/healthz' | '/readyz', target: TestServer = server): Promise<{ status: number; body: Health }> {
  const res = await fetch(`${target.url}${path}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return { status: res.status, body: (await res.json()) as Health };
}

before(async () => {
  server = await startTestServer(CONFIG, { adminToken: 'health-token' });
});

after(async () => {
  await server?.stop();
});

test('/healthz and /readyz answer 200 with version, uptime, the serving config and entry counts, without any token', async () => {
  for (const [path, status] of [
    ['/healthz', 'ok'],
    ['/readyz', 'ready'],
  ] as const) {
    const res = await health(path);
    assert.equal(res.status, 200);
    const { body } = res;
    assert.deepEqual(Object.keys(body).sort(), ['config', 'entries', 'state', 'status', 'uptimeSeconds', 'version']);
    // In memory (no --redis): nothing to be connected to; the overlay has had no change yet.
    assert.deepEqual(body.state, { backend: { kind: 'memory' }, overlayVersion: 0 });
    assert.equal(body.status, status);
    assert.equal(body.version, VERSION);
    assert.ok(Number.isInteger(body.uptimeSeconds) && body.uptimeSeconds >= 0);
    assert.deepEqual(Object.keys(body.config).sort(), ['hash', 'lastReloadAt', 'lastReloadError', 'loadedAt', 'path']);
    assert.ok([resolve(server.configPath), await realpath(server.configPath)].includes(body.config.path), body.config.path);
    assert.equal(body.config.hash, sha256(CONFIG));
    assert.ok(Math.abs(Date.parse(body.config.loadedAt) - Date.now()) < 60_000, body.config.loadedAt);
    assert.equal(body.config.lastReloadAt, null);
    assert.equal(body.config.lastReloadError, null);
    assert.deepEqual(body.entries, { file: 2, admin: 0 });
  }
});

test('entry counts follow admin changes', async () => {
  const created = await admin(server, 'POST', '/admin/responses', { token: 'health-token', body: { prompt: 'new', response: 'New.' } });
  assert.equal(created.status, 201);
  assert.deepEqual((await health('/readyz')).body.entries, { file: 2, admin: 1 });
  await admin(server, 'POST', '/admin/reset', { token: 'health-token' });
  assert.deepEqual((await health('/healthz')).body.entries, { file: 2, admin: 0 });
});

test('a broken config edit is reported in lastReloadError while readiness stays 200 on the last good config', async () => {
  const openai = openaiClient(server);
  const before = (await health('/readyz')).body;
  await writeFile(server.configPath, `${CONFIG}settings:\n  match: fuzzy\n`);
  await eventually(async () => (await health('/readyz')).body.config.lastReloadError !== null, { what: 'the failed reload to be reported' });
  const broken = await health('/readyz');
  assert.equal(broken.status, 200, 'still ready: the last good config is serving');
  assert.equal(broken.body.status, 'ready');
  assert.match(broken.body.config.lastReloadError!, /settings\.match/, 'the error names the offending key');
  assert.match(broken.body.config.lastReloadError!, /fuzzy|normalized|exact/, 'and what is wrong with it');
  assert.equal(broken.body.config.hash, before.config.hash, 'the hash is the serving config');
  assert.equal(broken.body.config.loadedAt, before.config.loadedAt);
  assert.ok(broken.body.config.lastReloadAt !== null && Date.parse(broken.body.config.lastReloadAt) >= Date.parse(before.config.loadedAt));
  assert.equal((await health('/healthz')).body.config.lastReloadError, broken.body.config.lastReloadError);
  assert.equal((await askOpenAI(openai, 'what colour is the sky?')).text, 'Blue.');

  // A good edit clears the error and moves the hash and load time.
  const fixed = yamlConfig({ responses: { 'what colour is the sky?': 'Still blue.', 'what is 2+2?': '4.', 'and 3+3?': '6.' } });
  await writeFile(server.configPath, fixed);
  await eventually(async () => (await health('/readyz')).body.config.hash === sha256(fixed), { what: 'the good config to load' });
  const good = await health('/readyz');
  assert.equal(good.status, 200);
  assert.equal(good.body.config.lastReloadError, null);
  assert.ok(Date.parse(good.body.config.loadedAt) >= Date.parse(before.config.loadedAt));
  assert.equal(good.body.config.lastReloadAt, good.body.config.loadedAt);
  assert.deepEqual(good.body.entries, { file: 3, admin: 0 });
  assert.equal((await askOpenAI(openai, 'what colour is the sky?')).text, 'Still blue.');
});

test('once shutdown begins (lifecycle.ready = false), /readyz is 503 while /healthz stays 200', async () => {
  server.lifecycle.ready = false;
  try {
    const ready = await health('/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.status, 'not_ready');
    assert.equal(ready.body.version, VERSION);
    const live = await health('/healthz');
    assert.equal(live.status, 200);
    assert.equal(live.body.status, 'ok');
  } finally {
    server.lifecycle.ready = true;
  }
  assert.equal((await health('/readyz')).status, 200);
});

test('uptimeSeconds counts from the start of this server, not from when the code was loaded', async () => {
  await eventually(async () => (await health('/healthz')).body.uptimeSeconds >= 3, { timeoutMs: 15_000, intervalMs: 100, what: 'the first server to be up 3 s' });
  const second = await startTestServer(CONFIG);
  try {
    // Compared with the first server read after it, not with a fixed bound, so a slow start on a
    // busy machine cannot fail it: the first was up at least 2.5 s (rounded: 3) before the second
    // started, so their rounded uptimes differ by at least 2; counted from code loading, they would not.
    const uptime = (await health('/healthz', second)).body.uptimeSeconds;
    const firstUptime = (await health('/healthz')).body.uptimeSeconds;
    assert.ok(firstUptime - uptime >= 2, `a server started just now reports ${uptime} s of uptime, the one started 3 s before it ${firstUptime} s`);
  } finally {
    await second.stop();
  }
});
