// The admin responses API, end to end: every change is made over HTTP against a real server and
// observed right after through an official SDK on the provider endpoint.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { definitionOf } from '../helpers/admin.ts';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  admin,
  anthropicClient,
  askAnthropic,
  askOpenAI,
  assertAdminError,
  listRules,
  openaiClient,
  UNKNOWN,
  yamlConfig,
  type PresentedRule,
} from './support.ts';

const SKY = 'what colour is the sky?';
const SUM = 'what is 2+2?';
const FRUIT = 'name a fruit';
const PING = 'ping';
const FILE_ANSWERS = {
  [SKY]: 'Blue, says the file.',
  [SUM]: '4, says the file.',
  [FRUIT]: 'An apple, says the file.',
  [PING]: 'pong, says the file.',
};
const CONFIG = yamlConfig({
  responses: { [SKY]: FILE_ANSWERS[SKY], [SUM]: FILE_ANSWERS[SUM] },
  rules: [
    { prompt: FRUIT, text: FILE_ANSWERS[FRUIT] },
    { prompt: PING, text: FILE_ANSWERS[PING], id: 'ping-rule' },
    // The same prompt again, later in the file: listed, but never answers (the first one wins).
    { prompt: SUM, text: 'five, from a shadowed rule' },
  ],
});

let server: TestServer;
let openai: OpenAI;
let anthropic: Anthropic;
let fileRules: PresentedRule[];

const idOf = (prompt: string) => fileRules.find((r) => r.match.prompt === prompt)!.id;

before(async () => {
  server = await startTestServer(CONFIG);
  openai = openaiClient(server);
  anthropic = anthropicClient(server);
  fileRules = await listRules(server);
});

after(async () => {
  await server?.stop();
});

// Each test starts from exactly the file (the reset endpoint is itself tested below).
beforeEach(async () => {
  assert.equal((await admin(server, 'POST', '/admin/reset')).status, 204);
});

test('GET /admin/responses lists the file entries in match order, each with an id and source "file"', async () => {
  assert.deepEqual(
    fileRules.map((r) => [r.source, r.match.prompt, r.response]),
    [
      ['file', SKY, FILE_ANSWERS[SKY]],
      ['file', SUM, FILE_ANSWERS[SUM]],
      ['file', FRUIT, { text: FILE_ANSWERS[FRUIT] }],
      ['file', PING, { text: FILE_ANSWERS[PING] }],
      ['file', SUM, { text: 'five, from a shadowed rule' }],
    ],
  );
  const ids = fileRules.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, `ids are unique: ${ids.join(', ')}`);
  assert.equal(idOf(PING), 'ping-rule', 'an id written in the file is kept');
  for (const id of ids) assert.match(id, /^[A-Za-z0-9._:-]+$/);
  // Match order: the earlier of two entries for one prompt answers.
  assert.deepEqual(await askOpenAI(openai, SUM), { text: FILE_ANSWERS[SUM], match: idOf(SUM) });
  for (const rule of fileRules) {
    const one = await admin(server, 'GET', `/admin/responses/${encodeURIComponent(rule.id)}`);
    assert.equal(one.status, 200);
    assert.deepEqual(definitionOf(one.body), rule);
  }
});

test('x-mockllm-match names the entry that answered, or "none" for the fallback, on both providers', async () => {
  assert.deepEqual(await askOpenAI(openai, SKY), { text: FILE_ANSWERS[SKY], match: idOf(SKY) });
  assert.deepEqual(await askAnthropic(anthropic, PING), { text: FILE_ANSWERS[PING], match: 'ping-rule' });
  assert.deepEqual(await askOpenAI(openai, 'something nobody configured'), { text: UNKNOWN, match: 'none' });
  assert.deepEqual(await askAnthropic(anthropic, 'something nobody configured'), { text: UNKNOWN, match: 'none' });
  const created = await admin(server, 'POST', '/admin/responses', { body: { prompt: 'fresh', response: 'Fresh answer.' } });
  assert.deepEqual(await askAnthropic(anthropic, 'fresh'), { text: 'Fresh answer.', match: created.body.id });
});

test('POST /admin/responses answers 201 with a Location and an admin entry, served at once', async () => {
  const started = performance.now();
  const res = await admin(server, 'POST', '/admin/responses', { body: { prompt: 'Who wrote Hamlet?', response: 'Shakespeare, says the admin API.' } });
  const acknowledged = performance.now();
  assert.equal(res.status, 201, res.text);
  const answer = await askOpenAI(openai, 'who wrote hamlet?');
  const visible = performance.now();
  assert.deepEqual(answer, { text: 'Shakespeare, says the admin API.', match: res.body.id });
  console.log(
    `admin write → visible: POST took ${(acknowledged - started).toFixed(2)} ms; ` +
      `the very next chat request (SDK round trip ${(visible - acknowledged).toFixed(2)} ms) already answered with it`,
  );

  assert.equal(typeof res.body.id, 'string');
  assert.deepEqual(definitionOf(res.body), { id: res.body.id, source: 'admin', match: { prompt: 'Who wrote Hamlet?' }, response: 'Shakespeare, says the admin API.' });
  assert.equal(res.headers.get('location'), `/admin/responses/${encodeURIComponent(res.body.id)}`);
  const fetched = await admin(server, 'GET', res.headers.get('location')!);
  assert.equal(fetched.status, 200);
  assert.deepEqual(definitionOf(fetched.body), definitionOf(res.body));
  // Admin entries come first in match order.
  assert.deepEqual(await listRules(server), [definitionOf(res.body), ...fileRules]);
  assert.deepEqual(await askAnthropic(anthropic, 'Who wrote Hamlet?'), { text: 'Shakespeare, says the admin API.', match: res.body.id });
});

test('a POST for a prompt the file answers overrides it while present', async () => {
  const res = await admin(server, 'POST', '/admin/responses', { body: { prompt: SKY, response: 'Green, says the admin API.' } });
  assert.equal(res.status, 201);
  assert.deepEqual(await askOpenAI(openai, SKY), { text: 'Green, says the admin API.', match: res.body.id });
  assert.deepEqual(await askAnthropic(anthropic, 'WHAT colour is the sky?'), { text: 'Green, says the admin API.', match: res.body.id });
  // The file entry is still listed, untouched, behind the override.
  assert.deepEqual((await listRules(server)).find((r) => r.id === idOf(SKY)), fileRules.find((r) => r.id === idOf(SKY)));

  assert.equal((await admin(server, 'DELETE', `/admin/responses/${res.body.id}`)).status, 204);
  assert.deepEqual(await askOpenAI(openai, SKY), { text: FILE_ANSWERS[SKY], match: idOf(SKY) });
});

test('a later POST for the same prompt wins over an earlier one', async () => {
  const first = await admin(server, 'POST', '/admin/responses', { body: { prompt: 'favourite number', response: 'seven' } });
  const second = await admin(server, 'POST', '/admin/responses', { body: { prompt: 'Favourite  number', response: 'forty-two' } });
  assert.equal(first.status, 201);
  assert.equal(second.status, 201);
  assert.notEqual(first.body.id, second.body.id);
  assert.deepEqual(await askOpenAI(openai, 'favourite number'), { text: 'forty-two', match: second.body.id });
  assert.deepEqual(
    (await listRules(server)).slice(0, 2).map((r) => r.id),
    [second.body.id, first.body.id],
    'the newest admin entry is listed first, as it is matched first',
  );
  // Deleting the later one uncovers the earlier one.
  assert.equal((await admin(server, 'DELETE', `/admin/responses/${second.body.id}`)).status, 204);
  assert.deepEqual(await askOpenAI(openai, 'favourite number'), { text: 'seven', match: first.body.id });
});

test('GET, PUT and DELETE /admin/responses/{id} read, replace and remove an admin entry', async () => {
  const created = await admin(server, 'POST', '/admin/responses', { body: { prompt: 'capital of France', response: 'Paris.' } });
  const path = `/admin/responses/${created.body.id}`;
  assert.deepEqual(definitionOf((await admin(server, 'GET', path)).body), definitionOf(created.body));

  const put = await admin(server, 'PUT', path, { body: { prompt: 'capital of France', response: { text: 'Paris, replaced.' } } });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(definitionOf(put.body), { id: created.body.id, source: 'admin', match: { prompt: 'capital of France' }, response: { text: 'Paris, replaced.' } });
  assert.deepEqual(definitionOf((await admin(server, 'GET', path)).body), definitionOf(put.body));
  assert.deepEqual(await askOpenAI(openai, 'capital of France'), { text: 'Paris, replaced.', match: created.body.id });

  // A PUT may change the prompt too (and may repeat the URL's id in the body).
  const moved = await admin(server, 'PUT', path, { body: { id: created.body.id, match: { prompt: 'capital of Italy' }, response: 'Rome.' } });
  assert.equal(moved.status, 200, moved.text);
  assert.deepEqual(await askAnthropic(anthropic, 'capital of Italy'), { text: 'Rome.', match: created.body.id });
  assert.deepEqual(await askAnthropic(anthropic, 'capital of France'), { text: UNKNOWN, match: 'none' });

  assert.equal((await admin(server, 'DELETE', path)).status, 204);
  assertAdminError(await admin(server, 'GET', path), 404, 'not_found');
  assert.deepEqual(await askOpenAI(openai, 'capital of Italy'), { text: UNKNOWN, match: 'none' });
  assert.deepEqual(await listRules(server), fileRules);
});

test('PUT on a file entry changes its answer in place; DELETE on a file entry falls back to the unknown response until reset', async () => {
  const fruit = idOf(FRUIT);
  const put = await admin(server, 'PUT', `/admin/responses/${fruit}`, { body: { prompt: FRUIT, response: 'A banana, says the admin API.' } });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.id, fruit, 'the file entry keeps its id');
  assert.deepEqual(await askOpenAI(openai, FRUIT), { text: 'A banana, says the admin API.', match: fruit });
  const listed = await listRules(server);
  assert.deepEqual(
    listed.map((r) => r.id),
    fileRules.map((r) => r.id),
    'the replaced entry keeps its place in match order',
  );
  assert.deepEqual(listed[2], definitionOf(put.body));
  assert.deepEqual(definitionOf((await admin(server, 'GET', `/admin/responses/${fruit}`)).body), definitionOf(put.body));

  const sky = idOf(SKY);
  assert.equal((await admin(server, 'DELETE', `/admin/responses/${sky}`)).status, 204);
  assert.deepEqual(await askOpenAI(openai, SKY), { text: UNKNOWN, match: 'none' });
  assert.deepEqual(await askAnthropic(anthropic, SKY), { text: UNKNOWN, match: 'none' });
  assertAdminError(await admin(server, 'GET', `/admin/responses/${sky}`), 404, 'not_found');
  assertAdminError(await admin(server, 'PUT', `/admin/responses/${sky}`, { body: { prompt: SKY, response: 'back?' } }), 404, 'not_found');
  assertAdminError(await admin(server, 'DELETE', `/admin/responses/${sky}`), 404, 'not_found');
  assert.ok(!(await listRules(server)).some((r) => r.id === sky));
  // Deleting the file entry for 2+2 uncovers the shadowed later entry for the same prompt.
  assert.equal((await admin(server, 'DELETE', `/admin/responses/${idOf(SUM)}`)).status, 204);
  assert.equal((await askOpenAI(openai, SUM)).text, 'five, from a shadowed rule');

  assert.equal((await admin(server, 'POST', '/admin/reset')).status, 204);
  assert.deepEqual(await askOpenAI(openai, SKY), { text: FILE_ANSWERS[SKY], match: sky });
  assert.deepEqual(await askOpenAI(openai, FRUIT), { text: FILE_ANSWERS[FRUIT], match: fruit });
  assert.deepEqual(await askOpenAI(openai, SUM), { text: FILE_ANSWERS[SUM], match: idOf(SUM) });
  assert.deepEqual(await listRules(server), fileRules);
});

test('DELETE /admin/responses drops every admin change: back to exactly the file', async () => {
  await admin(server, 'POST', '/admin/responses', { body: { prompt: SKY, response: 'overridden' } });
  await admin(server, 'POST', '/admin/responses', { body: { prompt: 'brand new', response: 'new' } });
  await admin(server, 'PUT', `/admin/responses/${idOf(FRUIT)}`, { body: { prompt: FRUIT, response: 'replaced' } });
  await admin(server, 'DELETE', `/admin/responses/${idOf(PING)}`);
  assert.notDeepEqual(await listRules(server), fileRules);
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { entries: unknown };
  assert.deepEqual(health.entries, { file: 3, admin: 3 });

  const res = await admin(server, 'DELETE', '/admin/responses');
  assert.equal(res.status, 204);
  assert.equal(res.text, '');
  assert.deepEqual(await listRules(server), fileRules);
  for (const prompt of [SKY, FRUIT, PING] as const) assert.deepEqual(await askOpenAI(openai, prompt), { text: FILE_ANSWERS[prompt], match: idOf(prompt) });
  assert.deepEqual(await askOpenAI(openai, 'brand new'), { text: UNKNOWN, match: 'none' });
  assert.deepEqual(((await (await fetch(`${server.url}/healthz`)).json()) as { entries: unknown }).entries, { file: 5, admin: 0 });
});

test('POST /admin/reset restores the file and clears the request journal', async () => {
  await admin(server, 'POST', '/admin/responses', { body: { prompt: SKY, response: 'overridden' } });
  await admin(server, 'DELETE', `/admin/responses/${idOf(PING)}`);
  await askOpenAI(openai, SKY);
  await askAnthropic(anthropic, PING);
  assert.ok((await admin(server, 'GET', '/admin/requests')).body.requests.length >= 2);

  const res = await admin(server, 'POST', '/admin/reset');
  assert.equal(res.status, 204);
  assert.deepEqual(await listRules(server), fileRules);
  const journal = await admin(server, 'GET', '/admin/requests');
  assert.deepEqual(journal.body.requests, []);
  assert.equal(journal.body.size, 0);
  assert.deepEqual(await askAnthropic(anthropic, PING), { text: FILE_ANSWERS[PING], match: 'ping-rule' });
});

test('the rule form {"match": {"prompt"}, "response": {"text"}} is accepted and echoed in that form', async () => {
  const res = await admin(server, 'POST', '/admin/responses', { body: { match: { prompt: 'rule form' }, response: { text: 'Rule form works.' } } });
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(res.body, { id: res.body.id, source: 'admin', match: { prompt: 'rule form' }, response: { text: 'Rule form works.' }, hits: 0, lastHitAt: null });
  assert.deepEqual(await askAnthropic(anthropic, 'rule form'), { text: 'Rule form works.', match: res.body.id });
  assert.deepEqual(await askOpenAI(openai, 'Rule Form'), { text: 'Rule form works.', match: res.body.id });
});

test('a client-chosen id is used, and an id already taken (admin or file) is a 409 conflict', async () => {
  const res = await admin(server, 'POST', '/admin/responses', { body: { id: 'my-rule.v1', prompt: 'chosen id', response: 'Mine.' } });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.id, 'my-rule.v1');
  assert.equal(res.headers.get('location'), '/admin/responses/my-rule.v1');
  assert.deepEqual(await askOpenAI(openai, 'chosen id'), { text: 'Mine.', match: 'my-rule.v1' });

  const again = await admin(server, 'POST', '/admin/responses', { body: { id: 'my-rule.v1', prompt: 'something else', response: 'Theirs.' } });
  assertAdminError(again, 409, 'conflict', 'id');
  const fileId = await admin(server, 'POST', '/admin/responses', { body: { id: 'ping-rule', prompt: PING, response: 'Theirs.' } });
  assertAdminError(fileId, 409, 'conflict', 'id');
  const derivedFileId = await admin(server, 'POST', '/admin/responses', { body: { id: idOf(SKY), prompt: SKY, response: 'Theirs.' } });
  assertAdminError(derivedFileId, 409, 'conflict', 'id');

  // A conflict changes nothing.
  assert.deepEqual(await askOpenAI(openai, 'chosen id'), { text: 'Mine.', match: 'my-rule.v1' });
  assert.deepEqual(await askOpenAI(openai, 'something else'), { text: UNKNOWN, match: 'none' });
  assert.deepEqual(await askOpenAI(openai, PING), { text: FILE_ANSWERS[PING], match: 'ping-rule' });
  assert.deepEqual((await listRules(server)).map((r) => r.id), ['my-rule.v1', ...fileRules.map((r) => r.id)]);
});

test('a provider request carrying no prompt the rules know still gets the file fallback while admin entries exist', async () => {
  await admin(server, 'POST', '/admin/responses', { body: { prompt: 'only this', response: 'Only this.' } });
  const res = await post(`${server.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'not this' }] });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-mockllm-match'), 'none');
  assert.equal(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content, UNKNOWN);
});

test('every rule shows its hits and last hit since the last reset, and ?unused=true lists exactly the rules never hit', async () => {
  type Listed = { id: string; hits: number; lastHitAt: string | null };
  const list = async (query = '') => ((await admin(server, 'GET', `/admin/responses${query}`)).body as { responses: Listed[] }).responses;
  const before = Date.now();
  await askOpenAI(openai, SKY);
  await askAnthropic(anthropic, SKY);
  await askOpenAI(openai, PING);
  const byId = new Map((await list()).map((r) => [r.id, r]));
  assert.equal(byId.get(idOf(SKY))!.hits, 2);
  assert.equal(byId.get('ping-rule')!.hits, 1);
  const last = Date.parse(byId.get(idOf(SKY))!.lastHitAt!);
  assert.ok(last >= before - 1000 && last <= Date.now() + 1000, `lastHitAt ${byId.get(idOf(SKY))!.lastHitAt} is the time of the last hit`);
  assert.equal(byId.get(idOf(SUM))!.hits, 0);
  assert.equal(byId.get(idOf(SUM))!.lastHitAt, null);

  const unused = (await list('?unused=true')).map((r) => r.id).sort();
  assert.deepEqual(unused, [...byId.values()].filter((r) => r.hits === 0).map((r) => r.id).sort());
  assert.ok(!unused.includes(idOf(SKY)) && !unused.includes('ping-rule') && unused.includes(idOf(SUM)));
  assert.equal((await list('?unused=false')).length, byId.size);

  assert.equal((await admin(server, 'POST', '/admin/reset')).status, 204);
  assert.ok((await list()).every((r) => r.hits === 0 && r.lastHitAt === null), 'a reset starts the counts over');
});
