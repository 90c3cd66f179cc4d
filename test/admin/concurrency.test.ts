// Admin writes racing provider reads: every answer, listing and final state must be one of the
// complete versions that were written, never a mix, a gap (the fallback) or a 5xx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { post, startTestServer } from '../helpers/server.ts';
import { admin, openaiClient, OPENAI_MODEL, yamlConfig, type PresentedRule } from './support.ts';
import { definitionOf } from '../helpers/admin.ts';

const TOPICS = 6;
const CHAIN_LENGTH = 30; // sequential PUTs per rule; the rules' chains run concurrently
const CHAT_REQUESTS = 400;
const STREAM_REQUESTS = 40;
const LISTINGS = 60;
const CONCURRENCY = 16;

const prompt = (topic: number) => `topic number ${topic}`;
const id = (topic: number) => `topic-${topic}`;
// Answers marked at both ends and in the middle, with non-ASCII text, so a torn or mixed answer
// could not look complete by chance. Kept short (about 230 characters streamed one at a time) so
// the many streams stay quick; long streamed answers are covered in metrics.test.ts.
const text = (version: 'A' | 'B', topic: number) =>
  `Version ${version} of topic ${topic}. ` + `${version}${topic} — ünïcødé ✓ `.repeat(6) + `End of version ${version} of topic ${topic}.`;

/** Runs `count` tasks with at most `concurrency` in flight. */
async function pool(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

test('concurrent PUTs alternating two complete versions never let a concurrent reader see a partial state', { timeout: 60_000 }, async () => {
  const server = await startTestServer(
    yamlConfig({ rules: Array.from({ length: TOPICS }, (_, t) => ({ id: id(t), prompt: prompt(t), text: `File version of topic ${t}.` })) }),
  );
  try {
    const put = async (topic: number, version: 'A' | 'B') => {
      const res = await admin(server, 'PUT', `/admin/responses/${id(topic)}`, { body: { prompt: prompt(topic), response: { text: text(version, topic) } } });
      assert.equal(res.status, 200, res.text);
      return definitionOf(res.body as PresentedRule);
    };
    for (let t = 0; t < TOPICS; t++) await put(t, 'A');

    const isComplete = (topic: number, answer: unknown) => answer === text('A', topic) || answer === text('B', topic);
    const lastAcknowledged = new Map<number, PresentedRule>();
    const counts = { puts: 0, chats: 0, streams: 0, listings: 0 };
    const seen = new Set<string>();

    const writers = Array.from({ length: TOPICS }, async (_, topic) => {
      for (let i = 0; i < CHAIN_LENGTH; i++) {
        lastAcknowledged.set(topic, await put(topic, i % 2 === 0 ? 'B' : 'A'));
        counts.puts++;
      }
    });

    const chats = pool(CHAT_REQUESTS, CONCURRENCY, async (i) => {
      const topic = i % TOPICS;
      const res = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, messages: [{ role: 'user', content: prompt(topic) }] });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-mockllm-match'), id(topic));
      const answer = ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
      assert.ok(isComplete(topic, answer), `chat ${i}: not a complete version: ${answer.slice(0, 60)}…`);
      seen.add(answer.slice(0, 9));
      counts.chats++;
    });

    const openai = openaiClient(server);
    const streams = pool(STREAM_REQUESTS, 4, async (i) => {
      const topic = i % TOPICS;
      const stream = await openai.chat.completions.create({ model: OPENAI_MODEL, stream: true, messages: [{ role: 'user', content: prompt(topic) }] });
      let answer = '';
      for await (const chunk of stream) answer += chunk.choices[0]?.delta.content ?? '';
      assert.ok(isComplete(topic, answer), `stream ${i}: not a complete version: ${answer.slice(0, 60)}…`);
      counts.streams++;
    });

    const listings = pool(LISTINGS, 4, async (i) => {
      const res = await admin<{ responses: PresentedRule[] }>(server, 'GET', '/admin/responses');
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.responses.map((r) => r.id),
        Array.from({ length: TOPICS }, (_, t) => id(t)),
        `listing ${i}: every rule, in file order`,
      );
      res.body.responses.forEach((r, t) => {
        assert.ok(isComplete(t, (r.response as { text: string }).text), `listing ${i}, ${r.id}: not a complete version`);
        assert.equal(r.match.prompt, prompt(t));
      });
      counts.listings++;
    });

    const started = performance.now();
    await Promise.all([...writers, chats, streams, listings]);
    const elapsed = performance.now() - started;
    console.log(
      `concurrency: ${counts.puts} PUTs, ${counts.chats} chats, ${counts.streams} streams, ${counts.listings} listings in ${elapsed.toFixed(0)} ms; ` +
        `versions seen by readers: ${[...seen].sort().join(', ')}`,
    );
    assert.deepEqual(counts, { puts: TOPICS * CHAIN_LENGTH, chats: CHAT_REQUESTS, streams: STREAM_REQUESTS, listings: LISTINGS });

    // The final state is the last acknowledged write of every rule, in the listing and on the wire.
    const final = await admin<{ responses: PresentedRule[] }>(server, 'GET', '/admin/responses');
    assert.deepEqual(
      final.body.responses.map(definitionOf),
      Array.from({ length: TOPICS }, (_, t) => lastAcknowledged.get(t)),
    );
    for (let t = 0; t < TOPICS; t++) {
      assert.deepEqual(definitionOf((await admin(server, 'GET', `/admin/responses/${id(t)}`)).body as PresentedRule), lastAcknowledged.get(t));
      const res = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, messages: [{ role: 'user', content: prompt(t) }] });
      const answer = ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
      assert.equal(answer, (lastAcknowledged.get(t)!.response as { text: string }).text);
    }
    assert.deepEqual(
      server.logs.filter((line) => (line.level as number) >= 50 || (typeof line.status === 'number' && line.status >= 500)),
      [],
      'no error was logged and no request answered 5xx',
    );
  } finally {
    await server.stop();
  }
});

test('concurrent creates, deletes and resets keep the rule set whole for concurrent readers', { timeout: 60_000 }, async () => {
  const server = await startTestServer(yamlConfig({ responses: { 'stable prompt': 'Stable answer from the file.' } }));
  try {
    const OVERRIDE = 'Override from the admin API.';
    const statuses: number[] = [];
    // Writers: create an override for the file's prompt, delete it, reset — over and over.
    const writers = pool(150, 6, async (i) => {
      if (i % 3 === 0) statuses.push((await admin(server, 'POST', '/admin/responses', { body: { prompt: 'stable prompt', response: OVERRIDE } })).status);
      else if (i % 3 === 1) statuses.push((await admin(server, 'DELETE', '/admin/responses')).status);
      else statuses.push((await admin(server, 'POST', '/admin/reset')).status);
    });
    const readers = pool(300, CONCURRENCY, async () => {
      const res = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, messages: [{ role: 'user', content: 'stable prompt' }] });
      assert.equal(res.status, 200);
      const answer = ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
      assert.ok(answer === 'Stable answer from the file.' || answer === OVERRIDE, `unexpected answer ${answer}`);
      assert.notEqual(res.headers.get('x-mockllm-match'), 'none', 'the prompt never fell through to the fallback');
    });
    await Promise.all([writers, readers]);
    assert.ok(statuses.every((s) => s === 201 || s === 204), `statuses: ${[...new Set(statuses)].join(', ')}`);
    assert.equal((await admin(server, 'POST', '/admin/reset')).status, 204);
    const listed = await admin<{ responses: PresentedRule[] }>(server, 'GET', '/admin/responses');
    assert.deepEqual(
      listed.body.responses.map((r) => [r.source, r.response]),
      [['file', 'Stable answer from the file.']],
    );
  } finally {
    await server.stop();
  }
});
