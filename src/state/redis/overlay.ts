// The admin overlay in Redis. The snapshot is one JSON value under `${prefix}overlay`, its version
// beside it under `${prefix}overlay:version`. A write reads the snapshot, applies the change with
// applyOverlayChange (the one definition of a change) and stores the result with a Lua
// compare-and-set on the version (scripts run atomically: https://redis.io/docs/latest/develop/interact/programmability/eval-intro/);
// a writer that lost the race reads again and retries. Every write is thus applied to the result
// of the one before: concurrent writes from any replicas end in one serial order, the same
// everywhere. The new version is published; a replica that sees a newer version than its own
// fetches the snapshot, and polls the version every second in case it missed a message.
import { RuleIdConflict } from '../../engine/store.ts';
import type { Logger } from '../../observability/logger.ts';
import { StateUnavailable } from '../errors.ts';
import { applyOverlayChange } from '../memory.ts';
import type { AdminOverlay, OverlayChange, OverlaySnapshot } from '../types.ts';
import { READ_TIMEOUT_MS, type RedisLink } from './connection.ts';

const EMPTY: OverlaySnapshot = { version: 0, created: [], replaced: [], deleted: [] };

/**
 * KEYS: snapshot, version, channel. ARGV: the version the writer read (0 when none), the new
 * version, the new snapshot's JSON. Stores and publishes only when the stored version is still the
 * one read; returns -1 then, else the version found.
 */
const COMPARE_AND_SET = `
local stored = tonumber(redis.call('GET', KEYS[2]) or '0')
if stored ~= tonumber(ARGV[1]) then return stored end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('PUBLISH', KEYS[3], ARGV[2])
return -1
`;

/** How many times a write reads again after losing a race before giving up (with 503). */
const MAX_ATTEMPTS = 100;
const POLL_MS = 1000;

export class RedisOverlay implements AdminOverlay {
  readonly #link: RedisLink;
  readonly #logger: Logger;
  readonly #keys: { snapshot: string; version: string; channel: string };
  #known: OverlaySnapshot = EMPTY;
  readonly #listeners = new Set<(snapshot: OverlaySnapshot) => void>();
  /** This replica's writes, one after another (they would only race each other). */
  #writes: Promise<unknown> = Promise.resolve();
  #syncing: Promise<void> | undefined;
  /** The highest version announced on the channel (0: none beyond what is known). */
  #announced = 0;
  #syncAgain = false;
  readonly #poll: NodeJS.Timeout;
  readonly #offUp: () => void;

  constructor(link: RedisLink, prefix: string, logger: Logger) {
    this.#link = link;
    this.#logger = logger;
    this.#keys = { snapshot: `${prefix}overlay`, version: `${prefix}overlay:version`, channel: `${prefix}overlay:changes` };
    this.#poll = setInterval(() => void this.sync(), POLL_MS);
    this.#poll.unref();
    this.#offUp = link.onUp(() => void this.sync());
  }

  /** Subscribes to version announcements and loads the current overlay (before the server reports ready). */
  async start(): Promise<void> {
    await this.#link.subscriber.subscribe(this.#keys.channel, (message) => {
      const version = Number(message);
      if (version <= this.#known.version) return;
      // Announced: the snapshot is fetched at once, without asking for the version first.
      this.#announced = Math.max(this.#announced, version);
      void this.sync();
    });
    await this.sync();
  }

  snapshot(): OverlaySnapshot {
    return this.#known;
  }

  subscribe(listener: (snapshot: OverlaySnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  apply(change: OverlayChange): Promise<OverlaySnapshot> {
    const result = this.#writes.then(() => this.#write(change));
    this.#writes = result.catch(() => {});
    return result;
  }

  async #write(change: OverlayChange): Promise<OverlaySnapshot> {
    const written = await this.#link.write('the admin change', async (redis, abandoned): Promise<OverlaySnapshot | 'conflict'> => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const stored = parseSnapshot(await redis.get(this.#keys.snapshot));
        // Redis lost the overlay (restarted empty) and nobody restored it yet: build on what this replica knows.
        const base = stored && stored.version >= this.#known.version ? stored : this.#known;
        // Another replica created this id since this one checked (RuleStore.create): its write came first.
        if (change.op === 'create' && base.created.some((entry) => entry.id === change.entry.id)) {
          this.#adopt(base);
          return 'conflict';
        }
        const next = applyOverlayChange(base, change);
        // The caller was answered 503 already: the change must not happen behind its back.
        if (abandoned()) throw new StateUnavailable('abandoned');
        const outcome = await this.#compareAndSet(redis, stored?.version ?? 0, next);
        if (outcome === -1) {
          this.#adopt(next);
          return next;
        }
      }
      throw new StateUnavailable(`Too many concurrent admin writes: the change lost ${MAX_ATTEMPTS} races in a row and was not stored; retry.`);
    });
    if (written === 'conflict') throw new RuleIdConflict(`A response with id '${(change as { entry: { id: string } }).entry.id}' already exists.`);
    return written;
  }

  #compareAndSet(redis: RedisLink['client'], expected: number, next: OverlaySnapshot): Promise<number> {
    return redis.eval(COMPARE_AND_SET, {
      keys: [this.#keys.snapshot, this.#keys.version, this.#keys.channel],
      arguments: [String(expected), String(next.version), JSON.stringify(next)],
    }) as Promise<number>;
  }

  /**
   * Compares the stored version with this replica's: a newer one is fetched and served; an older
   * or missing one means Redis lost the overlay (restarted without persistence), and this
   * replica's snapshot is written back unless another replica's newer one got there first.
   */
  sync(): Promise<void> {
    if (this.#syncing) {
      this.#syncAgain = true;
      return this.#syncing;
    }
    this.#syncing = (async () => {
      do {
        this.#syncAgain = false;
        await this.#syncOnce().catch((error: unknown) => this.#logger.debug({ err: error }, 'overlay sync failed'));
      } while (this.#syncAgain);
    })().finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  async #syncOnce(): Promise<void> {
    if (!this.#link.connected) return;
    await this.#link.timed(READ_TIMEOUT_MS, (redis, abandoned) => this.#compare(redis, abandoned));
  }

  async #compare(redis: RedisLink['client'], abandoned: () => boolean): Promise<void> {
    if (this.#announced > this.#known.version) {
      const stored = parseSnapshot(await redis.get(this.#keys.snapshot));
      if (stored && stored.version >= this.#announced) {
        this.#adopt(stored);
        return;
      }
    }
    const version = Number((await redis.get(this.#keys.version)) ?? 0);
    if (version > this.#known.version) {
      const stored = parseSnapshot(await redis.get(this.#keys.snapshot));
      if (stored) this.#adopt(stored);
    } else if (version < this.#known.version && !abandoned()) {
      const known = this.#known;
      const outcome = await this.#compareAndSet(redis, version, known);
      if (outcome === -1) this.#logger.warn({ version: known.version, found: version }, 'Redis had lost the admin overlay (restarted empty?): restored it from this replica');
      else this.#syncAgain = true;
    }
  }

  #adopt(snapshot: OverlaySnapshot): void {
    if (snapshot.version <= this.#known.version) return;
    this.#known = snapshot;
    for (const listener of this.#listeners) listener(snapshot);
  }

  close(): void {
    clearInterval(this.#poll);
    this.#offUp();
    this.#listeners.clear();
  }
}

function parseSnapshot(text: string | null): OverlaySnapshot | undefined {
  if (text === null) return undefined;
  return JSON.parse(text) as OverlaySnapshot;
}
