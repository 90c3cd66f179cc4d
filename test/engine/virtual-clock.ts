import type { Clock } from '../../src/engine/clock.ts';

/**
 * Time that moves only when a test says so. Sleepers wake in due order when `advance` passes their
 * due time; an aborted sleep resolves false at once, as the system clock's does.
 */
export class VirtualClock implements Clock {
  #now = 0;
  #sleepers: { due: number; wake: (slept: boolean) => void }[] = [];

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const sleeper = {
        due: this.#now + Math.max(0, ms),
        wake: (slept: boolean) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(slept);
        },
      };
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        sleeper.wake(false);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /** How many sleeps are waiting. */
  get pending(): number {
    return this.#sleepers.length;
  }

  /**
   * Moves time forward by `ms`, waking each sleeper due by then in order, and lets the woken code
   * run (to its next sleep) before moving on, so a sleeper that sleeps again is woken in turn.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      this.#sleepers.sort((a, b) => a.due - b.due);
      const next = this.#sleepers[0];
      if (!next || next.due > target) break;
      this.#sleepers.shift();
      this.#now = Math.max(this.#now, next.due);
      next.wake(true);
    }
    this.#now = target;
    await settle();
  }
}

/** Lets promise continuations and I/O callbacks that are already due run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
