// The four state stores backed by one Redis, for replicas that agree (--redis URL). What is shared
// and what each store does when Redis is away: docs/deployment.md, "Several replicas: Redis".
import type { Logger } from '../../observability/logger.ts';
import type { StateStores } from '../types.ts';
import { RedisLink } from './connection.ts';
import { RedisJournal } from './journal.ts';
import { RedisOverlay } from './overlay.ts';
import { RedisConversations, RedisStoredResponses } from './conversations.ts';
import { RedisResponseHistory } from './responses.ts';
import { RedisPromptCache } from './prompt-cache.ts';
import { RedisSequenceCounters } from './sequences.ts';

export { StateUnavailable } from '../errors.ts';

export const DEFAULT_REDIS_PREFIX = 'mockllm:';

export interface RedisStateOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` for TLS. */
  url: string;
  /** Put before every key and channel, so several mocks can share one Redis (default `mockllm:`). */
  prefix?: string;
  journalSize: number;
  logger: Logger;
  /** How long start-up waits for Redis before starting degraded, from the last known (empty) state (default 3000). */
  connectTimeoutMs?: number;
}

/**
 * Connects and loads the current overlay before resolving, so a replica that starts after admin
 * edits serves them from its first request. When Redis does not answer within the connect timeout
 * the stores start empty and degraded (logged), and catch up once it answers.
 */
export async function createRedisState(options: RedisStateOptions): Promise<StateStores> {
  const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
  const { logger } = options;
  const link = new RedisLink({ url: options.url, logger });
  const overlay = new RedisOverlay(link, prefix, logger);
  const sequences = new RedisSequenceCounters(link, prefix);
  const journal = new RedisJournal(link, prefix, options.journalSize, logger);
  const responses = new RedisResponseHistory(link, prefix, logger);
  // Subscriptions are registered before connecting: node-redis sends them once the subscriber
  // connects, and again after every reconnection.
  const subscribed = Promise.all([overlay.start(), responses.start(), journal.start()]);
  subscribed.catch(() => {});
  if (await link.connect(options.connectTimeoutMs ?? 3000)) {
    await subscribed;
    await overlay.sync();
  } else {
    logger.warn({ target: link.target }, 'Redis did not answer at start-up: starting with no admin changes, and catching up once it answers');
  }
  return {
    overlay,
    sequences,
    journal,
    responses,
    conversations: new RedisConversations(link, prefix, logger),
    storedResponses: new RedisStoredResponses(link, prefix, logger),
    promptCache: new RedisPromptCache(link, prefix, logger),
    backend: link,
    close: async () => {
      overlay.close();
      sequences.close();
      await journal.close();
      await link.close();
    },
  };
}
