import type { LatencySpec } from '../config/schema.ts';
import { seededRandom } from './seeded-random.ts';

export interface Pacing {
  ttftMs: number;
  chunkDelayMs: number | undefined;
  tokensPerSecond: number | undefined;
  jitterMs: number;
  seed: number;
  simulateNonStream: boolean;
}

/** Merges a response's latency over the settings' defaults, key by key; undefined when there is none. */
export function compilePacing(own: LatencySpec | undefined, defaults: LatencySpec | undefined): Pacing | undefined {
  const merged = { ...defaults, ...own };
  if (Object.keys(merged).length === 0) return undefined;
  return {
    ttftMs: merged.ttft_ms ?? 0,
    chunkDelayMs: merged.chunk_delay_ms,
    tokensPerSecond: merged.tokens_per_second,
    jitterMs: merged.jitter_ms ?? 0,
    seed: merged.seed ?? 0,
    simulateNonStream: merged.simulate_non_stream_latency ?? false,
  };
}

/**
 * The delay before each content chunk of one answer: `ttft_ms` before the first, then the chunk
 * delay (given, or the answer's tokens spread over `tokens_per_second`), each with seeded jitter.
 */
export class Pacer {
  readonly #pacing: Pacing;
  readonly #interval: number;
  readonly #random: () => number;
  #index = 0;

  constructor(pacing: Pacing, chunkCount: number, outputTokens: number) {
    this.#pacing = pacing;
    this.#random = seededRandom(pacing.seed);
    if (pacing.chunkDelayMs !== undefined) this.#interval = pacing.chunkDelayMs;
    else if (pacing.tokensPerSecond !== undefined && chunkCount > 0) this.#interval = (outputTokens / pacing.tokensPerSecond / chunkCount) * 1000;
    else this.#interval = 0;
  }

  /** Milliseconds to wait before the next content chunk. */
  next(): number {
    const base = this.#index === 0 ? this.#pacing.ttftMs : this.#interval;
    this.#index++;
    const jitter = this.#pacing.jitterMs === 0 ? 0 : (this.#random() * 2 - 1) * this.#pacing.jitterMs;
    return Math.max(0, base + jitter);
  }

  /** What the whole stream of `chunkCount` chunks would take: a non-stream answer waits this long. */
  static total(pacing: Pacing, chunkCount: number, outputTokens: number): number {
    const pacer = new Pacer(pacing, chunkCount, outputTokens);
    let total = 0;
    for (let i = 0; i < Math.max(chunkCount, 1); i++) total += pacer.next();
    return total;
  }
}
