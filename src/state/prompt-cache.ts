import type { PromptCacheEntry, PromptCacheStore } from '../engine/prompt-cache.ts';

/** Live prefixes kept at most: past it the ones expiring first go (a mock, not a cache service). */
export const PROMPT_CACHE_MAX_ENTRIES = 100_000;

/**
 * The prompt cache in this process's memory: each key with when it expires on the injected clock's
 * scale, so expiry can be tested on virtual time.
 */
export class MemoryPromptCache implements PromptCacheStore {
  readonly #expires = new Map<string, number>();
  readonly maxEntries: number;

  constructor(maxEntries = PROMPT_CACHE_MAX_ENTRIES) {
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.#expires.size;
  }

  async live(keys: readonly string[], now: number): Promise<ReadonlySet<string>> {
    const live = new Set<string>();
    for (const key of keys) {
      const expires = this.#expires.get(key);
      if (expires === undefined) continue;
      if (expires > now) live.add(key);
      else this.#expires.delete(key);
    }
    return live;
  }

  async put(entries: readonly PromptCacheEntry[], now: number): Promise<void> {
    for (const { key, ttlMs } of entries) {
      // Re-inserted, so Map order is roughly least recently written first.
      this.#expires.delete(key);
      this.#expires.set(key, now + ttlMs);
    }
    if (this.#expires.size <= this.maxEntries) return;
    for (const [key, expires] of this.#expires) {
      if (expires <= now) this.#expires.delete(key);
    }
    for (const key of this.#expires.keys()) {
      if (this.#expires.size <= this.maxEntries) break;
      this.#expires.delete(key);
    }
  }

  async clear(): Promise<void> {
    this.#expires.clear();
  }
}
