// Who may reach the admin API: a bearer token from the server options or from the YAML, and the
// two ways of switching the admin API off. Provider and ops endpoints never need the token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { eventually, startTestServer, type TestServer } from '../helpers/server.ts';
import { admin, askAnthropic, askOpenAI, anthropicClient, assertAdminError, openaiClient, UNKNOWN, yamlConfig } from './support.ts';

const CONFIG = yamlConfig({ responses: { hello: 'Hello from the file.' } });
const configWithToken = (token: string) => yamlConfig({ responses: { hello: 'Hello from the file.' }, settings: ['admin:', `  token: ${JSON.stringify(token)}`] });

function assertUnauthorized(res: Awaited<ReturnType<typeof admin>>): void {
  assertAdminError(res, 401, 'unauthorized');
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/);
}

/** Provider endpoints and ops endpoints answer without any admin token. */
async function assertOpenEndpoints(server: TestServer): Promise<void> {
  assert.equal((await askOpenAI(openaiClient(server), 'hello')).text, 'Hello from the file.');
  assert.equal((await askAnthropic(anthropicClient(server), 'hello')).text, 'Hello from the file.');
  for (const path of ['/healthz', '/readyz', '/metrics']) assert.equal((await fetch(`${server.url}${path}`)).status, 200, path);
}

test('with a token from the server options, admin calls need "Authorization: Bearer <token>"; nothing else does', async () => {
  const server = await startTestServer(CONFIG, { adminToken: 's3cret' });
  try {
    assertUnauthorized(await admin(server, 'GET', '/admin/responses'));
    assertUnauthorized(await admin(server, 'GET', '/admin/responses', { token: 'wrong' }));
    assertUnauthorized(await admin(server, 'GET', '/admin/responses', { token: 's3cret-but-longer' }));
    assertUnauthorized(await admin(server, 'GET', '/admin/responses', { headers: { authorization: 's3cret' } }));
    assertUnauthorized(await admin(server, 'GET', '/admin/responses', { headers: { authorization: 'Basic czNjcmV0' } }));
    assertUnauthorized(await admin(server, 'GET', '/admin/requests'));
    // Writes without the token change nothing; unknown admin paths do not reveal themselves either.
    assertUnauthorized(await admin(server, 'POST', '/admin/responses', { body: { prompt: 'hello', response: 'Hijacked.' } }));
    assertUnauthorized(await admin(server, 'POST', '/admin/reset'));
    assertUnauthorized(await admin(server, 'GET', '/admin/foo'));
    assert.equal((await askOpenAI(openaiClient(server), 'hello')).text, 'Hello from the file.');

    assert.equal((await admin(server, 'GET', '/admin/responses', { token: 's3cret' })).status, 200);
    assert.equal((await admin(server, 'GET', '/admin/responses', { headers: { authorization: 'bearer s3cret' } })).status, 200, 'the scheme is case-insensitive');
    const created = await admin(server, 'POST', '/admin/responses', { token: 's3cret', body: { prompt: 'hello', response: 'Hello from the admin API.' } });
    assert.equal(created.status, 201);
    assert.equal((await askOpenAI(openaiClient(server), 'hello')).text, 'Hello from the admin API.');
    assertAdminError(await admin(server, 'GET', '/admin/foo', { token: 's3cret' }), 404, 'not_found');

    // The provider endpoints ignore the admin token entirely, whatever the client sends as its API key.
    assert.equal((await askOpenAI(openaiClient(server, 'wrong'), 'x')).text, UNKNOWN);
    await admin(server, 'POST', '/admin/reset', { token: 's3cret' });
    await assertOpenEndpoints(server);
    assert.ok(!server.logText().includes('s3cret'), 'the admin token never reaches the log');
  } finally {
    await server.stop();
  }
});

test('a token from settings.admin.token in the YAML protects the admin API, and a reload rotates it', async () => {
  const server = await startTestServer(configWithToken('from-yaml'));
  try {
    assertUnauthorized(await admin(server, 'GET', '/admin/responses'));
    assertUnauthorized(await admin(server, 'GET', '/admin/responses', { token: 'wrong' }));
    assert.equal((await admin(server, 'GET', '/admin/responses', { token: 'from-yaml' })).status, 200);
    await assertOpenEndpoints(server);

    await writeFile(server.configPath, configWithToken('rotated'));
    await eventually(async () => (await admin(server, 'GET', '/admin/responses', { token: 'rotated' })).status === 200, { what: 'the rotated token to be accepted' });
    assertUnauthorized(await admin(server, 'GET', '/admin/responses', { token: 'from-yaml' }));
    for (const token of ['from-yaml', 'rotated']) {
      assert.ok(!server.logText().includes(token), `the token ${token} never reaches the log`);
      assert.ok(!(await (await fetch(`${server.url}/healthz`)).text()).includes(token), `nor /healthz`);
    }
  } finally {
    await server.stop();
  }
});

test('a token from the server options wins over the one in the YAML', async () => {
  const server = await startTestServer(configWithToken('from-yaml'), { adminToken: 'from-cli' });
  try {
    assertUnauthorized(await admin(server, 'GET', '/admin/responses', { token: 'from-yaml' }));
    assert.equal((await admin(server, 'GET', '/admin/responses', { token: 'from-cli' })).status, 200);
  } finally {
    await server.stop();
  }
});

/** The admin API is gone: /admin paths answer exactly as a path that never existed does. */
async function assertAdminGone(server: TestServer): Promise<void> {
  for (const [method, suffix, body] of [
    ['GET', '/responses', undefined],
    ['POST', '/responses', { prompt: 'hello', response: 'Hijacked.' }],
    ['DELETE', '/responses', undefined],
    ['GET', '/requests', undefined],
    ['POST', '/reset', undefined],
    ['GET', '/foo', undefined],
  ] as const) {
    const res = await admin(server, method, `/admin${suffix}`, { body });
    const unknown = await admin(server, method, `/not-admin${suffix}`, { body });
    assert.equal(res.status, 404, `${method} /admin${suffix}`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(JSON.parse(res.text.replaceAll('/admin/', '/not-admin/')), unknown.body, `${method} /admin${suffix} answers like an unknown path`);
    assert.equal(res.headers.get('content-type'), unknown.headers.get('content-type'));
    assert.equal(res.headers.get('www-authenticate'), null);
  }
  assert.equal((await askOpenAI(openaiClient(server), 'hello')).text, 'Hello from the file.', 'nothing was created');
  await assertOpenEndpoints(server);
}

test('with the admin API disabled by the server options, /admin/* is 404 like any unknown path', async () => {
  const server = await startTestServer(CONFIG, { adminDisabled: true });
  try {
    await assertAdminGone(server);
  } finally {
    await server.stop();
  }
});

test('with settings.admin.enabled: false in the YAML, /admin/* is 404 like any unknown path', async () => {
  const server = await startTestServer(yamlConfig({ responses: { hello: 'Hello from the file.' }, settings: ['admin:', '  enabled: false'] }));
  try {
    await assertAdminGone(server);
    assert.ok(!server.logText().includes('open to anyone'), 'no warning about an open admin API that does not exist');
  } finally {
    await server.stop();
  }
});
