// The admin API under load: concurrent creates, updates, deletes and resets while provider traffic
// runs. No 5xx anywhere; every acknowledged write is reflected (its status is the one the serial
// order of acknowledged writes predicts, and the final state is that order replayed); the journal
// never holds more than its bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { admin } from '../helpers/admin.ts';
import { setTimeout as delay } from 'node:timers/promises';

const JOURNAL_SIZE = 200;
const WRITERS = 8;
const OPS_PER_WRITER = 60;
const TRAFFIC_WORKERS = 12;
const UNKNOWN = 'no rule for this (admin load test)';

const FILE_IDS = ['f1', 'f2', 'f3'];
const ADMIN_IDS = Array.from({ length: 10 }, (_, i) => `a${i}`);
const fileValue = (id: string) => `file answer of ${id}`;

const CONFIG = `rules:
${FILE_IDS.map((id) => `  - id: ${id}\n    match: {prompt: "ask ${id}"}\n    response: ${JSON.stringify(fileValue(id))}`).join('\n')}
defaults:
  unknown_response: ${JSON.stringify(UNKNOWN)}
settings:
  journal_size: ${JOURNAL_SIZE}
`;

/** An admin (or any JSON) call that fails rather than hangs: test/helpers/admin.ts with a 10 s deadline. */
const call = (server: TestServer, method: string, path: string, body?: unknown) => admin(server, method, path, { body, timeoutMs: 10_000 });

/** A per-id mutex, plus an exclusive lock for resets: the client-side serial order is exact. */
class Locks {
  #ids = new Map<string, Promise<void>>();
  #inFlight = new Set<Promise<void>>();
  #reset: Promise<void> | undefined;

  async withId<T>(id: string, body: () => Promise<T>): Promise<T> {
    for (;;) {
      const held = this.#reset ?? this.#ids.get(id);
      if (!held) break;
      await held;
    }
    let release!: () => void;
    const lock = new Promise<void>((resolve) => (release = resolve));
    this.#ids.set(id, lock);
    this.#inFlight.add(lock);
    try {
      return await body();
    } finally {
      this.#ids.delete(id);
      this.#inFlight.delete(lock);
      release();
    }
  }

  async exclusive<T>(body: () => Promise<T>): Promise<T> {
    while (this.#reset) await this.#reset;
    let release!: () => void;
    this.#reset = new Promise<void>((resolve) => (release = resolve));
    try {
      await Promise.all(this.#inFlight);
      return await body();
    } finally {
      const done = release;
      this.#reset = undefined;
      done();
    }
  }
}

test(`${WRITERS} concurrent admin writers (create, update, delete, reset; ${WRITERS * OPS_PER_WRITER} ops) during provider traffic: no 5xx, every acknowledged write's status and the final state match the serial order, the journal stays within ${JOURNAL_SIZE}`, async (t) => {
  const server = await startTestServer(CONFIG);
  try {
    // The model: each id's current answer (null: no such rule).
    const model = new Map<string, string | null>([...FILE_IDS.map((id) => [id, fileValue(id)] as const), ...ADMIN_IDS.map((id) => [id, null] as const)]);
    const everWritten = new Map<string, Set<string>>([...model.keys()].map((id) => [id, new Set([fileValue(id)])]));
    const locks = new Locks();
    const problems: string[] = [];
    const stats = { create: 0, update: 0, delete: 0, reset: 0, conflicts: 0, notFound: 0, traffic: 0, journalReads: 0, maxJournal: 0 };
    let done = false;

    const expectStatus = (what: string, got: { status: number; text: string }, expected: number) => {
      if (got.status !== expected) problems.push(`${what}: got ${got.status} ${got.text.slice(0, 160)}, the serial order predicts ${expected}`);
    };

    const writer = async (w: number) => {
      let seed = 7919 * (w + 1);
      const random = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
      for (let n = 0; n < OPS_PER_WRITER; n++) {
        const roll = random(100);
        if (roll < 3) {
          await locks.exclusive(async () => {
            const viaDelete = random(2) === 0;
            const res = await call(server, viaDelete ? 'DELETE' : 'POST', viaDelete ? '/admin/responses' : '/admin/reset');
            expectStatus(`reset (${viaDelete ? 'DELETE /admin/responses' : 'POST /admin/reset'})`, res, 204);
            for (const id of FILE_IDS) model.set(id, fileValue(id));
            for (const id of ADMIN_IDS) model.set(id, null);
            stats.reset++;
          });
          continue;
        }
        const ids = [...ADMIN_IDS, ...FILE_IDS];
        const id = ids[random(ids.length)]!;
        const value = `w${w}-op${n}: answer of ${id}`;
        await locks.withId(id, async () => {
          const current = model.get(id)!;
          // Known before it is sent: a request may see the value before this writer sees the ack.
          everWritten.get(id)!.add(value);
          if (roll < 45) {
            const res = await call(server, 'POST', '/admin/responses', { id, match: { prompt: `ask ${id}` }, response: value });
            // A file rule's id is taken even when an admin delete hides it.
            const taken = current !== null || FILE_IDS.includes(id);
            expectStatus(`create ${id}`, res, taken ? 409 : 201);
            if (res.status === 201) model.set(id, value);
            if (res.status === 409) stats.conflicts++;
            stats.create++;
          } else if (roll < 75) {
            const res = await call(server, 'PUT', `/admin/responses/${id}`, { match: { prompt: `ask ${id}` }, response: value });
            expectStatus(`update ${id}`, res, current === null ? 404 : 200);
            if (res.status === 200) model.set(id, value);
            if (res.status === 404) stats.notFound++;
            stats.update++;
          } else {
            const res = await call(server, 'DELETE', `/admin/responses/${id}`);
            expectStatus(`delete ${id}`, res, current === null ? 404 : 204);
            if (res.status === 204) model.set(id, null);
            if (res.status === 404) stats.notFound++;
            stats.delete++;
          }
        });
      }
    };

    const traffic = async (k: number) => {
      const ids = [...ADMIN_IDS, ...FILE_IDS];
      for (let i = k; !done; i++) {
        const id = ids[i % ids.length]!;
        const anthropic = i % 2 === 1;
        const stream = i % 3 === 0;
        const res = await fetch(`${server.url}${anthropic ? '/v1/messages' : '/v1/chat/completions'}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(anthropic && { 'anthropic-version': '2023-06-01' }) },
          body: JSON.stringify(anthropic
            ? { model: 'claude-sonnet-4-5', max_tokens: 256, stream, messages: [{ role: 'user', content: `ask ${id}` }] }
            : { model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: `ask ${id}` }] }),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        if (res.status !== 200) problems.push(`traffic ask ${id}: ${res.status} ${text.slice(0, 160)}`);
        else if (!stream) {
          const json = JSON.parse(text);
          const answer: string = anthropic ? json.content[0].text : json.choices[0].message.content;
          // Whole answers only: one some write made (or the file, or the fallback), never a blend.
          if (answer !== UNKNOWN && !everWritten.get(id)!.has(answer)) problems.push(`traffic ask ${id}: ${JSON.stringify(answer)} was never written`);
        } else if (!(anthropic ? text.includes('event: message_stop') : text.endsWith('data: [DONE]\n\n'))) {
          problems.push(`traffic ask ${id}: an incomplete stream`);
        }
        stats.traffic++;
      }
    };

    const journalReader = async () => {
      while (!done) {
        const res = await call(server, 'GET', '/admin/requests');
        if (res.status !== 200) problems.push(`journal: ${res.status}`);
        else {
          const body = JSON.parse(res.text) as { requests: unknown[]; size: number; capacity: number };
          stats.maxJournal = Math.max(stats.maxJournal, body.requests.length, body.size);
          if (body.requests.length > JOURNAL_SIZE || body.size > JOURNAL_SIZE || body.capacity !== JOURNAL_SIZE) {
            problems.push(`journal holds ${body.requests.length} (size ${body.size}, capacity ${body.capacity})`);
          }
        }
        stats.journalReads++;
        await delay(20);
      }
    };

    const background = [...Array.from({ length: TRAFFIC_WORKERS }, (_, k) => traffic(k)), journalReader()];
    try {
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    } finally {
      done = true;
      await Promise.all(background);
    }

    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} problems`);
    // The final state is the serial order replayed: each id holds its last acknowledged value.
    const listing = JSON.parse((await call(server, 'GET', '/admin/responses')).text) as { responses: { id: string; response: string }[] };
    const actual = new Map(listing.responses.map((r) => [r.id, r.response]));
    for (const [id, value] of model) {
      assert.equal(actual.get(id) ?? null, value, `final state of ${id}`);
      const answer = JSON.parse((await call(server, 'POST', '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `ask ${id}` }] })).text);
      assert.equal(answer.choices[0].message.content, value ?? UNKNOWN, `the answer for ${id}`);
    }
    assert.equal(actual.size, [...model.values()].filter((v) => v !== null).length, 'no rule the model does not know of');
    // Resets clear the journal, so whether it filled up during the run depends on timing: fill it
    // now, past its bound, and it holds exactly its bound.
    await Promise.all(Array.from({ length: 10 }, async () => {
      for (let i = 0; i < (JOURNAL_SIZE + 50) / 10; i++) await call(server, 'POST', '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fill' }] });
    }));
    const journal = JSON.parse((await call(server, 'GET', '/admin/requests')).text) as { requests: unknown[]; size: number };
    assert.equal(journal.size, JOURNAL_SIZE);
    assert.equal(journal.requests.length, JOURNAL_SIZE);
    t.diagnostic(JSON.stringify(stats));
  } finally {
    await server.stop();
  }
});

test('racing writes to one id: of 20 concurrent creates exactly one wins (201, the rest 409), and after 20 concurrent updates the rule holds one of the acknowledged values', async () => {
  const server = await startTestServer(CONFIG);
  try {
    const creates = await Promise.all(Array.from({ length: 20 }, (_, i) => call(server, 'POST', '/admin/responses', { id: 'race', match: { prompt: 'ask race' }, response: `create ${i}` })));
    const statuses = creates.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, ...Array<number>(19).fill(409)]);
    const winner = JSON.parse(creates.find((r) => r.status === 201)!.text).response;
    assert.equal(JSON.parse((await call(server, 'GET', '/admin/responses/race')).text).response, winner);

    const updates = await Promise.all(Array.from({ length: 20 }, (_, i) => call(server, 'PUT', '/admin/responses/race', { match: { prompt: 'ask race' }, response: `update ${i}` })));
    assert.deepEqual(updates.map((r) => r.status), Array<number>(20).fill(200));
    const final = JSON.parse((await call(server, 'GET', '/admin/responses/race')).text).response as string;
    assert.match(final, /^update \d+$/);
    // Each PUT answered with the rule as it stored it; the last one stored is what remains.
    assert.ok(updates.some((r) => JSON.parse(r.text).response === final));
    const ask = JSON.parse((await call(server, 'POST', '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ask race' }] })).text);
    assert.equal(ask.choices[0].message.content, final);
    // Concurrent deletes: one 204, the rest 404, and the rule is gone.
    const deletes = await Promise.all(Array.from({ length: 10 }, () => call(server, 'DELETE', '/admin/responses/race')));
    assert.deepEqual(deletes.map((r) => r.status).sort(), [204, ...Array<number>(9).fill(404)]);
    assert.equal((await call(server, 'GET', '/admin/responses/race')).status, 404);
  } finally {
    await server.stop();
  }
});
