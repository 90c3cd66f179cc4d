// Errors raised before a Bedrock route runs (a body that is not JSON, one over the size limit)
// carry Bedrock's x-amzn-errortype like every other Bedrock error, so the SDK raises its typed
// exception for them too (Provider.errorHeaders, applied by the one error responder).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer('settings:\n  body_limit_bytes: 1024\n');
});

after(async () => {
  await server?.stop();
});

const converse = (body: string) =>
  fetch(`${server.url}/model/anthropic.claude-3-haiku-20240307-v1:0/converse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

test('a body that is not JSON is a ValidationException with x-amzn-errortype', async () => {
  const res = await converse('{"messages": [');
  assert.equal(res.status, 400);
  assert.match(res.headers.get('x-amzn-errortype') ?? '', /^ValidationException:/);
  assert.deepEqual(Object.keys((await res.json()) as object), ['message']);
});

test('a body over the size limit is a 413 with x-amzn-errortype', async () => {
  const res = await converse(JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'x'.repeat(2000) }] }] }));
  assert.equal(res.status, 413);
  assert.ok(res.headers.get('x-amzn-errortype'), 'the error type header is there');
  assert.deepEqual(Object.keys((await res.json()) as object), ['message']);
});
