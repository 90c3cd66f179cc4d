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
}

interface Bucket {
  due: number;
  sleepers: Sleeper[];
}

/**
 * One shared timer wheel for every sleep on the system clock. Paced streams sleep between chunks:
 * 10,000 streams at 100 ms per chunk are 100,000 sleeps a second.
 *
 * - One timer, not one per sleep: sleepers due in the same millisecond share a bucket, and a single
 *   timer is armed for the earliest bucket. When it fires it wakes every bucket due by then and arms
 *   itself again, so the event loop gets back to I/O between two rounds of wake-ups. With a timer per
 *   sleep, Node runs every expired timer (and the writes their streams do) before it polls again:
 *   a server busy writing chunks then stopped accepting connections and reading requests, and new
 *   streams waited seconds for their first byte while the event-loop delay (itself a timer) looked
 *   fine.
 * - One abort listener per signal for its whole life however often it is slept on, instead of an
 *   add and a remove per sleep (node:timers/promises), which cost as much as the chunk's write.
 *
 * A sleep never wakes early: due times are rounded up to the next whole millisecond.
 */
/**
 * Whole buckets are woken until this many sleepers are: a server that has fallen behind (its
 * timer fired late, many buckets are due) writes that many chunks, then goes back to the event
 * loop, which reads requests and accepts connections, then goes on. Each round is one event-loop
 * iteration, and libuv accepts one connection per listening socket per iteration (see
 * http/listen.ts): at 1,000 wake-ups a round (~30 ms of chunk writes on this VM) a server holding
 * 2,000 paced streams accepted ~30 connections a second and new streams waited seconds for their
 * first byte; 200 keeps a round to a few milliseconds (issue 17, S3).
 */
const MAX_WAKE_PER_ROUND = 200;

class TimerWheel {
  readonly #buckets = new Map<number, Bucket>();
  /** Due times of the buckets, a binary min-heap. */
  readonly #heap: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;
  /** Sleepers not yet answered: at 0 the timer is cleared, so an abandoned wait holds no process open. */
  #pending = 0;
  /** The sleeper a signal is currently sleeping in; one listener per signal answers it on abort. */
  readonly #current = new WeakMap<AbortSignal, Sleeper>();

  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    const due = Math.ceil(performance.now() + Math.max(0, ms));
    return new Promise<boolean>((resolve) => {
      let bucket = this.#buckets.get(due);
      if (!bucket) {
        bucket = { due, sleepers: [] };
        this.#buckets.set(due, bucket);
        this.#push(due);
      }
      const sleeper: Sleeper = { resolve, done: false };
      bucket.sleepers.push(sleeper);
      this.#pending++;
      if (due < this.#armedFor) this.#arm(due);
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

  #arm(due: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#armedFor = due;
    this.#timer = setTimeout(this.#fire, Math.max(0, due - performance.now()));
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = performance.now();
    let woken = 0;
    while (this.#heap.length > 0 && this.#heap[0]! <= now && woken < MAX_WAKE_PER_ROUND) {
      const due = this.#pop();
      const bucket = this.#buckets.get(due)!;
      this.#buckets.delete(due);
      for (const sleeper of bucket.sleepers) {
        if (sleeper.done) continue;
        sleeper.done = true;
        this.#pending--;
        woken++;
        sleeper.resolve(true);
      }
    }
    if (this.#heap.length > 0 && this.#pending > 0) this.#arm(this.#heap[0]!);
  };

  #abort(sleeper: Sleeper | undefined): void {
    if (!sleeper || sleeper.done) return;
    sleeper.done = true;
    sleeper.resolve(false);
    if (--this.#pending === 0) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#armedFor = Infinity;
      this.#buckets.clear();
      this.#heap.length = 0;
    }
  }

  #push(value: number): void {
    const heap = this.#heap;
    let i = heap.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= value) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = value;
  }

  #pop(): number {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const child = left + 1 < heap.length && heap[left + 1]! < heap[left]! ? left + 1 : left;
        if (heap[child]! >= last) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}

const wheel = new TimerWheel();

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => wheel.sleep(ms, signal),
};
