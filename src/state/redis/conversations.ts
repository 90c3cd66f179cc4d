// OpenAI Conversations and stored Responses objects in Redis, so replicas agree on them:
// `${prefix}conversation:<id>` holds the conversation, `${prefix}conversation:<id>:items` its items
// (a list, oldest first), `${prefix}stored-response:<id>` a stored response; all with the TTL of
// stored responses (redis/responses.ts), renewed on every write. Every write is also kept in this
// replica's memory (bounded), and reads fall back to it when Redis is away or slow, so a provider
// request never fails because of Redis (the policy of docs/deployment.md, "Several replicas: Redis").
import type { Logger } from '../../observability/logger.ts';
import { MemoryConversations, MemoryStoredResponses } from '../conversations.ts';
import type { ConversationStore, StoredConversation, StoredItem, StoredResponse, StoredResponseStore } from '../types.ts';
import { READ_TIMEOUT_MS, WRITE_TIMEOUT_MS, type RedisClient, type RedisLink } from './connection.ts';
import { RESPONSE_TTL_SECONDS } from './responses.ts';

const TTL = { expiration: { type: 'EX', value: RESPONSE_TTL_SECONDS } } as const;

// Appends only to a conversation that exists, in one round trip: POST /v1/responses appends its turn
// without waiting, and the client's next request (items, or the next turn) must find it there.
// KEYS: conversation, its items; ARGV: TTL seconds, then the items.
const APPEND = `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 1`;

/** Shared by both stores: a timed Redis call, or `fallback` (logged) when Redis is away, slow or failing. */
class Backed {
  readonly link: RedisLink;
  readonly logger: Logger;
  readonly prefix: string;

  constructor(link: RedisLink, prefix: string, logger: Logger) {
    this.link = link;
    this.prefix = prefix;
    this.logger = logger;
  }

  async call<T>(what: string, write: boolean, fn: (redis: RedisClient) => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    if (!this.link.connected) return fallback();
    try {
      return await this.link.timed(write ? WRITE_TIMEOUT_MS : READ_TIMEOUT_MS, fn);
    } catch (error) {
      this.logger.debug({ err: error }, `${what} in Redis failed; answering from this replica's memory`);
      return fallback();
    }
  }

  async clear(patterns: readonly string[]): Promise<void> {
    await this.link.write('the conversations reset', async (redis) => {
      for (const pattern of patterns) {
        for await (const keys of redis.scanIterator({ MATCH: `${escapeGlob(this.prefix)}${pattern}`, COUNT: 500 })) if (keys.length > 0) await redis.del(keys);
      }
    });
  }
}

export class RedisConversations implements ConversationStore {
  readonly #redis: Backed;
  readonly #local = new MemoryConversations();

  constructor(link: RedisLink, prefix: string, logger: Logger) {
    this.#redis = new Backed(link, prefix, logger);
  }

  #key(id: string): string {
    return `${this.#redis.prefix}conversation:${id}`;
  }

  #itemsKey(id: string): string {
    return `${this.#redis.prefix}conversation:${id}:items`;
  }

  async create(conversation: StoredConversation, items: readonly StoredItem[]): Promise<void> {
    await this.#local.create(conversation, items);
    await this.#redis.call('creating a conversation', true, async (redis) => {
      const multi = redis.multi().set(this.#key(conversation.id), JSON.stringify(conversation), TTL).del(this.#itemsKey(conversation.id));
      if (items.length > 0) multi.rPush(this.#itemsKey(conversation.id), items.map((item) => JSON.stringify(item))).expire(this.#itemsKey(conversation.id), RESPONSE_TTL_SECONDS);
      await multi.exec();
    }, async () => {});
  }

  async get(id: string): Promise<StoredConversation | undefined> {
    return this.#redis.call('reading a conversation', false, async (redis) => {
      const text = await redis.get(this.#key(id));
      return text === null ? undefined : (JSON.parse(text) as StoredConversation);
    }, () => this.#local.get(id));
  }

  async update(id: string, metadata: Readonly<Record<string, string>>): Promise<StoredConversation | undefined> {
    const local = await this.#local.update(id, metadata);
    return this.#redis.call('updating a conversation', true, async (redis) => {
      const text = await redis.get(this.#key(id));
      if (text === null) return undefined;
      const updated: StoredConversation = { ...(JSON.parse(text) as StoredConversation), metadata };
      await redis.set(this.#key(id), JSON.stringify(updated), TTL);
      return updated;
    }, async () => local);
  }

  async delete(id: string): Promise<boolean> {
    const local = await this.#local.delete(id);
    return this.#redis.call('deleting a conversation', true, async (redis) => (await redis.del([this.#key(id), this.#itemsKey(id)])) > 0, async () => local);
  }

  async append(id: string, items: readonly StoredItem[]): Promise<boolean> {
    if (items.length === 0) return (await this.#local.append(id, items)) || (await this.get(id)) !== undefined;
    // Both started in this tick: the Redis command goes out before the caller's answer does.
    const local = this.#local.append(id, items);
    const remote = this.#redis.call('adding conversation items', true, async (redis) => {
      const args = [String(RESPONSE_TTL_SECONDS), ...items.map((item) => JSON.stringify(item))];
      return (await redis.eval(APPEND, { keys: [this.#key(id), this.#itemsKey(id)], arguments: args })) === 1;
    }, () => local);
    return remote;
  }

  async items(id: string): Promise<readonly StoredItem[] | undefined> {
    return this.#redis.call('reading conversation items', false, async (redis) => {
      const [exists, items] = (await redis.multi().exists(this.#key(id)).lRange(this.#itemsKey(id), 0, -1).exec()) as unknown as [number, string[]];
      if (exists === 0) return undefined;
      return items.map((text) => JSON.parse(text) as StoredItem);
    }, () => this.#local.items(id));
  }

  async deleteItem(id: string, itemId: string): Promise<boolean> {
    const local = await this.#local.deleteItem(id, itemId);
    return this.#redis.call('deleting a conversation item', true, async (redis) => {
      const items = await redis.lRange(this.#itemsKey(id), 0, -1);
      const text = items.find((candidate) => (JSON.parse(candidate) as StoredItem).id === itemId);
      if (text === undefined) return false;
      return (await redis.lRem(this.#itemsKey(id), 1, text)) > 0;
    }, async () => local);
  }

  async clear(): Promise<void> {
    await this.#local.clear();
    await this.#redis.clear(['conversation:*']);
  }
}

export class RedisStoredResponses implements StoredResponseStore {
  readonly #redis: Backed;
  readonly #local = new MemoryStoredResponses();

  constructor(link: RedisLink, prefix: string, logger: Logger) {
    this.#redis = new Backed(link, prefix, logger);
  }

  #key(id: string): string {
    return `${this.#redis.prefix}stored-response:${id}`;
  }

  async put(id: string, stored: StoredResponse): Promise<void> {
    await this.#local.put(id, stored);
    await this.#redis.call('storing a response', true, async (redis) => {
      await redis.set(this.#key(id), JSON.stringify(stored), TTL);
    }, async () => {});
  }

  async get(id: string): Promise<StoredResponse | undefined> {
    return this.#redis.call('reading a stored response', false, async (redis) => {
      const text = await redis.get(this.#key(id));
      return text === null ? undefined : (JSON.parse(text) as StoredResponse);
    }, () => this.#local.get(id));
  }

  async delete(id: string): Promise<boolean> {
    const local = await this.#local.delete(id);
    return this.#redis.call('deleting a stored response', true, async (redis) => (await redis.del(this.#key(id))) > 0, async () => local);
  }

  async clear(): Promise<void> {
    await this.#local.clear();
    await this.#redis.clear(['stored-response:*']);
  }
}

/** A prefix used literally in a SCAN MATCH pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
