// Stored Responses conversations in Redis, so a `previous_response_id` minted on one replica
// resolves on another: `${prefix}response:<id>` holds the conversation and its output item ids,
// `${prefix}item:<id>` each output item, both with a TTL (the bound: a mock keeps recent responses,
// the real API keeps them for 30 days). This replica also keeps what it stored and read in memory
// (bounded, MemoryResponseHistory), so its own chains never wait for Redis; a reset or delete
// anywhere is announced on `${prefix}responses:changes` and empties the other replicas' copies.
import type { Logger } from '../../observability/logger.ts';
import { MemoryResponseHistory, type HistoryItem } from '../response-history.ts';
import type { ResponseHistoryStore } from '../types.ts';
import { READ_TIMEOUT_MS, WRITE_TIMEOUT_MS, type RedisLink } from './connection.ts';

/** How long a stored response can be continued from another replica. */
export const RESPONSE_TTL_SECONDS = 24 * 60 * 60;

interface StoredResponse {
  items: readonly HistoryItem[];
  outputIds: readonly string[];
}

export class RedisResponseHistory implements ResponseHistoryStore {
  readonly #link: RedisLink;
  readonly #logger: Logger;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #local = new MemoryResponseHistory();

  constructor(link: RedisLink, prefix: string, logger: Logger) {
    this.#link = link;
    this.#logger = logger;
    this.#prefix = prefix;
    this.#channel = `${prefix}responses:changes`;
  }

  async start(): Promise<void> {
    await this.#link.subscriber.subscribe(this.#channel, (message) => {
      if (message === 'clear') void this.#local.clear();
      else if (message.startsWith('delete:')) void this.#local.delete(message.slice('delete:'.length));
    });
  }

  async put(responseId: string, items: readonly HistoryItem[], outputs: readonly (readonly [string, HistoryItem])[]): Promise<void> {
    await this.#local.put(responseId, items, outputs);
    if (!this.#link.connected) return;
    const stored: StoredResponse = { items, outputIds: outputs.map(([id]) => id) };
    // Sent now, not awaited by the request (the caller does not wait): another replica asked for
    // this id a round trip later finds it stored.
    try {
      await this.#link.timed(WRITE_TIMEOUT_MS, (redis) => {
        const multi = redis.multi();
        multi.set(this.#responseKey(responseId), JSON.stringify(stored), { expiration: { type: 'EX', value: RESPONSE_TTL_SECONDS } });
        for (const [id, item] of outputs) multi.set(this.#itemKey(id), JSON.stringify(item), { expiration: { type: 'EX', value: RESPONSE_TTL_SECONDS } });
        return multi.exec();
      });
    } catch (error) {
      this.#logger.debug({ err: error, responseId }, 'storing a response in Redis failed; only this replica knows it');
    }
  }

  async get(responseId: string): Promise<readonly HistoryItem[] | undefined> {
    const local = await this.#local.get(responseId);
    if (local) return local;
    const stored = await this.#read<StoredResponse>(this.#responseKey(responseId));
    return stored?.items;
  }

  async item(itemId: string): Promise<HistoryItem | undefined> {
    return (await this.#local.item(itemId)) ?? (await this.#read<HistoryItem>(this.#itemKey(itemId)));
  }

  async delete(responseId: string): Promise<boolean> {
    const local = await this.#local.delete(responseId);
    // A provider route may delete (DELETE /v1/responses/{id}): Redis away or slow must not fail it,
    // so a deletion Redis did not take is reported from what this replica knew.
    const removed = await this.#link.write('the response deletion', async (redis) => {
      const stored = await redis.get(this.#responseKey(responseId));
      if (stored === null) return false;
      const { outputIds } = JSON.parse(stored) as StoredResponse;
      await redis.del([this.#responseKey(responseId), ...outputIds.map((id) => this.#itemKey(id))]);
      await redis.publish(this.#channel, `delete:${responseId}`);
      return true;
    }, READ_TIMEOUT_MS).catch(() => false);
    return local || removed;
  }

  async clear(): Promise<void> {
    await this.#local.clear();
    await this.#link.write('the responses reset', async (redis) => {
      for (const pattern of [`${escapeGlob(this.#prefix)}response:*`, `${escapeGlob(this.#prefix)}item:*`]) {
        for await (const keys of redis.scanIterator({ MATCH: pattern, COUNT: 500 })) if (keys.length > 0) await redis.del(keys);
      }
      await redis.publish(this.#channel, 'clear');
    });
  }

  /** One stored value, or undefined when it is unknown, or Redis is away or slow (the caller answers "not found"). */
  async #read<T>(key: string): Promise<T | undefined> {
    if (!this.#link.connected) return undefined;
    try {
      const text = await this.#link.timed(READ_TIMEOUT_MS, (redis) => redis.get(key));
      return text === null ? undefined : (JSON.parse(text) as T);
    } catch {
      return undefined;
    }
  }

  #responseKey(id: string): string {
    return `${this.#prefix}response:${id}`;
  }

  #itemKey(id: string): string {
    return `${this.#prefix}item:${id}`;
  }
}

/** A prefix used literally in a SCAN MATCH pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
