// Every way an admin request can be wrong, and the one error shape each answers with:
// {"error": {"code", "message", "field"?}}. A rejected request must also change nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { admin, askOpenAI, assertAdminError, listRules, openaiClient, UNKNOWN, yamlConfig, type PresentedRule } from './support.ts';

let server: TestServer;
let openai: OpenAI;
let fileRules: PresentedRule[];
let adminId: string;

before(async () => {
  server = await startTestServer(yamlConfig({ responses: { hello: 'Hello from the file.' } }));
  openai = openaiClient(server);
  const created = await admin(server, 'POST', '/admin/responses', { body: { id: 'kept', prompt: 'kept', response: 'Kept.' } });
  assert.equal(created.status, 201);
  adminId = created.body.id;
  fileRules = await listRules(server);
});

after(async () => {
  await server?.stop();
});

/** Nothing a rejected request sent may have changed what the server serves. */
async function assertUnchanged(): Promise<void> {
  assert.deepEqual(await listRules(server), fileRules);
  assert.deepEqual(await askOpenAI(openai, 'hello'), { text: 'Hello from the file.', match: fileRules[1]!.id });
  assert.deepEqual(await askOpenAI(openai, 'kept'), { text: 'Kept.', match: 'kept' });
  assert.deepEqual(await askOpenAI(openai, 'x'), { text: UNKNOWN, match: 'none' });
}

test('malformed JSON is 400 invalid_json, on POST and on PUT', async () => {
  for (const [method, path] of [
    ['POST', '/admin/responses'],
    ['PUT', `/admin/responses/${adminId}`],
  ] as const) {
    for (const body of ['{"prompt": "x", "response": ', '{prompt: x}', 'not json at all']) {
      assertAdminError(await admin(server, method, path, { body }), 400, 'invalid_json');
    }
  }
  await assertUnchanged();
});

test('a body that is not an object is 400 with a hint at the expected shape', async () => {
  const res = await admin(server, 'POST', '/admin/responses', { body: '[]' });
  const error = assertAdminError(res, 400, 'invalid_body');
  assert.match(error.message, /"prompt"/);
  await assertUnchanged();
});

test('schema violations are 400 invalid_body naming the field the client sent', async () => {
  const cases: [string, unknown, string][] = [
    ['missing response (simple form)', { prompt: 'a' }, 'response'],
    ['missing response (rule form)', { match: { prompt: 'a' } }, 'response'],
    ['prompt of the wrong type (simple form)', { prompt: 42, response: 'a' }, 'prompt'],
    ['prompt of the wrong type (rule form)', { match: { prompt: ['a'] }, response: 'a' }, 'match.prompt'],
    ['response of the wrong type', { prompt: 'a', response: 42 }, 'response'],
    ['response null', { prompt: 'a', response: null }, 'response'],
    ['unknown top-level key', { prompt: 'a', response: 'b', colour: 'red' }, 'colour'],
    ['object response with a misspelt key', { prompt: 'a', response: { txt: 'b' } }, 'response.txt'],
    ['object response with an extra key', { prompt: 'a', response: { text: 'b', tone: 'dry' } }, 'response.tone'],
    ['unknown key inside match', { match: { prompt: 'a', promtp: 'b' }, response: 'b' }, 'match.promtp'],
    ['id of the wrong type', { id: 7, prompt: 'a', response: 'b' }, 'id'],
    ['id with characters ids may not have', { id: 'has space', prompt: 'a', response: 'b' }, 'id'],
  ];
  for (const [what, body, field] of cases) {
    const res = await admin(server, 'POST', '/admin/responses', { body });
    const error = assertAdminError(res, 400, 'invalid_body', field);
    assert.ok(error.message.startsWith(field), `${what}: the message names ${field}: ${error.message}`);
    // The same body is rejected the same way by PUT.
    assertAdminError(await admin(server, 'PUT', `/admin/responses/${adminId}`, { body }), 400, 'invalid_body', field);
  }
  await assertUnchanged();
});

test('an unknown id is 404 not_found for GET, PUT and DELETE', async () => {
  for (const method of ['GET', 'PUT', 'DELETE']) {
    const res = await admin(server, method, '/admin/responses/no-such-id', method === 'PUT' ? { body: { prompt: 'a', response: 'b' } } : {});
    const error = assertAdminError(res, 404, 'not_found');
    assert.match(error.message, /no-such-id/);
  }
  // A PUT to an unknown id does not create it.
  assertAdminError(await admin(server, 'GET', '/admin/responses/no-such-id'), 404, 'not_found');
  await assertUnchanged();
});

test('PUT with an id in the body that differs from the URL is 400 on the id field', async () => {
  const res = await admin(server, 'PUT', `/admin/responses/${adminId}`, { body: { id: 'other', prompt: 'kept', response: 'Hijacked.' } });
  const error = assertAdminError(res, 400, 'invalid_body', 'id');
  assert.match(error.message, /other/);
  assertAdminError(await admin(server, 'GET', '/admin/responses/other'), 404, 'not_found');
  await assertUnchanged();
});

test('a duplicate id is 409 conflict on the id field', async () => {
  const res = await admin(server, 'POST', '/admin/responses', { body: { id: adminId, prompt: 'another', response: 'Another.' } });
  assertAdminError(res, 409, 'conflict', 'id');
  await assertUnchanged();
});

test('an admin body over the size limit is 413 too_large', async () => {
  const res = await admin(server, 'POST', '/admin/responses', { body: { prompt: 'big', response: 'x'.repeat(1_100_000) } });
  assertAdminError(res, 413, 'too_large');
  await assertUnchanged();
});

test('an unknown admin path is 404 in the admin error shape', async () => {
  for (const path of ['/admin/foo', '/admin', '/admin/responses/a/b']) {
    assertAdminError(await admin(server, 'GET', path), 404, 'not_found');
  }
  await assertUnchanged();
});

test('a method an admin path does not take is 405 with Allow naming the ones it does', async () => {
  for (const [method, path, allow] of [
    ['POST', '/admin/requests', 'GET, DELETE'],
    ['PATCH', `/admin/responses/${adminId}`, 'GET, PUT, DELETE'],
    ['PUT', '/admin/reset', 'POST'],
  ] as const) {
    const res = await admin(server, method, path);
    assertAdminError(res, 405, 'method_not_allowed');
    assert.deepEqual(res.headers.get('allow')?.split(', ').sort(), allow.split(', ').sort(), `${method} ${path}`);
  }
  await assertUnchanged();
});

test('an unknown query parameter is 400 invalid_query naming it', async () => {
  for (const [path, field] of [
    ['/admin/requests?matchd=false', 'matchd'],
    ['/admin/responses?unused=true&x=1', 'x'],
    [`/admin/responses/${adminId}?verbose=1`, 'verbose'],
  ] as const) {
    const error = assertAdminError(await admin(server, 'GET', path), 400, 'invalid_query', field);
    assert.match(error.message, new RegExp(field));
  }
  await assertUnchanged();
});
