// Issue 18 items 7 and 15b: a reload that reads a file in the middle of a save waits for the save
// instead of calling the file broken, and the 5 s safety poll is not counted as a reload when it
// finds the file unchanged. Synchronised on the server's own log lines, never on fixed sleeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { eventually, startTestServer, type TestServer } from '../helpers/server.ts';
import { ask, configWith, countMsg, errorLines } from './support.ts';

const UNFINISHED = 'config file looks unfinished; reading it again once the write has settled';

async function reloads(server: TestServer): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^mockllm_config_reloads_total\{result="(\w+)"\} (\d+)$/gm)) counts[match[1]!] = Number(match[2]);
  return counts;
}

test('a reload that reads a file half-way through a save waits for the save instead of failing', async () => {
  // The production debounce (50 ms); a long settle so that the test's write surely lands inside it.
  const server = await startTestServer(configWith('first'), { reloadDebounceMs: 50, reloadSettleMs: 1000 });
  try {
    assert.equal(await ask(server), 'first');
    // An in-place save, stopped between its two steps: the file is truncated, the content not yet written.
    const file = await open(server.configPath, 'w');
    try {
      await eventually(() => countMsg(server, UNFINISHED) > 0, { intervalMs: 5, what: 'the reload to read the empty file' });
      await file.writeFile(configWith('second'));
    } finally {
      await file.close();
    }
    await eventually(async () => (await ask(server)) === 'second', { what: 'the finished save to be served' });
    assert.deepEqual(errorLines(server), [], 'no reload error was logged');
    assert.equal(server.config.status.lastReloadError, null);
    const counts = await reloads(server);
    assert.equal(counts.failed, 0, 'no failed reload was counted');
    assert.ok(counts.updated! >= 1);
  } finally {
    await server.stop();
  }
});

test('a file that is still broken when read again is reported once', async () => {
  const server = await startTestServer(configWith('first'), { reloadDebounceMs: 50, reloadSettleMs: 30 });
  try {
    await writeFile(server.configPath, 'responses: [\n');
    await eventually(() => errorLines(server, 'invalid YAML').length > 0, { what: 'the reload error' });
    assert.ok(countMsg(server, UNFINISHED) >= 1, 'the file was read a second time before it was called broken');
    assert.match(server.config.status.lastReloadError ?? '', /invalid YAML/);
    assert.equal((await reloads(server)).failed, errorLines(server, 'invalid YAML').length);
    assert.equal(await ask(server), 'first', 'the last good config keeps serving');
  } finally {
    await server.stop();
  }
});

test('the safety poll does not count an unchanged file as a reload; a file event still does', async () => {
  const server = await startTestServer(configWith('first'), { reloadPollMs: 25 });
  try {
    // Wait for three polls to have read the file (each read stamps lastCheckedAt).
    const seen = new Set<number>();
    await eventually(
      () => {
        const checked = server.config.status.lastCheckedAt;
        if (checked) seen.add(checked.getTime());
        return seen.size >= 3;
      },
      { intervalMs: 5, what: 'three safety polls' },
    );
    assert.deepEqual(await reloads(server), { updated: 0, unchanged: 0, failed: 0 });
    // The same bytes written again: a file event, whose unchanged outcome is counted.
    await writeFile(server.configPath, configWith('first'));
    await eventually(async () => (await reloads(server)).unchanged! >= 1, { what: 'the event-triggered reload to be counted' });
    assert.equal(await server.config.reload(), 'unchanged');
    assert.equal(countMsg(server, 'config reloaded'), 0);
  } finally {
    await server.stop();
  }
});
