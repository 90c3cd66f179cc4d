// Sequence progress in the RuleStore, without a server: step order per `then`, and what a
// reload, an admin replacement and the resets keep or restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.ts';
import { baselineFromConfig } from '../../src/engine/rules.ts';
import type { RuleStore } from '../../src/engine/store.ts';
import { ruleStoreInMemory } from '../../src/state/memory.ts';

const config = (repeatSteps = 'a, b, c', extra = '') =>
  baselineFromConfig(
    parseConfig(
      `rules:\n  - id: repeat\n    match: {prompt: r}\n    response: {sequence: [${repeatSteps}]}\n  - id: loop\n    match: {prompt: l}\n    response: {sequence: [a, b, c], then: loop}\n${extra}`,
      'seq.yml',
    ).doc,
  );

/** The steps the next `count` matching calls of a rule get. */
async function steps(store: RuleStore, id: string, count: number): Promise<number[]> {
  const rule = store.current.byId.get(id)!;
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(await store.nextSequenceStep(rule));
  return out;
}

test('repeat_last stays on the last step; loop wraps around', async () => {
  const store = ruleStoreInMemory(config());
  assert.deepEqual(await steps(store, 'repeat', 5), [0, 1, 2, 2, 2]);
  assert.deepEqual(await steps(store, 'loop', 7), [0, 1, 2, 0, 1, 2, 0]);
});

test('sequences() reports calls and the next step per sequence rule', async () => {
  const store = ruleStoreInMemory(config());
  await steps(store, 'loop', 4);
  const loop = (await store.sequences()).find((s) => s.ruleId === 'loop');
  assert.deepEqual(loop, { ruleId: 'loop', calls: 4, nextStep: 1, steps: 3, then: 'loop' });
});

test('a reload that leaves a sequence rule as it was keeps its progress', async () => {
  const store = ruleStoreInMemory(config());
  await steps(store, 'repeat', 2);
  store.replaceBaseline(config('a, b, c', '  - id: other\n    match: {prompt: o}\n    response: x\n'));
  assert.deepEqual(await steps(store, 'repeat', 1), [2]);
});

test('a reload that changes a sequence rule restarts it, and only it', async () => {
  const store = ruleStoreInMemory(config());
  await steps(store, 'repeat', 2);
  await steps(store, 'loop', 1);
  store.replaceBaseline(config('a, b, z'));
  assert.deepEqual(await steps(store, 'repeat', 1), [0]);
  assert.deepEqual(await steps(store, 'loop', 1), [1]);
});

test('a sequence rule that leaves the file and comes back starts over', async () => {
  const store = ruleStoreInMemory(config());
  await steps(store, 'repeat', 2);
  store.replaceBaseline(baselineFromConfig(parseConfig('responses: {}\n', 'seq.yml').doc));
  store.replaceBaseline(config());
  assert.deepEqual(await steps(store, 'repeat', 1), [0]);
});

test('an admin replacement restarts the sequence and a later reload keeps the replacement\'s progress', async () => {
  const store = ruleStoreInMemory(config());
  await steps(store, 'repeat', 2);
  await store.replace('repeat', { match: { prompt: 'r' }, response: { sequence: ['x', 'y', 'z'] } });
  assert.deepEqual(await steps(store, 'repeat', 2), [0, 1]);
  store.replaceBaseline(config());
  assert.deepEqual(await steps(store, 'repeat', 1), [2], 'the admin rule did not change, so its progress stays');
});

test('resetSequences rewinds one or all; reset() rewinds all', async () => {
  const store = ruleStoreInMemory(config());
  await steps(store, 'repeat', 2);
  await steps(store, 'loop', 2);
  assert.equal(await store.resetSequences('repeat'), true);
  assert.deepEqual(await steps(store, 'repeat', 1), [0]);
  assert.deepEqual(await steps(store, 'loop', 1), [2]);
  assert.equal(await store.resetSequences('no-such-rule'), false);
  await store.resetSequences();
  assert.deepEqual([...(await steps(store, 'repeat', 1)), ...(await steps(store, 'loop', 1))], [0, 0]);
  await steps(store, 'loop', 1);
  await store.reset();
  assert.deepEqual(await steps(store, 'loop', 1), [0]);
});
