// One replica's connections to Redis: a command connection and a subscriber (a connection in
// subscribe mode can run no other command: https://redis.io/docs/latest/develop/interact/pubsub/).
// Commands never wait for a connection to come back: node-redis's offline queue is off, so a
// command while Redis is down fails at once and the caller falls back (provider requests) or
// answers 503 (admin writes). Every command carries a timeout, so a paused or slow Redis cannot
// hold a request longer than the caller chose.
import { createClient } from 'redis';
import type { Logger } from '../../observability/logger.ts';
import { StateUnavailable } from '../errors.ts';
import type { StateBackendStatus } from '../types.ts';

export type RedisClient = ReturnType<typeof createClient>;

/** How long an admin write waits for Redis before answering 503 (a paused Redis never answers). */
export const WRITE_TIMEOUT_MS = 1000;
/** How long a sequence step waits for Redis's count before counting locally. */
export const SEQUENCE_TIMEOUT_MS = 500;
/** How long a lookup on the request path (a stored response) waits before answering from what this replica knows. */
export const READ_TIMEOUT_MS = 500;

export interface RedisLinkOptions {
  url: string;
  logger: Logger;
  /** How long start-up waits for a first connection before starting degraded (default 3000). */
  connectTimeoutMs?: number;
}

/** The URL with its password masked, for logs and /readyz. */
export function maskedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'redis (unparsable URL)';
  }
}

/** Reconnect quickly at first, then once a second: a restarted Redis is found within a second. */
const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** retries, 1000);

export class RedisLink {
  readonly client: RedisClient;
  readonly subscriber: RedisClient;
  readonly target: string;
  readonly #logger: Logger;
  #connected = false;
  #error: string | null = null;
  #since = new Date();
  #countingLocally = false;
  #closed = false;
  /** Whether it was ever connected: the first 'ready' is a connection, later ones are returns. */
  #wasUp = false;
  readonly #onUp = new Set<() => void>();

  constructor(options: RedisLinkOptions) {
    this.target = maskedUrl(options.url);
    this.#logger = options.logger;
    this.client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy, connectTimeout: 2000 },
    });
    this.subscriber = this.client.duplicate();
    // node-redis emits 'error' for every failed (re)connection; without a listener it would throw.
    this.client.on('error', (error: Error) => this.#down(error));
    this.client.on('end', () => this.#down(new Error('connection closed')));
    this.client.on('ready', () => this.#up());
    this.subscriber.on('error', () => {});
  }

  /** Connects both connections; resolves false when Redis does not answer in time (start-up goes on, degraded). */
  async connect(timeoutMs = 3000): Promise<boolean> {
    const both = Promise.all([this.client.connect(), this.subscriber.connect()]).then(() => true);
    // connect() keeps retrying (reconnectStrategy) and would otherwise never settle while Redis is away.
    both.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([both, late]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Runs `fn` when the connection comes (back) up: each store resyncs then. */
  onUp(fn: () => void): () => void {
    this.#onUp.add(fn);
    return () => this.#onUp.delete(fn);
  }

  /**
   * Runs commands with a deadline. node-redis's own command timeout covers only the wait before a
   * command is sent; a paused Redis holds a sent command for ever, so the deadline is kept here.
   * `fn` is told when it was abandoned, so it sends nothing more after the caller gave up.
   */
  timed<T>(ms: number, fn: (client: RedisClient, abandoned: () => boolean) => Promise<T>): Promise<T> {
    let expired = false;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        expired = true;
        const error = new Error(`no answer within ${ms} ms`);
        error.name = 'TimeoutError';
        reject(error);
      }, ms);
    });
    const work = fn(this.client, () => expired);
    // An abandoned operation's own failure (later) is nobody's business.
    work.catch(() => {});
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }

  /**
   * Runs one operation against Redis, turning "not connected" and "no answer in time" into a
   * StateUnavailable that says what was not done. `what` completes "… was not stored".
   */
  async write<T>(what: string, fn: (client: RedisClient, abandoned: () => boolean) => Promise<T>, ms = WRITE_TIMEOUT_MS): Promise<T> {
    if (!this.#connected) {
      throw new StateUnavailable(`Redis at ${this.target} is unreachable (${this.#error ?? 'not connected'}): ${what} was not stored and nothing changed; retry once Redis is back (GET /readyz shows the connection).`);
    }
    try {
      return await this.timed(ms, fn);
    } catch (error) {
      if (error instanceof StateUnavailable) throw error;
      const name = (error as Error).name;
      if (name === 'TimeoutError') {
        this.#logger.warn({ target: this.target, timeoutMs: ms }, 'Redis did not answer in time');
        throw new StateUnavailable(`Redis at ${this.target} did not answer within ${ms} ms (it is overloaded or paused): ${what} was not acknowledged; retry once Redis answers.`);
      }
      throw new StateUnavailable(`Redis at ${this.target} failed (${(error as Error).message}): ${what} was not stored; retry once Redis is back.`);
    }
  }

  /** Sequence steps are counted in this process (Redis did not answer a count): logged once each way. */
  countingLocally(on: boolean): void {
    if (on === this.#countingLocally) return;
    this.#countingLocally = on;
    if (on) this.#logger.warn({ target: this.target }, 'Redis did not answer a sequence count: counting sequence steps in this replica until it is back');
    else this.#logger.info({ target: this.target }, 'sequence steps are counted in Redis again');
  }

  status(): StateBackendStatus {
    return {
      kind: 'redis',
      target: this.target,
      connected: this.#connected,
      error: this.#connected ? null : this.#error,
      since: this.#since.toISOString(),
      countingLocally: this.#countingLocally,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#onUp.clear();
    await Promise.all(
      [this.client, this.subscriber].map(async (client) => {
        if (!client.isOpen) return;
        // close() waits for replies to commands already sent; a paused Redis would hold it for ever.
        const closed = client.close().catch(() => {});
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 500)));
        if ((await Promise.race([closed, late])) === 'late') client.destroy();
        clearTimeout(timer);
      }),
    );
  }

  #down(error: Error): void {
    this.#error = error.message || error.name;
    if (!this.#connected || this.#closed) return;
    this.#connected = false;
    this.#since = new Date();
    this.#logger.warn({ target: this.target, err: error.message }, 'Redis is unreachable: serving from the last known rules; admin writes answer 503 until it is back');
  }

  #up(): void {
    if (this.#connected) return;
    const first = !this.#wasUp;
    this.#connected = true;
    this.#wasUp = true;
    this.#since = new Date();
    this.#error = null;
    if (first) this.#logger.info({ target: this.target }, 'Redis connected: state is shared with the other replicas');
    else this.#logger.info({ target: this.target }, 'Redis is back: resyncing');
    for (const fn of this.#onUp) fn();
  }
}
