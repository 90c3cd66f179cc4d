// The prompt-cache simulation (`settings.prompt_cache: true`), in no provider's words and with no
// HTTP: a provider describes a request's prompt as prefixes (each a key, the hash of the exact text
// up to it, and its length in tokens), this decides what was read from the cache and what was
// written, against a store of live prefixes, at a time the caller gives (the injected Clock).
//
// - Anthropic (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching): a prefix is
//   written at each `cache_control` breakpoint, for 5 minutes or 1 hour, refreshed whenever it is
//   read; a lookup at a breakpoint also finds prefixes written at earlier block boundaries (up to
//   20 blocks back), which is how a growing conversation reads the previous turn's cache.
// - OpenAI (https://platform.openai.com/docs/guides/prompt-caching): prompts of 1,024 tokens or
//   more; the cached part is the longest repeated prefix, in steps of 128 tokens past 1,024.

/** Where live prefixes are kept: this process's memory, or Redis so that replicas agree. */
export interface PromptCacheStore {
  /** Which of these keys are cached and not expired at `now` (ms on the clock's scale). */
  live(keys: readonly string[], now: number): Promise<ReadonlySet<string>>;
  /** Stores or refreshes each key, expiring `ttlMs` after `now`. */
  put(entries: readonly PromptCacheEntry[], now: number): Promise<void>;
  clear(): Promise<void>;
}

export interface PromptCacheEntry {
  key: string;
  ttlMs: number;
}

export type CacheTtl = '5m' | '1h';
export const TTL_MS: Record<CacheTtl, number> = { '5m': 5 * 60_000, '1h': 60 * 60_000 };

/** A prefix of the prompt: its key and its length in tokens. */
export interface PromptPrefix {
  key: string;
  tokens: number;
}

/** A prefix written to the cache (an Anthropic breakpoint, an OpenAI 128-token step). */
export interface PromptWrite extends PromptPrefix {
  ttl: CacheTtl;
  ttlMs: number;
}

/** What a request's prompt offers the cache. */
export interface PromptCacheQuery {
  /** Prefixes a lookup may find (written ones included), any order. */
  reads: readonly PromptPrefix[];
  /** Prefixes this request writes, shortest first. */
  writes: readonly PromptWrite[];
  /** Whether writes are billed (Anthropic's cache_creation_input_tokens); OpenAI reports reads only. */
  billsWrites: boolean;
}

/** The figures the simulation gives one request. */
export interface PromptCacheUsage {
  read: number;
  /** Written, by the TTL of the breakpoint that wrote it. */
  creation5m: number;
  creation1h: number;
}

/** Looks the prompt up, then writes its prefixes (refreshing the one read), at `now`. */
export async function consultPromptCache(store: PromptCacheStore, query: PromptCacheQuery, now: number): Promise<PromptCacheUsage> {
  const keys = [...new Set([...query.reads, ...query.writes].map((p) => p.key))];
  if (keys.length === 0) return { read: 0, creation5m: 0, creation1h: 0 };
  const live = await store.live(keys, now);
  let hit: PromptPrefix | undefined;
  for (const prefix of [...query.reads, ...query.writes]) {
    if (live.has(prefix.key) && (!hit || prefix.tokens > hit.tokens)) hit = prefix;
  }
  const read = hit?.tokens ?? 0;
  const usage: PromptCacheUsage = { read, creation5m: 0, creation1h: 0 };
  let covered = read;
  const entries: PromptCacheEntry[] = [];
  for (const write of query.writes) {
    entries.push({ key: write.key, ttlMs: write.ttlMs });
    if (write.tokens <= covered) continue;
    if (query.billsWrites) {
      if (write.ttl === '1h') usage.creation1h += write.tokens - covered;
      else usage.creation5m += write.tokens - covered;
    }
    covered = write.tokens;
  }
  // A read refreshes the prefix it read, for the TTL of the first breakpoint that reaches it.
  if (hit && !query.writes.some((w) => w.key === hit.key)) {
    const through = query.writes.find((w) => w.tokens >= hit.tokens) ?? query.writes.at(-1);
    if (through) entries.push({ key: hit.key, ttlMs: through.ttlMs });
  }
  if (entries.length > 0) await store.put(entries, now);
  return usage;
}

/** A request's prompt figures: the whole (what count_tokens reports), the part outside the cache, and the cache's. */
export interface PromptFigures {
  total: number;
  uncached: number;
  cacheRead: number;
  cacheCreation: number;
  creation5m: number;
  creation1h: number;
}

interface FigureSource {
  delivery: { usage: { input?: number; cacheRead?: number; cacheCreation?: number } | undefined };
  promptCache?: PromptCacheUsage;
}

/**
 * The figures for a reply, from the prompt as counted: a rule's fixed cache figures win (a prompt
 * that much longer than what was sent, unless the rule fixes the total), then the simulation's (carved
 * out of the counted prompt), else none. `input + creation + read == total` always holds.
 */
export function promptFigures(reply: FigureSource | undefined, counted: number): PromptFigures {
  const usage = reply?.delivery.usage;
  if (usage && (usage.cacheRead !== undefined || usage.cacheCreation !== undefined)) {
    const cacheRead = usage.cacheRead ?? 0;
    const cacheCreation = usage.cacheCreation ?? 0;
    const total = usage.input ?? counted + cacheRead + cacheCreation;
    return { total, uncached: Math.max(total - cacheRead - cacheCreation, 0), cacheRead, cacheCreation, creation5m: cacheCreation, creation1h: 0 };
  }
  const total = usage?.input ?? counted;
  const simulated = reply?.promptCache;
  if (simulated) {
    // Never more than the prompt: a rule that fixes a smaller total keeps its figure.
    const cacheRead = Math.min(simulated.read, total);
    const creation5m = Math.min(simulated.creation5m, total - cacheRead);
    const creation1h = Math.min(simulated.creation1h, total - cacheRead - creation5m);
    const cacheCreation = creation5m + creation1h;
    return { total, uncached: total - cacheRead - cacheCreation, cacheRead, cacheCreation, creation5m, creation1h };
  }
  return { total, uncached: total, cacheRead: 0, cacheCreation: 0, creation5m: 0, creation1h: 0 };
}
