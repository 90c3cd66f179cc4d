// The request journal in one Redis list, `${prefix}journal`, newest first, trimmed to the journal
// size: every replica's requests in one place. `append` only pushes the record on a local buffer;
// the buffer is formatted and written in the background, many entries per round trip (one Lua
// script numbering them from `${prefix}journal:seq`, pushing them and trimming the list), so the
// request path never waits for Redis. While Redis is away the buffer keeps the newest entries that
// fit and is written once it is back.
import { createHash } from 'node:crypto';
import type { Logger } from '../../observability/logger.ts';
import { journalEntryOf, type JournalEntry, type JournalFilter, type JournalRecord } from '../journal.ts';
import type { JournalListener, RequestJournal } from '../types.ts';
import { READ_TIMEOUT_MS, WRITE_TIMEOUT_MS, type RedisLink } from './connection.ts';

/**
 * KEYS: list, sequence counter, channel. ARGV: the capacity, then entries as JSON (oldest first). Each is
 * stored as `<seq>:<json>`, so the number is given out here, once, across replicas.
 */
const PUSH = `
local count = #ARGV - 1
local last = redis.call('INCRBY', KEYS[2], count)
for i = 2, #ARGV do
  redis.call('LPUSH', KEYS[1], (last - count + i - 1) .. ':' .. ARGV[i])
end
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[1]) - 1)
redis.call('PUBLISH', KEYS[3], (last - count + 1) .. ':' .. last)
return last
`;

const PUSH_SHA = createHash('sha1').update(PUSH).digest('hex');

/** Entries per script call: large enough to carry a burst, small enough to keep Redis responsive. */
const BATCH = 500;

export class RedisJournal implements RequestJournal {
  readonly #link: RedisLink;
  readonly #logger: Logger;
  readonly #keys: { list: string; seq: string; channel: string };
  readonly #listeners = new Set<JournalListener>();
  #capacity: number;
  #buffer: JournalRecord[] = [];
  #scheduled = false;
  /** performance.now() when the last write to Redis was answered. */
  #lastWrite = -Infinity;
  #flushing: Promise<void> | undefined;
  readonly #offUp: () => void;

  constructor(link: RedisLink, prefix: string, capacity: number, logger: Logger) {
    this.#link = link;
    this.#logger = logger;
    this.#keys = { list: `${prefix}journal`, seq: `${prefix}journal:seq`, channel: `${prefix}journal:appended` };
    this.#capacity = capacity;
    this.#offUp = link.onUp(() => this.#schedule());
  }

  /** Listens for entries recorded by any replica (announced once they are in Redis). */
  async start(): Promise<void> {
    await this.#link.subscriber.subscribe(this.#keys.channel, (message) => {
      if (this.#listeners.size === 0) return;
      const [first, last] = message.split(':').map(Number) as [number, number];
      for (let seq = first; seq <= last; seq++) for (const listener of this.#listeners) listener.appended(seq);
    });
  }

  subscribe(listener: JournalListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get capacity(): number {
    return this.#capacity;
  }

  append(record: JournalRecord): void {
    if (this.#capacity === 0) return;
    this.#buffer.push(record);
    // While Redis is away: the newest entries that fit, as the journal would keep.
    if (this.#buffer.length > this.#capacity) this.#buffer.splice(0, this.#buffer.length - this.#capacity);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // A microtask, not a later turn of the event loop: the entry is queued for Redis before this
    // request's response is written, so a client that then calls another replica finds its earlier
    // request listed before the later one. Nothing waits for Redis's answer, and while a write is
    // in flight new entries gather in the buffer and go out together.
    // Under load (a write in flight, or one just done) the next write waits a turn of the event
    // loop instead, so that entries gather into batches.
    const busy = this.#flushing !== undefined || performance.now() - this.#lastWrite < 1;
    const run = () => {
      this.#scheduled = false;
      // flush() settles even when Redis fails (the batch is kept); nothing may reject unhandled here.
      this.flush().catch((error: unknown) => this.#logger.debug({ err: error }, 'journal flush failed'));
    };
    if (busy) setImmediate(run);
    else queueMicrotask(run);
  }

  /** Writes the buffered entries (all of them, in batches). Resolves when done or when Redis fails. */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing.then(() => (this.#buffer.length > 0 ? this.flush() : undefined));
    if (this.#buffer.length === 0 || !this.#link.connected) return Promise.resolve();
    this.#flushing = this.#write().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  async #write(): Promise<void> {
    while (this.#buffer.length > 0 && this.#link.connected) {
      const batch = this.#buffer.splice(0, BATCH);
      const lines = batch.flatMap(serialise);
      if (lines.length === 0) continue;
      try {
        const args = [String(this.#capacity), ...lines];
        const keys = [this.#keys.list, this.#keys.seq, this.#keys.channel];
        // By its SHA1 (the script is sent again only when Redis does not know it, e.g. after a restart).
        await this.#link.timed(WRITE_TIMEOUT_MS, (redis) =>
          redis.evalSha(PUSH_SHA, { keys, arguments: args }).catch((error: Error) => {
            if (!error.message.startsWith('NOSCRIPT')) throw error;
            return redis.eval(PUSH, { keys, arguments: args });
          }),
        );
        this.#lastWrite = performance.now();
      } catch (error) {
        // Kept for the next try (on reconnection), newest entries first to go in.
        this.#buffer = [...batch, ...this.#buffer].slice(-this.#capacity);
        this.#logger.debug({ err: error }, 'journal write to Redis failed; kept for later');
        return;
      }
    }
  }

  async list(filter: JournalFilter = {}): Promise<JournalEntry[]> {
    // journal_size 0 keeps nothing (and LRANGE 0 -1 would read the whole list).
    if (this.#capacity === 0) return [];
    // This replica's own requests are written first, so it always lists what it has just served.
    await this.flush();
    const lines = await this.#link.write('the journal read', (redis) => redis.lRange(this.#keys.list, 0, this.#capacity - 1), READ_TIMEOUT_MS * 2);
    // Newest first by when each request finished: replicas flush their batches at different
    // moments, so the list's own order is the order entries reached Redis, not the order served.
    const entries: JournalEntry[] = [];
    for (const line of lines) {
      const entry = parseLine(line);
      if (entry) entries.push(entry);
    }
    entries.sort((x, y) => Date.parse(y.time) - Date.parse(x.time) || y.seq - x.seq);
    const out: JournalEntry[] = [];
    const limit = filter.limit ?? Infinity;
    for (const entry of entries) {
      if (out.length >= limit) break;
      if (filter.after !== undefined && entry.seq <= filter.after) continue;
      if (filter.provider !== undefined && entry.provider !== filter.provider) continue;
      if (filter.model !== undefined && entry.model !== filter.model) continue;
      if (filter.endpoint !== undefined && entry.endpoint !== filter.endpoint) continue;
      if (filter.matched !== undefined && entry.matched !== filter.matched) continue;
      out.push(entry);
    }
    return out;
  }

  async size(): Promise<number> {
    if (this.#capacity === 0) return 0;
    await this.flush();
    return this.#link.write('the journal read', (redis) => redis.lLen(this.#keys.list), READ_TIMEOUT_MS * 2);
  }

  async clear(): Promise<void> {
    this.#buffer = [];
    await this.#link.write('the journal reset', (redis) => redis.del(this.#keys.list));
  }

  resize(capacity: number): void {
    if (capacity === this.#capacity) return;
    this.#capacity = capacity;
    if (this.#buffer.length > capacity) this.#buffer.splice(0, this.#buffer.length - capacity);
    if (this.#link.connected) {
      void this.#link.timed(WRITE_TIMEOUT_MS, (redis) => redis.lTrim(this.#keys.list, 0, capacity - 1)).catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.#offUp();
    await this.flush().catch(() => {});
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener.closed();
  }
}

/** The entry as stored, without its seq (given by the script); none when it cannot be formatted at all. */
function serialise(record: JournalRecord): string[] {
  try {
    const { seq: _seq, ...rest } = journalEntryOf(0, record);
    try {
      return [JSON.stringify(rest)];
    } catch {
      // A body nested deeper than JSON.stringify can follow: kept without it, as the listing does.
      return [JSON.stringify({ ...rest, request: { headers: rest.request.headers, body: null } })];
    }
  } catch {
    return [];
  }
}

function parseLine(line: string): JournalEntry | undefined {
  const colon = line.indexOf(':');
  try {
    const rest = JSON.parse(line.slice(colon + 1)) as Omit<JournalEntry, 'seq'>;
    return { seq: Number(line.slice(0, colon)), ...rest };
  } catch {
    return undefined;
  }
}
