// The server side of the library: a config given as an object (validated with the file's messages,
// named `<inline config>`), and `watch: false` (no watcher, no poll timer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { INLINE_CONFIG_NAME, parseInlineConfig } from '../../src/config/source.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { eventually } from '../helpers/poll.ts';
import { startServer } from '../../src/server.ts';

const chat = (url: string, prompt: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] }),
  }).then(async (res) => ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content);

/** The file's messages without "file:line: ", and the inline ones without "<inline config>: ". */
const bodies = (message: string, prefix: RegExp) => message.split('\n').map((line) => line.replace(prefix, ''));

test('an inline config is checked with the messages a file gets, naming <inline config>', () => {
  const broken = [
    { responses: { hi: 42 } },
    { responses: { hi: 'x' }, settings: { match: 'fuzzy' } },
    { responses: { hi: 'x' }, colour: 'blue' },
    { rules: [{ match: { regex: '(a+)+$' }, response: 'x' }] },
    { rules: [{ match: { prompt: 'a' }, response: { text: 'x', error: { status: 429 } } }] },
  ];
  for (const doc of broken) {
    let fileMessage = '';
    try {
      parseConfig(dump(doc), 'responses.yml');
      assert.fail(`the file form of ${JSON.stringify(doc)} was accepted`);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      fileMessage = error.message;
    }
    assert.throws(
      () => parseInlineConfig(doc),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        for (const line of error.message.split('\n')) assert.ok(line.startsWith(`${INLINE_CONFIG_NAME}: `), line);
        assert.deepEqual(bodies(error.message, /^<inline config>: /), bodies(fileMessage, /^responses\.yml(:\d+)?: /));
        return true;
      },
    );
  }
  assert.throws(() => parseInlineConfig([]), /^Error: <inline config>: the config must be an object with "responses".*got a list$|got a list/);
  assert.throws(() => parseInlineConfig(null), /<inline config>: .*got null/);
});

test('an inline config is copied: changing the object afterwards changes nothing', async () => {
  const config = { responses: { ping: 'pong' } };
  const server = await startServer({ config, port: 0, host: '127.0.0.1', logLevel: 'silent' });
  try {
    config.responses.ping = 'changed';
    assert.equal(await chat(server.url, 'ping'), 'pong');
    assert.equal(server.config.path, INLINE_CONFIG_NAME);
    assert.equal(await server.config.reload(), 'unchanged');
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { config?: { path: string } };
    assert.equal(health.config?.path, INLINE_CONFIG_NAME);
  } finally {
    await server.close();
  }
});

const watchers = () => process.getActiveResourcesInfo().filter((type) => /FSEvent|StatWatcher/.test(type));

test('watch: false starts no watcher and no poll; an inline config never watches', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-watch-'));
  const path = join(dir, 'responses.yml');
  await writeFile(path, 'responses:\n  ping: pong\n');
  const quiet = { port: 0, host: '127.0.0.1', logger: createLogger('silent'), reloadPollMs: 20 };
  try {
    const before = watchers().length;
    const unwatched = [];
    for (const options of [{ config: path, watch: false }, { configPath: path, watch: false }, { config: { responses: { ping: 'pong' } } }]) {
      const server = await startServer({ ...options, ...quiet });
      unwatched.push(server);
      assert.equal(await chat(server.url, 'ping'), 'pong');
    }
    assert.equal(watchers().length, before, 'no file watcher');
    // The control, in the same process at the same time: a watched file holds a watcher, and its
    // poll reads the file every 20 ms; the unwatched servers never read it again.
    const watched = await startServer({ config: path, ...quiet });
    try {
      assert.ok(watchers().length > before, 'the control holds a watcher');
      const seen = new Set<number>();
      await eventually(() => (watched.config.status.lastCheckedAt && seen.add(watched.config.status.lastCheckedAt.getTime()).size >= 3), {
        intervalMs: 5,
        what: 'three polls of the watched server',
      });
      for (const server of unwatched) assert.equal(server.config.status.lastCheckedAt, null, `${server.config.path} was never polled`);
    } finally {
      await Promise.all([watched, ...unwatched].map((server) => server.close()));
    }
    // A closed fs.watch handle is released by the event loop a moment after close().
    await eventually(() => watchers().length === before, { intervalMs: 5, what: 'close() to release the watcher' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
