// Security: the admin token (compared in constant time, never logged), credentials redacted in
// logs and the journal, header and body size limits, regexes that would backtrack catastrophically,
// CORS (off unless configured), and metric labels that no client input can mint.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tokenMatches } from '../../src/admin/index.ts';
import { ConfigError } from '../../src/config/load.ts';
import { PROVIDERS } from '../../src/providers/index.ts';
import { eventually, parseSse, startTestServer, type TestServer } from '../helpers/server.ts';
import { assertErrorShape, jsonOf, rawRequest, scrapeMetrics, scrapeText, startCliChild, type RawResponse } from './support.ts';

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
const MESSAGES = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };
const JSON_HEADERS = { 'content-type': 'application/json' };

const unique = (label: string) => `${label}${randomBytes(8).toString('hex')}`;

/** A raw request whose exact bytes are written to a fresh socket; returns the raw response. */
function rawExchange(url: string, bytes: string): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const head = raw.indexOf('\r\n\r\n');
      const headers: Record<string, string> = {};
      for (const line of raw.slice(0, head).split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const text = raw.slice(head + 4);
      resolve({ status: Number(raw.slice(9, 12)), headers, body: Buffer.from(text), text });
    });
  });
}

describe('the admin token', () => {
  test('is compared by digest: equal tokens match, any other (shorter, longer, empty, one byte off) does not, and lengths never throw', () => {
    const token = 'admin-token-0123456789';
    assert.equal(tokenMatches(token, token), true);
    for (const other of ['', 'a', token.slice(0, -1), `${token}x`, token.replace('0', '1'), token.toUpperCase(), `${token}\u0000`]) {
      assert.equal(tokenMatches(other, token), false, JSON.stringify(other));
    }
  });

  test('takes as long whether a wrong token differs in its first byte or its last (a plain === would return at the first difference)', () => {
    // Megabyte tokens make an early-exit comparison's shortcut large enough to measure.
    const expected = 'k'.repeat(1 << 20);
    const firstDiffers = `x${expected.slice(1)}`;
    const lastDiffers = `${expected.slice(0, -1)}x`;
    const time = (presented: string) => {
      const start = process.hrtime.bigint();
      tokenMatches(presented, expected);
      return Number(process.hrtime.bigint() - start);
    };
    const first: number[] = [];
    const last: number[] = [];
    for (let i = 0; i < 21; i++) {
      first.push(time(firstDiffers));
      last.push(time(lastDiffers));
    }
    // The fastest run of each is the one least disturbed by other work on the machine (noise only
    // adds time). An early-exit comparison puts the ratio near 0.001 (it stops at byte 1 of a
    // megabyte); a constant-time one near 1. Only the early-exit direction fails.
    const ratio = Math.min(...first) / Math.min(...last);
    assert.ok(ratio > 0.1, `first-byte / last-byte difference timing ratio ${ratio.toFixed(3)}: the comparison stops at the first difference`);
  });

  test('is never logged, journaled or exposed, whether the call is refused or accepted, and whether it comes from the CLI or the config file', async () => {
    const cliToken = unique('cli-token-');
    const fileToken = unique('file-token-');
    const wrong = unique('wrong-token-');
    for (const [label, server] of [
      ['--admin-token', await startTestServer('responses:\n  "hi": "there"\n', { adminToken: cliToken })],
      ['settings.admin.token', await startTestServer(`responses:\n  "hi": "there"\nsettings:\n  admin:\n    token: ${JSON.stringify(fileToken)}\n`)],
    ] as const) {
      const token = label === '--admin-token' ? cliToken : fileToken;
      try {
        const calls: [string, Record<string, string>, number][] = [
          ['/admin/responses', {}, 401],
          ['/admin/responses', { authorization: `Bearer ${wrong}` }, 401],
          ['/admin/responses', { authorization: wrong }, 401],
          ['/admin/responses', { 'x-api-key': token }, 401],
          [`/admin/responses?token=${token}`, {}, 401],
          ['/admin/responses', { authorization: `Bearer ${token}` }, 200],
          ['/admin/requests', { authorization: `bearer ${token}` }, 200],
        ];
        for (const [path, headers, status] of calls) {
          const res = await rawRequest(server.url, { path, headers });
          assert.equal(res.status, status, `${label} ${path} ${JSON.stringify(headers)}`);
          assert.ok(!res.text.includes(token) && !res.text.includes(wrong), 'the answer echoes a token');
        }
        // Provider calls carrying the tokens as credentials.
        for (const credential of [token, wrong]) {
          await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: { ...JSON_HEADERS, authorization: `Bearer ${credential}` }, body: JSON.stringify(CHAT) });
          await rawRequest(server.url, { method: 'POST', path: '/v1/messages', headers: { ...JSON_HEADERS, 'x-api-key': credential }, body: '{not json' });
        }
        // A reload re-reads the file (and its token): nothing about it is logged either.
        if (label === 'settings.admin.token') {
          await writeFile(server.configPath, `responses:\n  "hi": "again"\nsettings:\n  admin:\n    token: ${JSON.stringify(fileToken)}\n`);
          await eventually(() => server.logs.some((l) => l.msg === 'config reloaded'), { what: 'the reload' });
        }
        const journal = (await rawRequest(server.url, { path: '/admin/requests', headers: { authorization: `Bearer ${token}` } })).text;
        const exposed = [server.logText(), journal, await scrapeText(server.url), (await rawRequest(server.url, { path: '/readyz' })).text, (await rawRequest(server.url, { path: '/healthz' })).text];
        for (const text of exposed) {
          assert.ok(!text.includes(token), `${label}: the token appears in ${text.slice(0, 100)}…`);
          assert.ok(!text.includes(wrong), `${label}: a presented wrong token appears`);
        }
        assert.ok(server.logs.filter((l) => l.msg === 'request').length >= calls.length, 'the calls were logged (without the token)');
      } finally {
        await server.stop();
      }
    }
  });
});

describe('credentials in requests', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('responses:\n  "hi": "there"\n');
  });
  after(async () => {
    await server?.stop();
  });

  test('authorization, x-api-key, cookie and proxy-authorization never reach a log line or the journal, on answers, streams and errors alike', async () => {
    const secrets = { authorization: unique('Bearer sk-live-'), 'x-api-key': unique('sk-ant-api03-'), cookie: `session=${unique('sess')}; other=${unique('c')}`, 'proxy-authorization': unique('Basic ') };
    const requests: [string, unknown, Record<string, string>][] = [
      ['/v1/chat/completions', CHAT, {}],
      ['/v1/chat/completions', { ...CHAT, stream: true }, {}],
      ['/v1/messages', MESSAGES, { 'anthropic-version': '2023-06-01' }],
      ['/v1/messages', { ...MESSAGES, stream: true }, {}],
      ['/v1/chat/completions', '{broken json', {}],
      ['/v1/messages', { model: 'x' }, {}],
      ['/v1/no-such-endpoint', CHAT, {}],
    ];
    for (const [path, body, extra] of requests) {
      const res = await rawRequest(server.url, { method: 'POST', path, headers: { ...JSON_HEADERS, ...extra, ...secrets }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      assert.ok(res.status < 500, `${path}: ${res.status}`);
    }
    // The same names in other letter cases are the same headers.
    await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: { ...JSON_HEADERS, AUTHORIZATION: secrets.authorization, 'X-Api-Key': secrets['x-api-key'], Cookie: secrets.cookie }, body: JSON.stringify(CHAT) });

    const journal = jsonOf(await rawRequest(server.url, { path: '/admin/requests' }), 'journal') as { requests: { request: { headers: Record<string, unknown> } }[] };
    assert.ok(journal.requests.length >= requests.length);
    let redacted = 0;
    for (const entry of journal.requests) {
      for (const name of Object.keys(secrets)) {
        if (entry.request.headers[name] === undefined) continue;
        assert.equal(entry.request.headers[name], '[REDACTED]', `journal header ${name}`);
        redacted++;
      }
    }
    assert.ok(redacted >= requests.length * 4 + 3, `${redacted} redacted headers in the journal`);
    const text = server.logText() + JSON.stringify(journal);
    for (const [name, value] of Object.entries(secrets)) {
      for (const piece of value.split(/[ ;=]/).filter((p) => p.length > 12)) assert.ok(!text.includes(piece), `${name} (${piece}) leaked into the logs or the journal`);
    }
  });
});

describe('size limits', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('responses:\n  "hi": "there"\nsettings:\n  body_limit_bytes: 4096\n');
  });
  after(async () => {
    await server?.stop();
  });

  test('a 64 KB request header gets 431 with a JSON error body in the shape of the API addressed, and the server keeps serving', async () => {
    const big = 'x'.repeat(64 * 1024);
    const cases: [string, string, 'openai' | 'anthropic' | 'admin'][] = [
      ['POST /v1/chat/completions', '', 'openai'],
      ['POST /v1/messages', '', 'anthropic'],
      ['POST /v1/chat/completions', 'anthropic-version: 2023-06-01\r\n', 'anthropic'],
      ['GET /admin/responses', '', 'admin'],
      ['GET /healthz', '', 'openai'],
    ];
    for (const [line, extra, family] of cases) {
      const res = await rawExchange(server.url, `${line} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}X-Big: ${big}\r\nContent-Length: 2\r\n\r\n{}`);
      assert.equal(res.status, 431, `${line}: ${res.status}`);
      assertErrorShape(family, res, line);
    }
    const after = await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: JSON_HEADERS, body: JSON.stringify(CHAT) });
    assert.equal(after.status, 200);
  });

  test('a body over settings.body_limit_bytes gets 413 in the provider shape on every provider route (sized or chunked); one under it is answered', async () => {
    const padding = 'p'.repeat(8000);
    const routes = PROVIDERS.flatMap((p) => p.routes.filter((r) => r.method === 'POST').map((r) => ({ path: r.path, family: p.name as 'openai' | 'anthropic' })));
    assert.ok(routes.length >= 2);
    for (const { path, family } of routes) {
      const body = JSON.stringify({ ...(family === 'anthropic' ? MESSAGES : CHAT), metadata_padding: padding });
      const sized = await rawRequest(server.url, { method: 'POST', path, headers: JSON_HEADERS, body });
      assert.equal(sized.status, 413, `${path}: ${sized.status} ${sized.text.slice(0, 200)}`);
      assertErrorShape(family, sized, path);
      const chunked = await rawExchange(server.url, `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
      assert.equal(chunked.status, 413, `${path} chunked: ${chunked.status}`);
      assertErrorShape(family, chunked, `${path} chunked`);
    }
    const small = await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: JSON_HEADERS, body: JSON.stringify({ ...CHAT, metadata_padding: 'p'.repeat(3000) }) });
    assert.equal(small.status, 200);
  });

  test('an admin body over 1 MB gets 413 in the admin shape', async () => {
    const body = JSON.stringify({ prompt: 'big', response: 'r'.repeat(1024 * 1024 + 10) });
    const res = await rawRequest(server.url, { method: 'POST', path: '/admin/responses', headers: JSON_HEADERS, body });
    assert.equal(res.status, 413);
    assertErrorShape('admin', res, 'admin 413');
    assert.equal((JSON.parse(res.text) as { error: { code: string } }).error.code, 'too_large');
    // Just under the limit is accepted.
    const ok = await rawRequest(server.url, { method: 'POST', path: '/admin/responses', headers: JSON_HEADERS, body: JSON.stringify({ prompt: 'big', response: 'r'.repeat(1000 * 1000) }) });
    assert.equal(ok.status, 201);
  });
});

describe('regexes that backtrack catastrophically', () => {
  const CATASTROPHIC = ['(a+)+$', '/(a*)*b/i', '^(\\w+\\s?)+$', '(a|aa)+$', '(a|a)+$', '(\\d|\\d\\d)+$'];

  test('are refused by the admin API with a 400 naming match.regex, and change nothing', async () => {
    const server = await startTestServer('responses:\n  "hi": "there"\n');
    try {
      for (const regex of CATASTROPHIC) {
        const res = await rawRequest(server.url, { method: 'POST', path: '/admin/responses', headers: JSON_HEADERS, body: JSON.stringify({ match: { regex }, response: 'never' }) });
        assert.equal(res.status, 400, `${regex}: ${res.text}`);
        assertErrorShape('admin', res, regex);
        const error = (JSON.parse(res.text) as { error: { field: string; message: string } }).error;
        assert.equal(error.field, 'match.regex', regex);
        assert.match(error.message, /backtracks? catastrophically/);
      }
      const listing = jsonOf(await rawRequest(server.url, { path: '/admin/responses' }), 'listing') as { responses: { source: string }[] };
      assert.ok(listing.responses.every((r) => r.source === 'file'));
      // An ordinary regex is accepted and answers at once, even on a long prompt.
      const ok = await rawRequest(server.url, { method: 'POST', path: '/admin/responses', headers: JSON_HEADERS, body: JSON.stringify({ match: { regex: '^what (is|are) the (weather|forecast)\\b' }, response: 'sunny' }) });
      assert.equal(ok.status, 201, ok.text);
      const answer = await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: JSON_HEADERS, body: JSON.stringify({ ...CHAT, messages: [{ role: 'user', content: 'what is the weather like?' }] }) });
      assert.equal((JSON.parse(answer.text) as any).choices[0].message.content, 'sunny');
    } finally {
      await server.stop();
    }
  });

  test('in the config file stop the start-up with a ConfigError naming the line and match.regex, and a reload that brings one keeps the last good config', async () => {
    for (const regex of ['(a+)+$', '(a|aa)+$']) {
      await assert.rejects(
        startTestServer(`rules:\n  - match:\n      regex: ${JSON.stringify(regex)}\n    response: "never"\n`),
        (error: unknown) => error instanceof ConfigError && /responses\.yml:3: rules\.0\.match\.regex (may )?backtracks? catastrophically/.test(error.message),
      );
    }
    const server = await startTestServer('responses:\n  "hi": "there"\n');
    try {
      await writeFile(server.configPath, 'responses:\n  "hi": "changed"\nrules:\n  - match: {regex: "(x|xx)+y"}\n    response: "never"\n');
      await eventually(() => server.config.status.lastReloadError?.includes('rules.0.match.regex'), { what: 'the reload to be refused' });
      const answer = await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: JSON_HEADERS, body: JSON.stringify(CHAT) });
      assert.equal((JSON.parse(answer.text) as any).choices[0].message.content, 'there');
    } finally {
      await server.stop();
    }
  });
});

test(
  'a rule regex such as weather.*today answers a 1 MB adversarial prompt in seconds (found here: the regex saw the whole prompt and froze the server for minutes; it now sees a bounded prefix)',
  async () => {
    // In a child process: were the event loop frozen, this test's deadline still fires.
    const child = await startCliChild('rules:\n  - match: {regex: "weather.*today"}\n    response: "regex matched"\n');
    try {
      const res = await rawRequest(child.url, {
        method: 'POST',
        path: '/v1/chat/completions',
        headers: JSON_HEADERS,
        body: JSON.stringify({ ...CHAT, messages: [{ role: 'user', content: 'weather '.repeat(128 * 1024) }] }),
        // Generous for a loaded machine; the unbounded regex froze the server for minutes.
        deadlineMs: 15_000,
      });
      assert.equal(res.status, 200);
    } finally {
      await child.stop();
    }
  },
);

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    rawRequest(url, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' } });
  const corsHeaders = (res: RawResponse) => Object.keys(res.headers).filter((h) => h.startsWith('access-control-'));

  test('is off by default: no access-control-* header on answers, streams, errors or preflights', async () => {
    const server = await startTestServer('responses:\n  "hi": "there"\n');
    try {
      const origin = 'https://app.example';
      const answers = [
        await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: { ...JSON_HEADERS, origin }, body: JSON.stringify(CHAT) }),
        await rawRequest(server.url, { method: 'POST', path: '/v1/messages', headers: { ...JSON_HEADERS, origin }, body: JSON.stringify({ ...MESSAGES, stream: true }) }),
        await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: { ...JSON_HEADERS, origin }, body: '{' }),
        await rawRequest(server.url, { path: '/admin/responses', headers: { origin } }),
        await preflight(server.url, origin),
      ];
      for (const res of answers) assert.deepEqual(corsHeaders(res), [], `status ${res.status}`);
      assert.notEqual(answers[4]!.status, 204, 'no preflight answer without CORS configured');
    } finally {
      await server.stop();
    }
  });

  test('settings.cors.origins: the allowed origin is echoed (answers, streams, errors), preflight gets 204, any other origin gets nothing; "*" allows all; a reload switches it', async () => {
    const server = await startTestServer('responses:\n  "hi": "there"\nsettings:\n  cors:\n    origins: ["https://app.example"]\n');
    try {
      const allowed = 'https://app.example';
      const answer = await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: { ...JSON_HEADERS, origin: allowed }, body: JSON.stringify(CHAT) });
      assert.equal(answer.headers['access-control-allow-origin'], allowed);
      assert.match(String(answer.headers.vary), /origin/i);
      assert.match(String(answer.headers['access-control-expose-headers']), /x-request-id/);
      const stream = await rawRequest(server.url, { method: 'POST', path: '/v1/messages', headers: { ...JSON_HEADERS, origin: allowed }, body: JSON.stringify({ ...MESSAGES, stream: true }) });
      assert.equal(stream.headers['access-control-allow-origin'], allowed);
      assert.ok(parseSse(stream.text).some((f) => f.event === 'message_stop'));
      const error = await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: { ...JSON_HEADERS, origin: allowed }, body: '{' });
      assert.equal(error.status, 400);
      assert.equal(error.headers['access-control-allow-origin'], allowed, 'a browser can read the error');

      const pre = await preflight(server.url, allowed);
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], allowed);
      assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
      assert.match(String(pre.headers['access-control-allow-headers']), /authorization/);

      for (const other of ['https://evil.example', 'https://app.example.evil.example', 'http://app.example', 'null']) {
        const res = await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: { ...JSON_HEADERS, origin: other }, body: JSON.stringify(CHAT) });
        assert.equal(res.status, 200);
        assert.deepEqual(corsHeaders(res), [], other);
        assert.deepEqual(corsHeaders(await preflight(server.url, other)), [], `${other} preflight`);
      }

      await writeFile(server.configPath, 'responses:\n  "hi": "there"\nsettings:\n  cors:\n    origins: ["*"]\n');
      await eventually(async () => (await preflight(server.url, 'https://anyone.example')).headers['access-control-allow-origin'] === '*', { what: 'CORS for every origin after the reload' });
      await writeFile(server.configPath, 'responses:\n  "hi": "there"\n');
      await eventually(async () => corsHeaders(await preflight(server.url, allowed)).length === 0, { what: 'CORS off after the reload' });
    } finally {
      await server.stop();
    }
  });
});

test('no path, prompt, model, request id or rule id a client sends becomes a metric label (or appears in /metrics at all)', async () => {
  const server = await startTestServer('responses:\n  "hi": "there"\n');
  try {
    const markers: string[] = [];
    const mark = (label: string) => {
      const marker = unique(label);
      markers.push(marker);
      return marker;
    };
    for (let i = 0; i < 20; i++) {
      await rawRequest(server.url, { path: `/${mark('path')}/${mark('seg')}?q=${mark('query')}` });
      await rawRequest(server.url, { method: 'POST', path: `/v1/${mark('v1path')}`, headers: JSON_HEADERS, body: '{}' });
      await rawRequest(server.url, { method: 'POST', path: '/v1/chat/completions', headers: { ...JSON_HEADERS, 'x-request-id': mark('rid') }, body: JSON.stringify({ model: mark('model'), stream: i % 2 === 0, messages: [{ role: 'user', content: mark('prompt') }] }) });
      await rawRequest(server.url, { method: 'POST', path: '/v1/messages', headers: JSON_HEADERS, body: JSON.stringify({ model: mark('claude'), max_tokens: 5, messages: [{ role: 'user', content: mark('prompt') }] }) });
      await rawRequest(server.url, { path: `/admin/responses/${mark('ruleid')}` });
      await rawRequest(server.url, { method: 'POST', path: '/admin/responses', headers: JSON_HEADERS, body: JSON.stringify({ id: mark('newrule'), prompt: mark('ruleprompt'), response: mark('answer') }) });
      await rawRequest(server.url, { method: 'PATCH', path: `/healthz/${mark('ops')}` });
    }
    const text = await scrapeText(server.url);
    for (const marker of markers) assert.ok(!text.includes(marker), `${marker} appears in /metrics`);

    // Every label of mockllm's own series comes from a fixed vocabulary or the route table.
    const routes = new Set(['unmatched', '/healthz', '/readyz', '/metrics', ...PROVIDERS.flatMap((p) => p.routes.map((r) => r.path))]);
    const allowed: Record<string, (value: string) => boolean> = {
      method: (v) => ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'].includes(v),
      route: (v) => routes.has(v) || /^\/admin(\/[a-z]+|\/:id)*(\/reset)?$/.test(v),
      endpoint: (v) => routes.has(v),
      status: (v) => /^[1-5]\d\d$/.test(v),
      provider: (v) => PROVIDERS.some((provider) => provider.name === v),
      backend: (v) => ['memory', 'redis'].includes(v),
      matched: (v) => ['true', 'false'].includes(v),
      result: (v) => ['updated', 'unchanged', 'failed'].includes(v),
      source: (v) => ['file', 'admin'].includes(v),
      operation: (v) => /^[a-z_]+$/.test(v) && v.length < 20,
      le: () => true,
    };
    const exposition = await scrapeMetrics(server.url);
    const own = exposition.samples.filter((s) => s.name.startsWith('mockllm_'));
    assert.ok(own.length > 0);
    for (const sample of own) {
      for (const [name, value] of Object.entries(sample.labels)) {
        assert.ok(allowed[name], `unexpected label ${name} on ${sample.name}`);
        assert.ok(allowed[name]!(value), `${sample.name}{${name}="${value}"}`);
      }
    }
    const routeValues = new Set(own.flatMap((s) => (s.labels.route ? [s.labels.route] : [])));
    assert.ok(routeValues.size <= routes.size + 10, `${routeValues.size} route label values: ${[...routeValues].join(', ')}`);
  } finally {
    await server.stop();
  }
});
