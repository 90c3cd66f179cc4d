// The library's API from the sources (the packed package is tested in package.test.ts): options and
// their errors, the control methods against the admin API's semantics, handler mode, close().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLED_CONFIG_PATH, ConfigError, createMockLLMHandler, MockLLMError, startMockLLM, type MockLLM } from '../../src/index.ts';
import { eventually } from '../helpers/poll.ts';

async function chat(baseURL: string, content: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string | undefined }> {
  const res = await fetch(`${baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
  });
  const body = (await res.json()) as { choices?: { message: { content: string } }[] };
  return { status: res.status, text: body.choices?.[0]?.message.content };
}

async function admin(mock: MockLLM, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${mock.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

const rejection = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
};

test('defaults: port 0 on 127.0.0.1, the bundled config resolved from the package, not the working directory', async () => {
  assert.equal(BUNDLED_CONFIG_PATH, fileURLToPath(new URL('../../config/responses.yml', import.meta.url)));
  const mock = await startMockLLM();
  try {
    assert.match(mock.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(mock.port, 0);
    assert.equal(mock.openaiBaseURL, `${mock.url}/v1`);
    assert.equal(mock.anthropicBaseURL, mock.url);
    const health = (await (await fetch(`${mock.url}/healthz`)).json()) as { config: { path: string } };
    assert.equal(health.config.path, BUNDLED_CONFIG_PATH);
    assert.equal((await chat(mock.openaiBaseURL, 'what is 2+2?')).status, 200);
  } finally {
    await mock.close();
  }
});

test('invalid options reject with the CLI messages, before anything listens', async () => {
  const cases: [object, RegExp][] = [
    [{ port: 70000 }, /^invalid port "70000"$/],
    [{ port: -1 }, /^invalid port "-1"$/],
    [{ port: 1.5 }, /^invalid port "1.5"$/],
    [{ logLevel: 'loud' }, /^invalid log level "loud"; use one of fatal, error, warn, info, debug, trace, silent$/],
    [{ strict: 'yes' }, /^strict must be true or false$/],
    [{ watch: 1 }, /^watch must be true or false$/],
    [{ adminToken: '' }, /^adminToken must be a non-empty string$/],
    [{ config: 42 }, /^config must be a path/],
    [{ prot: 1 }, /^unknown option "prot"; the options are config, logLevel, strict, adminToken, watch, upstreams, record, recordErrors, upstreamTimeoutMs, redis, port, host$/],
  ];
  for (const [options, message] of cases) {
    const error = await rejection(startMockLLM(options as never));
    assert.ok(error instanceof TypeError, `${JSON.stringify(options)}: ${error}`);
    assert.match(error.message, message);
  }
  assert.match((await rejection(createMockLLMHandler({ port: 1 } as never))).message, /^unknown option "port"/);
});

test('an invalid config rejects with a ConfigError worded as the CLI words it', async () => {
  const inline = await rejection(startMockLLM({ config: { responses: { hi: 42 } } as never }));
  assert.ok(inline instanceof ConfigError);
  assert.match(inline.message, /^invalid config: <inline config>: responses\.hi /);
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-lib-'));
  try {
    const file = join(dir, 'responses.yml');
    await writeFile(file, 'responses:\n  hi: 42\n');
    const fromFile = await rejection(startMockLLM({ config: file }));
    assert.ok(fromFile instanceof ConfigError);
    assert.match(fromFile.message, new RegExp(`^invalid config: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: responses\\.hi `));
    const missing = await rejection(startMockLLM({ config: join(dir, 'nope.yml') }));
    assert.ok(missing instanceof ConfigError);
    assert.match(missing.message, /^no such file: .*nope\.yml; check the config option$/);
    const directory = await rejection(startMockLLM({ config: dir }));
    assert.match(directory.message, /is a directory, not a config file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('addRule, updateRule, removeRule and reset act as the admin API does, with its errors', async () => {
  const mock = await startMockLLM({
    config: { rules: [{ id: 'file-rule', match: { prompt: 'ping' }, response: 'pong' }, { id: 'steps', match: { prompt: 'count' }, response: { sequence: ['one', 'two'] } }] },
  });
  try {
    const id = await mock.addRule({ prompt: 'hello', response: 'Hi.' });
    assert.match(id, /^admin-[0-9a-f]{12}$/);
    assert.equal((await chat(mock.openaiBaseURL, 'hello')).text, 'Hi.');
    const listed = (await admin(mock, 'GET', `/admin/responses/${id}`)).body as Record<string, unknown>;
    assert.deepEqual([listed.id, listed.source, listed.match, listed.response], [id, 'admin', { prompt: 'hello' }, 'Hi.'], 'the admin API lists the rule as created');
    assert.equal(await mock.addRule({ id: 'mine', match: { contains: 'weather' }, response: 'Sunny.' }), 'mine');

    // Errors: the admin API's codes, fields and messages.
    const conflict = await rejection(mock.addRule({ id: 'file-rule', prompt: 'x', response: 'y' }));
    assert.ok(conflict instanceof MockLLMError);
    assert.deepEqual([conflict.code, conflict.field, conflict.message], ['conflict', 'id', "A response with id 'file-rule' already exists."]);
    const viaHttp = (await admin(mock, 'POST', '/admin/responses', { prompt: 'x', response: { txt: 'y' } })).body as { error: { code: string; message: string; field: string } };
    const invalid = await rejection(mock.addRule({ prompt: 'x', response: { txt: 'y' } } as never));
    assert.ok(invalid instanceof MockLLMError);
    assert.deepEqual({ code: invalid.code, message: invalid.message, field: invalid.field }, viaHttp.error);
    const mismatch = await rejection(mock.updateRule('mine', { id: 'other', prompt: 'x', response: 'y' }));
    assert.deepEqual([(mismatch as MockLLMError).code, mismatch.message], ['invalid_body', 'id "other" in the body does not match "mine" in the URL']);
    for (const call of [mock.updateRule('nope', { prompt: 'x', response: 'y' }), mock.removeRule('nope')]) {
      const error = await rejection(call);
      assert.deepEqual([(error as MockLLMError).code, error.message], ['not_found', "No response with id 'nope'."]);
    }

    // A file rule replaced, then removed; reset brings it back.
    await mock.updateRule('file-rule', { match: { prompt: 'ping' }, response: 'PONG' });
    assert.equal((await chat(mock.openaiBaseURL, 'ping')).text, 'PONG');
    await mock.removeRule('file-rule');
    assert.notEqual((await chat(mock.openaiBaseURL, 'ping')).text, 'PONG');
    assert.equal((await chat(mock.openaiBaseURL, 'count')).text, 'one');
    assert.ok((await mock.requests()).length > 0);

    await mock.reset();
    assert.equal((await chat(mock.openaiBaseURL, 'ping')).text, 'pong', 'the file rule is back');
    assert.equal((await chat(mock.openaiBaseURL, 'count')).text, 'one', 'sequence progress was reset');
    assert.notEqual((await chat(mock.openaiBaseURL, 'hello')).text, 'Hi.', 'admin rules are gone');
    assert.equal((await mock.requests()).length, 3, 'the journal was cleared: only the three requests since reset');
    const metrics = await (await fetch(`${mock.url}/metrics`)).text();
    for (const [operation, count] of [['create', 2], ['replace', 1], ['delete', 1], ['reset', 1]] as const) {
      assert.match(metrics, new RegExp(`mockllm_admin_changes_total\\{operation="${operation}"\\} ${count}\\n`), operation);
    }
  } finally {
    await mock.close();
  }
});

test('requests() filters by rule, unmatched, provider, endpoint, model; newest first; copies', async () => {
  const mock = await startMockLLM({ config: { responses: { a: 'A', b: 'B' } } });
  try {
    const id = await mock.addRule({ id: 'c', prompt: 'c', response: 'C' });
    for (const prompt of ['a', 'b', 'c', 'zzz', 'c']) await chat(mock.openaiBaseURL, prompt);
    const res = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'secret' },
      body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 10, messages: [{ role: 'user', content: 'c' }] }),
    });
    assert.equal(res.status, 200);
    const all = await mock.requests();
    assert.deepEqual(all.map((e) => e.prompt), ['c', 'c', 'zzz', 'c', 'b', 'a']);
    assert.deepEqual((await mock.requests({ ruleId: id })).map((e) => e.seq), all.filter((e) => e.ruleId === id).map((e) => e.seq));
    assert.equal((await mock.requests({ ruleId: id })).length, 3);
    assert.equal((await mock.requests({ ruleId: id, limit: 2 })).length, 2);
    assert.deepEqual((await mock.requests({ unmatched: true })).map((e) => e.prompt), ['zzz']);
    assert.equal((await mock.requests({ unmatched: false })).length, 5);
    assert.deepEqual((await mock.requests({ provider: 'anthropic' })).map((e) => e.endpoint), ['/v1/messages']);
    assert.equal((await mock.requests({ endpoint: '/v1/chat/completions', ruleId: id })).length, 2);
    assert.equal((await mock.requests({ model: 'claude-sonnet-5-5' })).length, 1);
    assert.deepEqual((await mock.requests({ after: all[1]!.seq })).map((e) => e.seq), [all[0]!.seq]);
    assert.equal((await mock.requests({ provider: 'anthropic' }))[0]!.request.headers['x-api-key'], '[REDACTED]');
    // An entry handed out is the caller's: changing it changes nothing in the journal.
    const [first] = await mock.requests();
    first!.prompt = 'changed';
    assert.equal((await mock.requests())[0]!.prompt, 'c');
  } finally {
    await mock.close();
  }
});

test('the admin token guards /admin/* but not the methods', async () => {
  const mock = await startMockLLM({ config: { responses: { a: 'A' } }, adminToken: 'sesame' });
  try {
    assert.equal((await admin(mock, 'GET', '/admin/responses')).status, 401);
    await mock.addRule({ prompt: 'b', response: 'B' });
    assert.equal((await admin(mock, 'GET', '/admin/responses', undefined, 'sesame')).status, 200);
    assert.equal((await mock.requests()).length, 0);
  } finally {
    await mock.close();
  }
});

test('a config file is watched by default (watch: false turns it off)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-lib-'));
  const file = join(dir, 'responses.yml');
  await writeFile(file, 'responses:\n  ping: one\n');
  const watched = await startMockLLM({ config: file });
  const unwatched = await startMockLLM({ config: file, watch: false });
  try {
    await writeFile(file, 'responses:\n  ping: two\n');
    await eventually(async () => (await chat(watched.openaiBaseURL, 'ping')).text === 'two', { what: 'the watched mock to reload' });
    assert.equal((await chat(unwatched.openaiBaseURL, 'ping')).text, 'one');
  } finally {
    await Promise.all([watched.close(), unwatched.close()]);
    await rm(dir, { recursive: true, force: true });
  }
});

/** Resource types in `now` beyond those in `before` (a multiset difference). */
function extra(now: string[], before: string[]): string[] {
  const left = [...before];
  return now.filter((type) => {
    const i = left.indexOf(type);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}

test('close() is idempotent and leaves no handle, timer or watcher behind, even with a client connection kept alive', async () => {
  const resources = () => process.getActiveResourcesInfo().filter((type) => type !== 'TTYWrap' && type !== 'Immediate');
  const before = resources();
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-lib-'));
  const file = join(dir, 'responses.yml');
  await writeFile(file, 'responses:\n  ping: pong\n');
  try {
    const mock = await startMockLLM({ config: file });
    assert.equal((await chat(mock.openaiBaseURL, 'ping')).text, 'pong');
    const running = extra(resources(), before);
    assert.ok(running.includes('TCPServerWrap') && running.includes('FSEventWrap'), `the running mock holds handles (so the checks below can fail): ${running}`);
    const closing = [mock.close(), mock.close()];
    assert.equal(closing[0], closing[1], 'the same promise');
    await Promise.all(closing);
    await mock.close();
    // The server's own handles are gone when close() resolves: its listening socket, its sockets, the watcher.
    assert.deepEqual(extra(resources(), before).filter((type) => type !== 'TCPSocketWrap'), []);
    // fetch's keep-alive socket is the client's: it closes when it reads the server's end.
    await eventually(() => extra(resources(), before).length === 0, { what: 'the client socket to close' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('createMockLLMHandler: a request listener for a server the caller owns, with the same methods', async () => {
  const mock = await createMockLLMHandler({ config: { responses: { ping: 'pong' } } });
  const server = createServer(mock.handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const base = `http://127.0.0.1:${port}/v1`;
    assert.equal((await chat(base, 'ping')).text, 'pong');
    const id = await mock.addRule({ prompt: 'hello', response: 'Hi.' });
    assert.equal((await chat(base, 'hello')).text, 'Hi.');
    assert.deepEqual((await mock.requests({ ruleId: id })).map((e) => e.prompt), ['hello']);
    await mock.reset();
    assert.deepEqual(await mock.requests(), []);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await Promise.all([mock.close(), mock.close()]);
  }
});
