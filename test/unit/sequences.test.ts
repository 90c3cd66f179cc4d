// Sequence progress in the RuleStore, without a server: step order per `then`, and what a
// reload, an admin replacement and the resets keep or restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.ts';
import { baselineFromConfig } from '../../src/engine/rules.ts';
import { RuleStore } from '../../src/engine/store.ts';

const config = (repeatSteps = 'a, b, c', extra = '') =>
  baselineFromConfig(
    parseConfig(
      `rules:\n  - id: repeat\n    match: {prompt: r}\n    response: {sequence: [${repeatSteps}]}\n  - id: loop\n    match: {prompt: l}\n    response: {sequence: [a, b, c], then: loop}\n${extra}`,
      'seq.yml',
    ).doc,
  );

/** The steps the next `count` matching calls of a rule get. */
function steps(store: RuleStore, id: string, count: number): number[] {
  const rule = store.current.byId.get(id)!;
  return Array.from({ length: count }, () => store.nextSequenceStep(rule));
}

test('repeat_last stays on the last step; loop wraps around', () => {
  const store = new RuleStore(config());
  assert.deepEqual(steps(store, 'repeat', 5), [0, 1, 2, 2, 2]);
  assert.deepEqual(steps(store, 'loop', 7), [0, 1, 2, 0, 1, 2, 0]);
});

test('sequences() reports calls and the next step per sequence rule', () => {
  const store = new RuleStore(config());
  steps(store, 'loop', 4);
  const loop = store.sequences().find((s) => s.ruleId === 'loop');
  assert.deepEqual(loop, { ruleId: 'loop', calls: 4, nextStep: 1, steps: 3, then: 'loop' });
});

test('a reload that leaves a sequence rule as it was keeps its progress', () => {
  const store = new RuleStore(config());
  steps(store, 'repeat', 2);
  store.replaceBaseline(config('a, b, c', '  - id: other\n    match: {prompt: o}\n    response: x\n'));
  assert.deepEqual(steps(store, 'repeat', 1), [2]);
});

test('a reload that changes a sequence rule restarts it, and only it', () => {
  const store = new RuleStore(config());
  steps(store, 'repeat', 2);
  steps(store, 'loop', 1);
  store.replaceBaseline(config('a, b, z'));
  assert.deepEqual(steps(store, 'repeat', 1), [0]);
  assert.deepEqual(steps(store, 'loop', 1), [1]);
});

test('a sequence rule that leaves the file and comes back starts over', () => {
  const store = new RuleStore(config());
  steps(store, 'repeat', 2);
  store.replaceBaseline(baselineFromConfig(parseConfig('responses: {}\n', 'seq.yml').doc));
  store.replaceBaseline(config());
  assert.deepEqual(steps(store, 'repeat', 1), [0]);
});

test('an admin replacement restarts the sequence and a later reload keeps the replacement\'s progress', () => {
  const store = new RuleStore(config());
  steps(store, 'repeat', 2);
  store.replace('repeat', { match: { prompt: 'r' }, response: { sequence: ['x', 'y', 'z'] } });
  assert.deepEqual(steps(store, 'repeat', 2), [0, 1]);
  store.replaceBaseline(config());
  assert.deepEqual(steps(store, 'repeat', 1), [2], 'the admin rule did not change, so its progress stays');
});

test('resetSequences rewinds one or all; reset() rewinds all', () => {
  const store = new RuleStore(config());
  steps(store, 'repeat', 2);
  steps(store, 'loop', 2);
  assert.equal(store.resetSequences('repeat'), true);
  assert.deepEqual(steps(store, 'repeat', 1), [0]);
  assert.deepEqual(steps(store, 'loop', 1), [2]);
  assert.equal(store.resetSequences('no-such-rule'), false);
  store.resetSequences();
  assert.deepEqual([...steps(store, 'repeat', 1), ...steps(store, 'loop', 1)], [0, 0]);
  steps(store, 'loop', 1);
  store.reset();
  assert.deepEqual(steps(store, 'loop', 1), [0]);
});
