import { setTimeout as sleepFor } from 'node:timers/promises';

/**
 * Time, injected: the pacer, the stream writers and request timing read it from here, so pacing,
 * jitter, timeouts and time to first token can be tested on virtual time.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale (only differences mean anything). */
  now(): number;
  /** Resolves true after `ms`, or false as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  async sleep(ms, signal) {
    if (signal?.aborted) return false;
    try {
      await sleepFor(ms, undefined, signal && { signal });
      return true;
    } catch {
      return false;
    }
  },
};
