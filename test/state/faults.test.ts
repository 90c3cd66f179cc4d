// Redis failing under three replicas: paused, killed under load, restarted empty. Provider requests
// never fail because of it, admin writes answer 503 and change nothing, and the overlay survives.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { admin } from '../helpers/admin.ts';
import { eventually } from '../helpers/poll.ts';
import { RedisServer, redisMissing } from './support/redis.ts';
import { ask, freshPrefix, startReplicas, type Replica } from './support/replicas.ts';

async function chat(replica: Replica, prompt: string): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${replica.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] }),
  });
  const body = (await res.json()) as { choices?: { message: { content: string } }[] };
  return { status: res.status, text: body.choices?.[0]?.message.content ?? '', ms: performance.now() - started };
}

/** Requests on every replica in a loop until stopped; every answer is kept. */
function load(replicas: readonly Replica[], prompt: string) {
  let running = true;
  const answers: { status: number; text: string; ms: number }[] = [];
  const failures: string[] = [];
  const workers = replicas.flatMap((replica) =>
    [0, 1].map(async () => {
      while (running) {
        try {
          answers.push(await chat(replica, prompt));
        } catch (error) {
          failures.push(`${replica.url}: ${(error as Error).message}`);
          // A replica that is gone fails at once: stop rather than spin.
          if (failures.length > 100) running = false;
        }
      }
    }),
  );
  return {
    answers,
    failures,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

const readyz = async (replica: Replica) => (await admin(replica, 'GET', '/readyz')).body;

describe('Redis faults under three replicas', { skip: redisMissing }, () => {
  let redis: RedisServer;
  let replicas: Replica[] = [];
  let prefix: string;

  before(async () => {
    redis = await RedisServer.start();
    prefix = freshPrefix();
    replicas = await startReplicas(3, redis.url, prefix);
    const created = await admin(replicas[0]!, 'POST', '/admin/responses', { body: { id: 'kept', prompt: 'survive?', response: 'survived' } });
    assert.equal(created.status, 201, created.text);
    for (const replica of replicas) await eventually(async () => (await ask(replica, 'survive?')) === 'survived', { what: 'the rule everywhere' });
  });

  after(async () => {
    await Promise.all(replicas.map((replica) => replica.cleanup()));
    await redis?.stop();
  });

  test('Redis paused (SIGSTOP) for 2 s: provider requests answer as fast as before; an admin write times out with a clear 503', async () => {
    const [a] = replicas as [Replica, Replica, Replica];
    redis.pause();
    const pausedAt = performance.now();
    const during = load(replicas, 'survive?');
    try {
      const write = admin(a, 'POST', '/admin/responses', { body: { id: 'during-pause', prompt: 'paused?', response: 'no' }, timeoutMs: 10_000 });
      const reply = await write;
      assert.equal(reply.status, 503, reply.text);
      assert.equal(reply.body.error.code, 'unavailable');
      assert.match(reply.body.error.message, /did not answer within \d+ ms/);
      // Keep the load going until the pause has lasted 2 s.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2000 - (performance.now() - pausedAt))));
      await during.stop();
      assert.deepEqual(during.failures, []);
      assert.ok(during.answers.length > 0);
      assert.ok(
        during.answers.every((answer) => answer.status === 200 && answer.text === 'survived'),
        `statuses: ${[...new Set(during.answers.map((answer) => `${answer.status} ${answer.text}`))].join(', ')}`,
      );
      // A request that waited for Redis would have waited for the end of the pause (2 s).
      const slowest = Math.max(...during.answers.map((answer) => answer.ms));
      assert.ok(slowest < 1500, `slowest provider request during the pause: ${slowest.toFixed(0)} ms`);
    } finally {
      redis.resume();
      await during.stop();
    }
    // The timed-out write was never acknowledged, and did not happen.
    await eventually(async () => (await admin(a, 'POST', '/admin/responses', { body: { id: 'after-pause', prompt: 'resumed?', response: 'yes' } })).status === 201, { what: 'admin writes again' });
    for (const replica of replicas) {
      await eventually(async () => (await ask(replica, 'resumed?')) === 'yes', { what: 'the write after the pause everywhere' });
      assert.equal((await admin(replica, 'GET', '/admin/responses/during-pause')).status, 404);
    }
  });

  test('Redis killed under load: no provider request fails, admin writes answer 503, readiness stays 200 (degraded); restarted empty, the overlay is restored', async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    const steps = await admin(a, 'POST', '/admin/responses', { body: { id: 'outage-steps', match: { contains: 'outage step' }, response: { sequence: ['s1', 's2', 's3', 's4'], then: 'repeat_last' } } });
    assert.equal(steps.status, 201, steps.text);
    for (const replica of replicas) await eventually(async () => (await admin(replica, 'GET', '/admin/responses/outage-steps')).status === 200, { what: 'the sequence rule everywhere' });
    await eventually(async () => new Set(await Promise.all(replicas.map(async (replica) => (await readyz(replica)).state.overlayVersion))).size === 1, { what: 'one overlay version everywhere' });
    const versionBefore = (await readyz(a)).state.overlayVersion as number;
    assert.equal(redis.cli('GET', `${prefix}overlay:version`), String(versionBefore));
    const traffic = load(replicas, 'survive?');
    try {
      await redis.kill();
      for (const replica of replicas) {
        await eventually(async () => (await readyz(replica)).state.backend.connected === false, { what: 'the replica to notice' });
      }
      const ready = await admin(b, 'GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.equal(ready.body.status, 'degraded');
      assert.match(ready.body.state.backend.error, /\S/);
      assert.match((await admin(b, 'GET', '/metrics')).text, /^mockllm_state_backend_up\{backend="redis"\} 0$/m);
      const refused = await admin(c, 'POST', '/admin/responses', { body: { id: 'while-down', prompt: 'down?', response: 'no' } });
      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.body.error.code, 'unavailable');
      assert.match(refused.body.error.message, /unreachable.*nothing changed/);
      assert.equal((await admin(c, 'GET', '/admin/responses/while-down')).status, 404);
      assert.ok(c.logs.some((line) => typeof line.msg === 'string' && line.msg.startsWith('Redis is unreachable')), 'the replica logged that Redis is down');
      // Sequence steps go on, counted in the replica, and it says so.
      assert.equal(await ask(a, 'outage step'), 's1');
      assert.equal(await ask(a, 'outage step'), 's2');
      assert.equal((await readyz(a)).state.backend.countingLocally, true);
      assert.ok(a.logs.some((line) => typeof line.msg === 'string' && line.msg.includes('counting sequence steps in this replica')), 'the replica logged that it counts locally');

      await redis.startProcess();
      for (const replica of replicas) {
        await eventually(async () => (await readyz(replica)).state.backend.connected === true, { what: 'the replica to reconnect' });
      }
      // Restarted empty: the replicas wrote back what they knew.
      await eventually(() => redis.cli('GET', `${prefix}overlay:version`) === String(versionBefore), { what: 'the overlay restored in Redis' });
      assert.match(redis.cli('GET', `${prefix}overlay`), /survived/);
    } finally {
      await traffic.stop();
    }
    assert.deepEqual(traffic.failures, []);
    assert.ok(traffic.answers.length > 0);
    assert.ok(
      traffic.answers.every((answer) => answer.status === 200 && answer.text === 'survived'),
      `answers: ${[...new Set(traffic.answers.map((answer) => `${answer.status} ${answer.text}`))].join(', ')}`,
    );
    assert.ok(b.logs.some((line) => line.msg === 'Redis is back: resyncing'));
    // Writes work again and reach everyone.
    const created = await admin(b, 'POST', '/admin/responses', { body: { id: 'after-restart', prompt: 'back?', response: 'back' } });
    assert.equal(created.status, 201, created.text);
    for (const replica of replicas) {
      await eventually(async () => (await ask(replica, 'back?')) === 'back', { what: 'the new rule everywhere' });
      assert.equal(await ask(replica, 'survive?'), 'survived');
    }
    assert.match((await admin(a, 'GET', '/metrics')).text, /^mockllm_state_backend_up\{backend="redis"\} 1$/m);
    // The two steps counted during the outage were added to Redis's count once it was back.
    await eventually(async () => {
      const progress = (await admin(b, 'GET', '/admin/sequences')).body.sequences as { ruleId: string; calls: number }[];
      return progress.find((sequence) => sequence.ruleId === 'outage-steps')?.calls === 2;
    }, { what: 'the outage steps in Redis' });
    assert.equal(await ask(c, 'outage step'), 's3');
    assert.equal((await readyz(a)).state.backend.countingLocally, false);
  });
});
