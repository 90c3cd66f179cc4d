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

interface Sleeper {
  resolve: (slept: boolean) => void;
  /** Set once the sleeper has been answered (by its timer or by an abort). */
  done: boolean;
  bucket: Bucket;
}

interface Bucket {
  due: number;
  sleepers: Sleeper[];
  /** Sleepers not yet answered: when aborts bring it to 0 the timer goes too, so it holds no process open. */
  pending: number;
  timer: NodeJS.Timeout;
}

/**
 * One shared timer wheel for every sleep on the system clock. Paced streams sleep between chunks:
 * 10,000 streams at 100 ms per chunk are 100,000 sleeps a second. A timer and an abort listener per
 * sleep (node:timers/promises) cost more than the chunk's own write in CPU profiles; here sleepers
 * due in the same millisecond share one timer (a few hundred timers alive instead of one per
 * stream), and a signal gets one abort listener for its whole life however often it is slept on.
 * A sleep never wakes early: due times are rounded up to the next whole millisecond.
 */
class TimerWheel {
  readonly #buckets = new Map<number, Bucket>();
  /** The sleeper a signal is currently sleeping in; one listener per signal answers it on abort. */
  readonly #current = new WeakMap<AbortSignal, Sleeper>();

  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    const now = performance.now();
    const due = Math.ceil(now + Math.max(0, ms));
    return new Promise<boolean>((resolve) => {
      let bucket = this.#buckets.get(due);
      if (!bucket) {
        const created: Bucket = { due, sleepers: [], pending: 0, timer: undefined! };
        created.timer = setTimeout(() => this.#fire(created), due - now);
        this.#buckets.set(due, (bucket = created));
      }
      const sleeper: Sleeper = { resolve, done: false, bucket };
      bucket.sleepers.push(sleeper);
      bucket.pending++;
      if (!signal) return;
      const current = this.#current.get(signal);
      if (current === undefined) signal.addEventListener('abort', () => this.#abort(this.#current.get(signal)), { once: true });
      else if (!current.done) {
        // Two sleeps on one signal at once (not what the writers do): this one gets its own listener.
        signal.addEventListener('abort', () => this.#abort(sleeper), { once: true });
        return;
      }
      this.#current.set(signal, sleeper);
    });
  }

  #fire(bucket: Bucket): void {
    if (this.#buckets.get(bucket.due) === bucket) this.#buckets.delete(bucket.due);
    for (const sleeper of bucket.sleepers) {
      if (sleeper.done) continue;
      sleeper.done = true;
      sleeper.resolve(true);
    }
  }

  #abort(sleeper: Sleeper | undefined): void {
    if (!sleeper || sleeper.done) return;
    sleeper.done = true;
    sleeper.resolve(false);
    const bucket = sleeper.bucket;
    if (--bucket.pending === 0) {
      clearTimeout(bucket.timer);
      if (this.#buckets.get(bucket.due) === bucket) this.#buckets.delete(bucket.due);
    }
  }
}

const wheel = new TimerWheel();

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => wheel.sleep(ms, signal),
};
