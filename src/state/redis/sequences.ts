// Sequence counters in one Redis hash, `${prefix}sequences` (field: rule id). HINCRBY is atomic, so
// a sequence served round-robin by several replicas advances once per call wherever it lands. A
// count that Redis does not give within SEQUENCE_TIMEOUT_MS is made here instead (from the last
// count this replica saw), and added to Redis's once it answers again, so a Redis outage slows no
// request by more than that and loses no step.
import type { SequenceCounters } from '../types.ts';
import { READ_TIMEOUT_MS, SEQUENCE_TIMEOUT_MS, type RedisLink } from './connection.ts';

export class RedisSequenceCounters implements SequenceCounters {
  readonly #link: RedisLink;
  readonly #key: string;
  /** The last count seen per rule (from Redis, or counted here while it was away). */
  readonly #seen = new Map<string, number>();
  /** Calls counted here while Redis did not answer, still to be added to Redis's counts. */
  readonly #pending = new Map<string, number>();
  readonly #offUp: () => void;

  constructor(link: RedisLink, prefix: string) {
    this.#link = link;
    this.#key = `${prefix}sequences`;
    this.#offUp = link.onUp(() => void this.#flushPending());
  }

  async next(ruleId: string): Promise<number> {
    if (this.#link.connected && this.#pending.size === 0) {
      try {
        // A count that arrives after the deadline is still counted in Redis: this call is then
        // counted twice (here and there), which a paused Redis makes unavoidable.
        const count = await this.#link.timed(SEQUENCE_TIMEOUT_MS, (redis) => redis.hIncrBy(this.#key, ruleId, 1));
        this.#seen.set(ruleId, count);
        this.#link.countingLocally(false);
        return count - 1;
      } catch {
        // Counted below, here.
      }
    }
    this.#link.countingLocally(true);
    const before = this.#seen.get(ruleId) ?? 0;
    this.#seen.set(ruleId, before + 1);
    this.#pending.set(ruleId, (this.#pending.get(ruleId) ?? 0) + 1);
    if (this.#link.connected) void this.#flushPending();
    return before;
  }

  async peek(ruleId: string): Promise<number> {
    if (this.#link.connected && this.#pending.size === 0) {
      try {
        const count = Number((await this.#link.timed(READ_TIMEOUT_MS, (redis) => redis.hGet(this.#key, ruleId))) ?? 0);
        this.#seen.set(ruleId, count);
        return count;
      } catch {
        // The last count seen, below.
      }
    }
    return this.#seen.get(ruleId) ?? 0;
  }

  async reset(ruleIds?: readonly string[]): Promise<void> {
    await this.#link.write('the sequence reset', (redis) => (ruleIds === undefined ? redis.del(this.#key) : ruleIds.length === 0 ? Promise.resolve(0) : redis.hDel(this.#key, [...ruleIds])));
    if (ruleIds === undefined) {
      this.#seen.clear();
      this.#pending.clear();
    } else {
      for (const id of ruleIds) {
        this.#seen.delete(id);
        this.#pending.delete(id);
      }
    }
  }

  #flushing = false;

  /** Adds the calls counted here to Redis's counts (once it answers again). */
  async #flushPending(): Promise<void> {
    if (this.#flushing || this.#pending.size === 0) return;
    this.#flushing = true;
    try {
      const batch = [...this.#pending];
      const counts = await this.#link.timed(SEQUENCE_TIMEOUT_MS, (redis) => {
        const multi = redis.multi();
        for (const [id, calls] of batch) multi.hIncrBy(this.#key, id, calls);
        return multi.exec() as unknown as Promise<number[]>;
      });
      batch.forEach(([id, calls], i) => {
        const left = (this.#pending.get(id) ?? 0) - calls;
        if (left > 0) this.#pending.set(id, left);
        else this.#pending.delete(id);
        // Redis's count now includes the calls made here (and those of other replicas meanwhile).
        this.#seen.set(id, Math.max(Number(counts[i]), this.#seen.get(id) ?? 0));
      });
      if (this.#pending.size === 0) this.#link.countingLocally(false);
    } catch {
      // Tried again on the next count or reconnection.
    } finally {
      this.#flushing = false;
    }
  }

  close(): void {
    this.#offUp();
  }
}
