import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer } from '../helpers/server.ts';
import { ask, configWith, countMsg, msUntilAnswer } from './support.ts';

test('a config rewritten in place is served without a restart', async () => {
  const server = await startTestServer(configWith('first'));
  try {
    assert.equal(await ask(server), 'first');
    const latencies: number[] = [];
    for (const answer of ['second', 'third', 'fourth']) {
      latencies.push(await msUntilAnswer(server, () => writeFile(server.configPath, configWith(answer)), answer));
    }
    console.log(`in-place write → new answer served: ${latencies.join(', ')} ms`);
    assert.equal(countMsg(server, 'config reloaded'), 3);
    assert.deepEqual(server.logs.filter((line) => line.level === 50), [], 'an in-place write is never seen half-written');
  } finally {
    await server.stop();
  }
});

test('a config replaced editor-style (write a temp file, rename it over) is served without a restart', async () => {
  const server = await startTestServer(configWith('first'));
  try {
    assert.equal(await ask(server), 'first');
    const latencies: number[] = [];
    let n = 0;
    for (const answer of ['second', 'third', 'fourth']) {
      const temp = join(server.dir, `.responses.yml.${++n}.swp`);
      latencies.push(
        await msUntilAnswer(
          server,
          async () => {
            await writeFile(temp, configWith(answer));
            await rename(temp, server.configPath);
          },
          answer,
        ),
      );
    }
    console.log(`temp-file + rename → new answer served: ${latencies.join(', ')} ms`);
    assert.equal(countMsg(server, 'config reloaded'), 3);
    assert.deepEqual(server.logs.filter((line) => line.level === 50), []);
  } finally {
    await server.stop();
  }
});
