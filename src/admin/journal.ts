import { REDACTED_HEADERS } from '../observability/logger.ts';

export interface JournalEntry {
  /** Increases by one per recorded request, so a client can ask "what came after N". */
  seq: number;
  time: string;
  method: string;
  provider: string | null;
  endpoint: string;
  model: string | null;
  /** The matched text after normalisation, as the rules saw it (cut at MAX_JOURNAL_PROMPT_CHARS). */
  prompt: string | null;
  /** Set when the prompt was longer than MAX_JOURNAL_PROMPT_CHARS: its full length. */
  promptTruncated?: { chars: number };
  stream: boolean;
  status: number;
  matched: boolean;
  ruleId: string | null;
  /** The sequence step that answered (0-based), or null when the rule is not a sequence. */
  step: number | null;
  durationMs: number;
  request: {
    headers: Record<string, string | string[] | undefined>;
    body: unknown;
    /** Set when the body was too large to keep: only its size is recorded. */
    bodyOmitted?: { bytes: number };
  };
}

export interface JournalFilter {
  provider?: string;
  model?: string;
  endpoint?: string;
  matched?: boolean;
  limit?: number;
  /** Only entries with `seq` greater than this. */
  after?: number;
}

/** Bodies larger than this are summarised, so the journal's memory stays bounded at any size. */
export const MAX_JOURNAL_BODY_BYTES = 64 * 1024;
/**
 * The prompt is as large as the body it came from (up to the body limit, 4 MB by default), so it
 * needs a bound of its own: without one, a full journal of large prompts holds gigabytes.
 */
export const MAX_JOURNAL_PROMPT_CHARS = 16 * 1024;
const REDACTED = new Set(REDACTED_HEADERS);

/** Cuts an over-long prompt, never inside a surrogate pair, into a string of its own. */
function boundedPrompt(prompt: string): string {
  let end = MAX_JOURNAL_PROMPT_CHARS;
  const last = prompt.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  // A plain slice would be a view that keeps the whole multi-megabyte prompt alive.
  return structuredClone(prompt.slice(0, end));
}

export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = REDACTED.has(name.toLowerCase()) ? '[REDACTED]' : value;
  return out;
}

/** The last N requests, in a ring: recording is O(1) and memory never grows past N entries. */
export class Journal {
  #entries: (JournalEntry | undefined)[];
  #next = 0;
  #size = 0;
  #seq = 0;

  constructor(capacity: number) {
    this.#entries = new Array(capacity);
  }

  get capacity(): number {
    return this.#entries.length;
  }

  get size(): number {
    return this.#size;
  }

  record(entry: Omit<JournalEntry, 'seq'>): void {
    const capacity = this.#entries.length;
    this.#seq++;
    if (capacity === 0) return;
    const long = entry.prompt !== null && entry.prompt.length > MAX_JOURNAL_PROMPT_CHARS;
    this.#entries[this.#next] = long
      ? { seq: this.#seq, ...entry, prompt: boundedPrompt(entry.prompt!), promptTruncated: { chars: entry.prompt!.length } }
      : { seq: this.#seq, ...entry };
    this.#next = (this.#next + 1) % capacity;
    if (this.#size < capacity) this.#size++;
  }

  /** Newest first. */
  list(filter: JournalFilter = {}): JournalEntry[] {
    const capacity = this.#entries.length;
    const out: JournalEntry[] = [];
    const limit = filter.limit ?? Infinity;
    for (let i = 1; i <= this.#size && out.length < limit; i++) {
      const entry = this.#entries[(this.#next - i + capacity) % capacity]!;
      if (filter.after !== undefined && entry.seq <= filter.after) break;
      if (filter.provider !== undefined && entry.provider !== filter.provider) continue;
      if (filter.model !== undefined && entry.model !== filter.model) continue;
      if (filter.endpoint !== undefined && entry.endpoint !== filter.endpoint) continue;
      if (filter.matched !== undefined && entry.matched !== filter.matched) continue;
      out.push(entry);
    }
    return out;
  }

  clear(): void {
    this.#entries = new Array(this.#entries.length);
    this.#next = 0;
    this.#size = 0;
  }

  /** Keeps the newest entries that fit when the configured size changes on reload. */
  resize(capacity: number): void {
    if (capacity === this.#entries.length) return;
    const keep = this.list().slice(0, capacity).reverse();
    this.#entries = new Array(capacity);
    this.#next = 0;
    this.#size = 0;
    for (const entry of keep) {
      this.#entries[this.#next] = entry;
      this.#next = (this.#next + 1) % Math.max(capacity, 1);
      this.#size++;
    }
  }
}
