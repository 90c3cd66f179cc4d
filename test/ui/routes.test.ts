// The dashboard's server side, without a browser: the page and its files (redirect, CSP, ETag, no
// token needed), the live request stream (GET /admin/requests/stream), the counters behind the
// charts, the rule order, and reverting an admin change to a file rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { withDeadline } from '../helpers/deadline.ts';
import { admin, assertAdminError } from '../helpers/admin.ts';
import { eventually, startTestServer } from '../helpers/server.ts';

const CONFIG = `rules:
  - id: sky
    match: { prompt: "what colour is the sky?" }
    response: Blue.
  - id: steps
    priority: 5
    match: { prompt: "count" }
    response: { sequence: [one, two] }
`;

const openai = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-ui', maxRetries: 0 });
const ask = async (url: string, prompt: string) =>
  (await openai(url).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: prompt }] })).choices[0]!.message.content;

/** Reads server-sent events from a fetch body, frame by frame. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(): Promise<{ id?: string; event?: string; data: string; comment?: string } | undefined> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const frame: { id?: string; event?: string; data: string; comment?: string } = { data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) frame.id = line.slice(4);
            else if (line.startsWith('event: ')) frame.event = line.slice(7);
            else if (line.startsWith('data: ')) frame.data += line.slice(6);
            else if (line.startsWith(':')) frame.comment = line.slice(1).trim();
          }
          return frame;
        }
        const { value, done } = await withDeadline(reader.read(), 15_000, 'an SSE frame');
        if (done) return undefined;
        buffer += decoder.decode(value, { stream: true });
      }
    },
    /** The next frame of this event type, skipping others. */
    async nextEvent(event: string) {
      for (;;) {
        const frame = await this.next();
        if (!frame || frame.event === event) return frame;
      }
    },
  };
}

test('/admin/ui redirects to /admin/ui/, which serves the page with a strict CSP, no token, and 304 on a matching ETag', async () => {
  const server = await startTestServer(CONFIG, { adminToken: 'ui-secret' });
  try {
    const redirect = await fetch(`${server.url}/admin/ui`, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
    assert.equal(new URL(redirect.headers.get('location')!, `${server.url}/admin/ui`).pathname, '/admin/ui/');

    const page = await fetch(`${server.url}/admin/ui/`);
    assert.equal(page.status, 200, 'the page itself needs no token: it asks for one');
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    const csp = page.headers.get('content-security-policy')!;
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) assert.ok(csp.includes(directive), csp);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    const html = await page.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /\b(src|href)="(https?:)?\/\//, 'nothing from another host');

    const etag = page.headers.get('etag')!;
    assert.equal((await fetch(`${server.url}/admin/ui/`, { headers: { 'if-none-match': etag } })).status, 304);

    let total = 0;
    for (const file of ['index.html', 'app.js', 'api.js', 'dom.js', 'requests.js', 'rules.js', 'status.js', 'style.css', 'js-yaml.mjs']) {
      const res = await fetch(`${server.url}/admin/ui/${file}`);
      assert.equal(res.status, 200, file);
      const text = await res.text();
      assert.doesNotMatch(text, /sourceMappingURL/, `${file} names no source map`);
      total += Buffer.byteLength(text);
    }
    assert.ok(total < 300 * 1024, `the dashboard weighs ${total} bytes`);
    assert.equal((await fetch(`${server.url}/admin/ui/../responses`)).status, 401, 'the data stays behind the token');
    assertAdminError(await admin(server, 'GET', '/admin/ui/missing.js'), 404, 'not_found');
  } finally {
    await server.stop();
  }
});

test('the dashboard does not exist when the admin API is off', async () => {
  const server = await startTestServer(CONFIG, { adminDisabled: true });
  try {
    assert.equal((await fetch(`${server.url}/admin/ui/`)).status, 404);
  } finally {
    await server.stop();
  }
});

test('the request stream pushes each new journal entry, replays what came after Last-Event-ID, and ends when the server closes', async () => {
  // A shutdown grace far longer than the deadline below: only streams that end by themselves let close() resolve in time.
  const server = await startTestServer(CONFIG, { shutdownGraceMs: 120_000 });
  let stopped = false;
  try {
    assert.equal(await ask(server.url, 'what colour is the sky?'), 'Blue.');
    const controller = new AbortController();
    const res = await fetch(`${server.url}/admin/requests/stream`, { signal: controller.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
    const stream = sseReader(res.body!);
    const hello = await stream.nextEvent('hello');
    assert.deepEqual(JSON.parse(hello!.data), { latestSeq: 1 }, 'without Last-Event-ID, only what comes next');

    await ask(server.url, 'what colour is the sea?');
    const pushed = await stream.nextEvent('request');
    assert.equal(pushed!.id, '2');
    const entry = JSON.parse(pushed!.data);
    assert.equal(entry.seq, 2);
    assert.equal(entry.prompt, 'what colour is the sea?');
    assert.equal(entry.matched, false);
    assert.equal(entry.explanation.nearMisses[0].ruleId, 'sky');
    assert.equal(entry.explanation.nearMisses[0].failed.condition, 'prompt');
    controller.abort();

    // A client that comes back says what it saw last and gets what it missed, oldest first.
    await ask(server.url, 'count');
    const again = await fetch(`${server.url}/admin/requests/stream`, { headers: { 'last-event-id': '1' } });
    const replay = sseReader(again.body!);
    assert.deepEqual(JSON.parse((await replay.nextEvent('hello'))!.data), { latestSeq: 3 });
    assert.deepEqual([(await replay.nextEvent('request'))!.id, (await replay.nextEvent('request'))!.id], ['2', '3']);

    // A Last-Event-ID from an earlier server (seqs restart with the process) starts from now.
    const later = await fetch(`${server.url}/admin/requests/stream?after=99`);
    const fresh = sseReader(later.body!);
    assert.deepEqual(JSON.parse((await fresh.nextEvent('hello'))!.data), { latestSeq: 3 });
    await ask(server.url, 'what colour is the sky?');
    assert.equal((await fresh.nextEvent('request'))!.id, '4');

    assertAdminError(await admin(server, 'GET', '/admin/requests/stream?limit=1'), 400, 'invalid_query', 'limit');
    assertAdminError(await admin(server, 'GET', '/admin/requests/stream', { headers: { 'last-event-id': 'x' } }), 400, 'invalid_query', 'Last-Event-ID');

    // Open streams end as the server closes, so close() resolves long before the shutdown grace would cut them.
    await withDeadline(server.stop(), 30_000, 'the server to stop');
    stopped = true;
    assert.equal((await replay.nextEvent('request'))?.id, '4', 'the replaying stream went on live');
    assert.equal(await replay.nextEvent('request'), undefined, 'the stream ended');
    assert.equal(await fresh.nextEvent('request'), undefined, 'the stream ended');
  } finally {
    if (!stopped) await server.stop();
  }
});

test('a stream whose client stops reading ends once too much is unsent, instead of buffering without bound', async () => {
  const server = await startTestServer(CONFIG);
  try {
    const res = await fetch(`${server.url}/admin/requests/stream`);
    const stream = sseReader(res.body!);
    await stream.nextEvent('hello');
    // 300 entries of about 60 KB each (the journal keeps bodies up to 64 KB): some 18 MB, with nobody reading.
    const padding = 'x'.repeat(60_000);
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'what colour is the sky?' }], metadata: { padding } });
    for (let i = 0; i < 300; i += 10) {
      await Promise.all(Array.from({ length: 10 }, () => fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.text())));
    }
    let received = 0;
    while (await stream.nextEvent('request')) received++;
    assert.ok(received < 300, `the stream ended after ${received} of 300 entries`);
  } finally {
    await server.stop();
  }
});

test('the stream needs the admin token when one is set', async () => {
  const server = await startTestServer(CONFIG, { adminToken: 'ui-secret' });
  try {
    assertAdminError(await admin(server, 'GET', '/admin/requests/stream'), 401, 'unauthorized');
    const controller = new AbortController();
    const res = await fetch(`${server.url}/admin/requests/stream`, { headers: { authorization: 'Bearer ui-secret' }, signal: controller.signal });
    assert.equal(res.status, 200);
    controller.abort();
  } finally {
    await server.stop();
  }
});

test('/admin/stats counts provider answers by provider and the latency of provider routes only', async () => {
  const server = await startTestServer(CONFIG);
  try {
    const before = (await admin(server, 'GET', '/admin/stats')).body;
    assert.deepEqual(before.responsesByProvider, {});
    assert.equal(before.activeStreams, 0);
    await ask(server.url, 'what colour is the sky?');
    await ask(server.url, 'nothing');
    await admin(server, 'GET', '/admin/responses');
    const after = (await admin(server, 'GET', '/admin/stats')).body;
    assert.deepEqual(after.responsesByProvider, { openai: 2 });
    assert.equal(after.latencySeconds.count, 2, 'admin calls are not in the latency');
    assert.equal(after.latencySeconds.buckets.at(-1).le, null, 'the last bucket is +Inf');
    assert.equal(after.latencySeconds.buckets.at(-1).count, 2);
  } finally {
    await server.stop();
  }
});

test('a replaced or deleted file rule is reverted to the file\'s rule; /admin/precedence shows the order, priorities and overrides', async () => {
  const server = await startTestServer(CONFIG);
  try {
    const order = (await admin(server, 'GET', '/admin/precedence')).body;
    assert.deepEqual(order.rules.map((r: { id: string; priority: number }) => [r.id, r.priority]), [['steps', 5], ['sky', 0]]);

    assert.equal((await admin(server, 'PUT', '/admin/responses/sky', { body: { match: { prompt: 'what colour is the sky?' }, response: 'Green.' } })).status, 200);
    assert.equal(await ask(server.url, 'what colour is the sky?'), 'Green.');
    const replaced = (await admin(server, 'GET', '/admin/precedence')).body;
    assert.deepEqual(replaced.replaced, ['sky']);
    assert.equal(replaced.rules.find((r: { id: string }) => r.id === 'sky').replacesFileRule, true);

    assert.equal((await admin(server, 'POST', '/admin/responses/sky/revert')).status, 204);
    assert.equal(await ask(server.url, 'what colour is the sky?'), 'Blue.');
    assertAdminError(await admin(server, 'POST', '/admin/responses/sky/revert'), 404, 'not_found');

    assert.equal((await admin(server, 'DELETE', '/admin/responses/steps')).status, 204);
    assert.deepEqual((await admin(server, 'GET', '/admin/precedence')).body.deleted, ['steps']);
    assert.equal((await admin(server, 'POST', '/admin/responses/steps/revert')).status, 204);
    assert.equal(await ask(server.url, 'count'), 'one');
    assert.equal((await admin(server, 'GET', '/admin/precedence')).body.deleted.length, 0);

    // An admin-created rule has no file rule to go back to.
    assert.equal((await admin(server, 'POST', '/admin/responses', { body: { id: 'mine', prompt: 'x', response: 'y' } })).status, 201);
    assertAdminError(await admin(server, 'POST', '/admin/responses/mine/revert'), 404, 'not_found');
    await eventually(async () => (await admin(server, 'GET', '/admin/responses/mine')).status === 200);
  } finally {
    await server.stop();
  }
});
