import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { eventually, startTestServer, type TestServer } from '../helpers/server.ts';
import { ask, configWith, countMsg, errorLines, msUntilAnswer } from './support.ts';

/** RegExp.escape arrived in Node 24; the package supports Node 22. */
const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');

/**
 * Writes `broken`, waits for the reload to fail with an error naming the file and every one of
 * `problem`, checks the last good config still answers, then recovers with a new valid file.
 */
async function breakAndRecover(server: TestServer, broken: string, problem: string[]): Promise<void> {
  assert.equal(await ask(server), 'first');
  await writeFile(server.configPath, broken);
  const line = (await eventually(() => errorLines(server, ...problem)[0], { what: `an error log line naming ${problem.join(' + ')}` }))!;
  assert.equal(line.path, server.configPath);
  assert.match(String(line.error), new RegExp(`^${escapeRe(server.configPath)}`), 'the message starts with the file');
  assert.equal(await ask(server), 'first', 'the last good config keeps answering');
  await msUntilAnswer(server, () => writeFile(server.configPath, configWith('recovered')), 'recovered');
  assert.equal(countMsg(server, 'config reloaded'), 1);
}

test('invalid YAML is logged with file, line and column while the last good config keeps answering; a valid file recovers', async () => {
  const server = await startTestServer(configWith('first'));
  try {
    await breakAndRecover(server, 'responses:\n  "ping": "unterminated\n  "other": [\n', ['invalid YAML']);
    const [line] = errorLines(server, 'invalid YAML');
    assert.match(String(line!.error), new RegExp(`^${escapeRe(server.configPath)}:\\d+:\\d+: invalid YAML`));
  } finally {
    await server.stop();
  }
});

test('a response that is not a string is logged with its path and line while the last good config keeps answering', async () => {
  const server = await startTestServer(configWith('first'));
  try {
    await breakAndRecover(server, 'responses: {"x": 5}\n', ['responses.x', 'must be string']);
    const [line] = errorLines(server, 'responses.x');
    assert.ok(String(line!.error).startsWith(`${server.configPath}:1: responses.x`), String(line!.error));
  } finally {
    await server.stop();
  }
});

test('an unknown top-level key is logged by name while the last good config keeps answering', async () => {
  const server = await startTestServer(configWith('first'));
  try {
    await breakAndRecover(server, 'respones:\n  "ping": "typo"\n', ['respones', 'is not a known key']);
    const [line] = errorLines(server, 'respones');
    assert.ok(String(line!.error).startsWith(`${server.configPath}:1: respones is not a known key`), String(line!.error));
  } finally {
    await server.stop();
  }
});

test('a deleted config file is logged and the last good config keeps answering; restoring it serves the new content', async () => {
  const server = await startTestServer(configWith('first'));
  try {
    await breakAndRecoverByDeleting(server);
  } finally {
    await server.stop();
  }
});

async function breakAndRecoverByDeleting(server: TestServer): Promise<void> {
  assert.equal(await ask(server), 'first');
  await rm(server.configPath);
  await eventually(() => errorLines(server, 'ENOENT', server.configPath).length > 0, { what: 'an error log line naming the missing file' });
  assert.equal(await ask(server), 'first');
  await msUntilAnswer(server, () => writeFile(server.configPath, configWith('restored')), 'restored');
  assert.equal(countMsg(server, 'config reloaded'), 1);
}

test('rewriting the config with the same bytes does not reload it', async () => {
  const server = await startTestServer(configWith('first'));
  try {
    await writeFile(server.configPath, configWith('first'));
    assert.equal(await server.config.reload(), 'unchanged');
    await msUntilAnswer(server, () => writeFile(server.configPath, configWith('second')), 'second');
    await writeFile(server.configPath, configWith('second'));
    assert.equal(await server.config.reload(), 'unchanged');
    assert.equal(countMsg(server, 'config reloaded'), 1, 'only the real change was reloaded');
  } finally {
    await server.stop();
  }
});

test('putting back the serving config after a broken write clears the error without a reload', async () => {
  const server = await startTestServer(configWith('first'));
  try {
    await writeFile(server.configPath, 'responses: [\n');
    await eventually(() => errorLines(server, 'invalid YAML').length > 0, { what: 'the reload error' });
    assert.ok(server.config.status.lastReloadError?.includes('invalid YAML'));
    await writeFile(server.configPath, configWith('first'));
    await eventually(() => countMsg(server, 'config file is valid again (unchanged from the serving config)') === 1, { what: 'the "valid again" line' });
    assert.equal(server.config.status.lastReloadError, null);
    assert.equal(countMsg(server, 'config reloaded'), 0, 'the same bytes are not parsed and swapped in again');
    assert.equal(await ask(server), 'first');
  } finally {
    await server.stop();
  }
});
