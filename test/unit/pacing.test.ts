// Pacing as pure arithmetic: the delays a Pacer hands out, seeded jitter, tokens_per_second, the
// non-stream total, and how a rule's latency merges over settings.latency.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePacing, Pacer, type Pacing } from '../../src/engine/pacing.ts';

const pacing = (over: Partial<Pacing>): Pacing => ({
  ttftMs: 0,
  chunkDelayMs: undefined,
  tokensPerSecond: undefined,
  jitterMs: 0,
  seed: 0,
  simulateNonStream: false,
  ...over,
});

const delays = (p: Pacing, count: number, chunks = count, tokens = count): number[] => {
  const pacer = new Pacer(p, chunks, tokens);
  return Array.from({ length: count }, () => pacer.next());
};

describe('Pacer', () => {
  test('waits ttft_ms before the first chunk and chunk_delay_ms before each later one', () => {
    assert.deepEqual(delays(pacing({ ttftMs: 300, chunkDelayMs: 50 }), 4), [300, 50, 50, 50]);
  });

  test('without a chunk delay or rate, only the first chunk waits', () => {
    assert.deepEqual(delays(pacing({ ttftMs: 120 }), 3), [120, 0, 0]);
  });

  test('tokens_per_second spreads the answer\'s tokens over its chunks', () => {
    // 10 tokens at 20 tokens/s is half a second of output; over 5 chunks that is 100 ms per chunk.
    assert.deepEqual(delays(pacing({ tokensPerSecond: 20 }), 5, 5, 10), [0, 100, 100, 100, 100]);
    // More tokens per chunk at the same rate means longer gaps.
    assert.deepEqual(delays(pacing({ tokensPerSecond: 20 }), 3, 5, 20).slice(1), [200, 200]);
  });

  test('chunk_delay_ms wins over tokens_per_second when both are set', () => {
    assert.deepEqual(delays(pacing({ chunkDelayMs: 7, tokensPerSecond: 1 }), 3, 3, 100).slice(1), [7, 7]);
  });

  test('jitter with a seed is reproducible: the same seed gives the same delays', () => {
    const p = pacing({ ttftMs: 200, chunkDelayMs: 40, jitterMs: 25, seed: 42 });
    const first = delays(p, 50);
    assert.deepEqual(delays(p, 50), first);
    assert.deepEqual(delays({ ...p }, 50), first, 'a fresh but equal pacing object gives the same delays too');
  });

  test('jitter varies the delays within ± jitter_ms, and another seed gives other delays', () => {
    const p = pacing({ ttftMs: 200, chunkDelayMs: 40, jitterMs: 25, seed: 42 });
    const first = delays(p, 200);
    assert.ok(first[0]! >= 175 && first[0]! <= 225, `ttft ${first[0]}`);
    for (const d of first.slice(1)) assert.ok(d >= 15 && d <= 65, `delay ${d} outside 40 ± 25`);
    assert.ok(new Set(first.slice(1)).size > 100, 'jitter actually varies the delays');
    assert.notDeepEqual(delays({ ...p, seed: 43 }, 200), first);
  });

  test('jitter never makes a delay negative', () => {
    const all = delays(pacing({ chunkDelayMs: 5, jitterMs: 50, seed: 7 }), 200);
    assert.ok(all.every((d) => d >= 0));
    assert.ok(all.some((d) => d === 0), 'delays below zero are clamped to zero');
  });

  test('total is what the stream would wait in all: ttft plus every later gap', () => {
    assert.equal(Pacer.total(pacing({ ttftMs: 300, chunkDelayMs: 50 }), 5, 5), 300 + 4 * 50);
    const p = pacing({ ttftMs: 100, chunkDelayMs: 30, jitterMs: 10, seed: 9 });
    const sum = delays(p, 8).reduce((a, b) => a + b, 0);
    assert.equal(Pacer.total(p, 8, 8), sum, 'the total follows the same seeded delays as the stream');
  });

  test('total of an answer with no chunks is still the ttft', () => {
    assert.equal(Pacer.total(pacing({ ttftMs: 250, chunkDelayMs: 50 }), 0, 0), 250);
  });
});

describe('compilePacing', () => {
  test('no latency anywhere means no pacing at all', () => {
    assert.equal(compilePacing(undefined, undefined), undefined);
    assert.equal(compilePacing({}, {}), undefined);
  });

  test('a rule\'s latency keys win over settings.latency key by key', () => {
    const p = compilePacing({ chunk_delay_ms: 5 }, { ttft_ms: 100, chunk_delay_ms: 50, jitter_ms: 3, seed: 11 });
    assert.deepEqual(p, { ttftMs: 100, chunkDelayMs: 5, tokensPerSecond: undefined, jitterMs: 3, seed: 11, simulateNonStream: false });
  });

  test('settings.latency alone applies to a rule that sets none', () => {
    const p = compilePacing(undefined, { ttft_ms: 40, simulate_non_stream_latency: true });
    assert.equal(p?.ttftMs, 40);
    assert.equal(p?.simulateNonStream, true);
  });
});
