// The admin overlay and the file baseline over time: file ids that a reload or a restart
// reproduces, admin changes that outlive a reload of the file, and a reset that lands on the
// file as it is now.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { eventually, startTestServer, startTestServerAt, type TestServer } from '../helpers/server.ts';
import { admin, askAnthropic, askOpenAI, anthropicClient, listRules, openaiClient, UNKNOWN, yamlConfig } from './support.ts';

const FIRST = yamlConfig({
  responses: { 'what colour is the sky?': 'Blue (first file).', 'what is 2+2?': '4 (first file).', 'name a fruit': 'Apple (first file).' },
  rules: [{ prompt: 'ping', text: 'pong (first file).' }],
});
const SECOND = yamlConfig({
  responses: { 'what colour is the sky?': 'Grey (second file).', 'what is 2+2?': '4 (second file).', 'name a fruit': 'Pear (second file).' },
  rules: [{ prompt: 'ping', text: 'pong (second file).' }],
  unknown: 'Fallback of the second file.',
});
const OTHER_PROMPTS = yamlConfig({ responses: { 'something else entirely': 'Else.' } });

/** Rewrites the config and waits until `prompt` is answered with `expected`. */
async function rewrite(server: TestServer, text: string, prompt: string, expected: string): Promise<void> {
  await writeFile(server.configPath, text);
  const openai = openaiClient(server);
  await eventually(async () => (await askOpenAI(openai, prompt)).text === expected, { what: `the reloaded file to answer ${JSON.stringify(expected)}` });
}

test('file entry ids are deterministic: the same file yields the same ids after a reload and after a restart', async () => {
  let server = await startTestServer(FIRST);
  try {
    const ids = (await listRules(server)).map((r) => [r.match.prompt, r.id]);
    assert.equal(new Set(ids.map(([, id]) => id)).size, 4);

    await rewrite(server, OTHER_PROMPTS, 'something else entirely', 'Else.');
    assert.deepEqual((await listRules(server)).map((r) => r.match.prompt), ['something else entirely']);
    await rewrite(server, FIRST, 'ping', 'pong (first file).');
    assert.deepEqual((await listRules(server)).map((r) => [r.match.prompt, r.id]), ids, 'same ids after reloading the same file');

    // Answers may change; ids follow the prompts, so admin calls made against them keep working.
    await rewrite(server, SECOND, 'ping', 'pong (second file).');
    assert.deepEqual((await listRules(server)).map((r) => [r.match.prompt, r.id]), ids, 'same ids when only the answers changed');

    await writeFile(server.configPath, FIRST);
    const { dir, configPath } = server;
    await server.close(); // keep the directory: restart on the very same file
    server = await startTestServerAt(dir, configPath);
    assert.deepEqual((await listRules(server)).map((r) => [r.match.prompt, r.id]), ids, 'same ids after a restart');
  } finally {
    await server.stop();
  }
});

test('admin changes survive a reload of the file, and a reset then returns to the new file', async () => {
  const server = await startTestServer(FIRST);
  try {
    const openai = openaiClient(server);
    const anthropic = anthropicClient(server);
    const fileId = (prompt: string) => async () => (await listRules(server)).find((r) => r.source === 'file' && r.match.prompt === prompt)!.id;
    const fruitId = await fileId('name a fruit')();
    const sumId = await fileId('what is 2+2?')();

    const created = await admin(server, 'POST', '/admin/responses', { body: { prompt: 'who are you?', response: 'An admin entry.' } });
    const override = await admin(server, 'POST', '/admin/responses', { body: { prompt: 'what colour is the sky?', response: 'Green (admin override).' } });
    const replaced = await admin(server, 'PUT', `/admin/responses/${fruitId}`, { body: { prompt: 'name a fruit', response: 'Mango (admin replacement).' } });
    const deleted = await admin(server, 'DELETE', `/admin/responses/${sumId}`);
    assert.deepEqual([created.status, override.status, replaced.status, deleted.status], [201, 201, 200, 204]);

    await rewrite(server, SECOND, 'ping', 'pong (second file).');

    assert.deepEqual(await askOpenAI(openai, 'who are you?'), { text: 'An admin entry.', match: created.body.id });
    assert.deepEqual(await askAnthropic(anthropic, 'what colour is the sky?'), { text: 'Green (admin override).', match: override.body.id });
    assert.deepEqual(await askOpenAI(openai, 'name a fruit'), { text: 'Mango (admin replacement).', match: fruitId });
    assert.deepEqual(await askOpenAI(openai, 'what is 2+2?'), { text: 'Fallback of the second file.', match: 'none' }, 'a deleted file entry stays deleted');
    assert.deepEqual(await askOpenAI(openai, 'nobody asked this'), { text: 'Fallback of the second file.', match: 'none' });

    assert.equal((await admin(server, 'POST', '/admin/reset')).status, 204);
    const listed = await listRules(server);
    assert.deepEqual(
      listed.map((r) => [r.source, r.match.prompt, r.response]),
      [
        ['file', 'what colour is the sky?', 'Grey (second file).'],
        ['file', 'what is 2+2?', '4 (second file).'],
        ['file', 'name a fruit', 'Pear (second file).'],
        ['file', 'ping', { text: 'pong (second file).' }],
      ],
    );
    assert.deepEqual(await askOpenAI(openai, 'who are you?'), { text: 'Fallback of the second file.', match: 'none' });
    assert.equal((await askAnthropic(anthropic, 'what colour is the sky?')).text, 'Grey (second file).');
    assert.equal((await askOpenAI(openai, 'name a fruit')).text, 'Pear (second file).');
    assert.equal((await askOpenAI(openai, 'what is 2+2?')).text, '4 (second file).');
  } finally {
    await server.stop();
  }
});

test('a replaced file entry whose prompt leaves the file keeps answering until reset', async () => {
  const server = await startTestServer(FIRST);
  try {
    const openai = openaiClient(server);
    const ping = (await listRules(server)).find((r) => r.match.prompt === 'ping')!;
    assert.equal((await admin(server, 'PUT', `/admin/responses/${ping.id}`, { body: { prompt: 'ping', response: 'PONG (admin).' } })).status, 200);
    await rewrite(server, OTHER_PROMPTS, 'something else entirely', 'Else.');
    assert.deepEqual(await askOpenAI(openai, 'ping'), { text: 'PONG (admin).', match: ping.id });
    assert.deepEqual((await admin(server, 'GET', `/admin/responses/${ping.id}`)).body.response, 'PONG (admin).');
    await admin(server, 'POST', '/admin/reset');
    assert.deepEqual(await askOpenAI(openai, 'ping'), { text: UNKNOWN, match: 'none' });
  } finally {
    await server.stop();
  }
});

// A reload may add a file rule whose id an admin entry already has. The admin entry, created on
// purpose by the running test, keeps the id; the file's rule stays hidden until reset.
test('when a reload brings a file entry with an admin entry\'s id, the admin entry keeps the id until reset', async () => {
  const server = await startTestServer(FIRST);
  try {
    const openai = openaiClient(server);
    const created = await admin(server, 'POST', '/admin/responses', { body: { id: 'shared-id', prompt: 'admin prompt', response: 'From the admin API.' } });
    assert.equal(created.status, 201);
    await rewrite(
      server,
      yamlConfig({ rules: [{ id: 'shared-id', prompt: 'file prompt', text: 'From the file.' }, { prompt: 'reload marker', text: 'Reloaded.' }] }),
      'reload marker',
      'Reloaded.',
    );

    const ids = (await listRules(server)).map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, `every listed id names one entry: ${ids.join(', ')}`);
    const one = await admin(server, 'GET', '/admin/responses/shared-id');
    assert.equal(one.status, 200);
    assert.equal(one.body.source, 'admin');
    assert.equal((await askOpenAI(openai, 'admin prompt')).match, 'shared-id');
    assert.equal((await askOpenAI(openai, 'file prompt')).match, 'none');

    assert.equal((await admin(server, 'DELETE', '/admin/responses')).status, 204);
    const afterReset = await admin(server, 'GET', '/admin/responses/shared-id');
    assert.equal(afterReset.body.source, 'file');
    assert.equal((await askOpenAI(openai, 'file prompt')).text, 'From the file.');
  } finally {
    await server.stop();
  }
});
