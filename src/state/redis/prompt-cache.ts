// The prompt-cache simulation's live prefixes in Redis, so every replica reads what another wrote:
// `${prefix}pcache:<key>`, each with Redis's own expiry (PX), since replicas share no clock. When
// Redis is away or slow the request is answered as a cache miss and nothing fails: the figures are
// a simulation, never worth an error.
import type { PromptCacheEntry, PromptCacheStore } from '../../engine/prompt-cache.ts';
import type { Logger } from '../../observability/logger.ts';
import { READ_TIMEOUT_MS, WRITE_TIMEOUT_MS, type RedisLink } from './connection.ts';

export class RedisPromptCache implements PromptCacheStore {
  readonly #link: RedisLink;
  readonly #prefix: string;
  readonly #logger: Logger;

  constructor(link: RedisLink, prefix: string, logger: Logger) {
    this.#link = link;
    this.#prefix = prefix;
    this.#logger = logger;
  }

  async live(keys: readonly string[]): Promise<ReadonlySet<string>> {
    if (keys.length === 0 || !this.#link.connected) return new Set();
    try {
      const values = await this.#link.timed(READ_TIMEOUT_MS, (redis) => redis.mGet(keys.map((key) => this.#key(key))));
      return new Set(keys.filter((_, i) => values[i] !== null));
    } catch (error) {
      this.#logger.debug({ err: error }, 'reading the prompt cache from Redis failed: answered as a miss');
      return new Set();
    }
  }

  async put(entries: readonly PromptCacheEntry[]): Promise<void> {
    if (entries.length === 0 || !this.#link.connected) return;
    try {
      await this.#link.timed(WRITE_TIMEOUT_MS, (redis) => {
        const multi = redis.multi();
        for (const { key, ttlMs } of entries) multi.set(this.#key(key), '1', { expiration: { type: 'PX', value: Math.max(1, Math.round(ttlMs)) } });
        return multi.exec();
      });
    } catch (error) {
      this.#logger.debug({ err: error }, 'writing the prompt cache to Redis failed');
    }
  }

  async clear(): Promise<void> {
    await this.#link.write('the prompt cache reset', async (redis) => {
      for await (const keys of redis.scanIterator({ MATCH: `${escapeGlob(this.#prefix)}pcache:*`, COUNT: 500 })) if (keys.length > 0) await redis.del(keys);
    });
  }

  #key(key: string): string {
    return `${this.#prefix}pcache:${key}`;
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
