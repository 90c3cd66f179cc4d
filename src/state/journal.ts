import { normalizePrompt } from '../engine/matcher.ts';
import { isCredentialHeader } from '../observability/logger.ts';
import type { Decision } from '../engine/decide.ts';
import type { Explanation } from '../engine/explain.ts';
import type { JournalListener, RequestJournal } from './types.ts';

/** An answer as the journal shows it: the text and tool calls sent, how it finished, and for a stream how it went. */
export interface AnsweredSummary {
  text: string | null;
  toolCalls: { name: string; arguments: string; id: string | null }[];
  finishReason: string;
  /** For a stream: whether it completed, was cut by the client, or failed by a rule's fault; and its content chunks. */
  stream?: { outcome: 'completed' | 'aborted' | 'failed'; contentChunks: number };
  /** Further answers in the same response (a legacy completions prompt list). */
  more?: number;
}

/** The reply a decision sent, as the journal shows it; null when the core answered with no reply (an error). */
function answeredOf(decision: Decision, delivered: JournalRecord['delivered']): AnsweredSummary | null {
  const { outcome } = decision;
  if (outcome.kind !== 'reply' || !outcome.reply) return null;
  const reply = outcome.reply;
  return {
    text: reply.text?.text ?? null,
    toolCalls: reply.toolCalls.map(({ call }) => ({ name: call.name, arguments: call.argumentsJson, id: call.id ?? null })),
    finishReason: reply.delivery.finish.reason,
    ...(delivered && { stream: delivered }),
    ...(outcome.more.length > 0 && { more: outcome.more.length }),
  };
}

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
  /** Why it got that answer: the conditions that held, or the rules that came closest (null when no rule was asked). */
  explanation: Explanation | null;
  /** The answer that was sent, when the core answered (null for errors before it, and for proxied requests). */
  answered: AnsweredSummary | null;
  /** For a failed request: the error type and message that were sent. */
  error?: { type: string; message: string } | null;
  /** Set when no rule matched and the upstream answered (`--upstream`): which one (its origin). */
  proxied?: { upstream: string };
  request: {
    headers: Record<string, string | string[] | undefined>;
    body: unknown;
    /** Set when the body was too large to keep: only its size is recorded. */
    bodyOmitted?: { bytes: number };
  };
}

/**
 * What the server hands over for each request: only what it already has, so recording costs next
 * to nothing on the request path. The entry is formatted (time as ISO text, prompt normalised and
 * bounded, credentials redacted) when it is first listed.
 */
export interface JournalRecord {
  /** Date.now() when the request finished. */
  at: number;
  method: string;
  provider: string | null;
  endpoint: string;
  model: string | null;
  /** The text the rules matched, before normalisation; null when no rule was asked. */
  prompt: string | null;
  stream: boolean;
  status: number;
  matched: boolean;
  ruleId: string | null;
  step: number | null;
  durationMs: number;
  /**
   * The core's decision, when the core answered: its explanation and the reply sent are read from
   * it when the entry is first listed (a reference: nothing is built on the request's path).
   */
  decision?: Decision;
  /** How a stream went, when one was written. */
  delivered?: { outcome: 'completed' | 'aborted' | 'failed'; contentChunks: number };
  error?: { errorType: string; errorMessage: string } | null;
  /** The request headers as received (not copied: redacted when listed). */
  headers: Record<string, string | string[] | undefined>;
  /** The parsed body, or null. */
  body: unknown;
  /** Set when the upstream answered (see JournalEntry.proxied). */
  proxied?: { upstream: string };
  /** The body's size in bytes: over MAX_JOURNAL_BODY_BYTES only the size is kept. */
  bodyBytes: number;
}

/** A ring slot: the record as given, until it is listed once and replaced by its entry. */
interface Slot {
  seq: number;
  record: JournalRecord | undefined;
  entry: JournalEntry | undefined;
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
  for (const [name, value] of Object.entries(headers)) out[name] = isCredentialHeader(name) ? '[REDACTED]' : value;
  return out;
}

/** The normalised prompt, cut to MAX_JOURNAL_PROMPT_CHARS (with its full length) when longer. */
function journalPrompt(prompt: string): Pick<JournalEntry, 'prompt' | 'promptTruncated'> {
  const normalized = normalizePrompt(prompt);
  if (normalized.length <= MAX_JOURNAL_PROMPT_CHARS) return { prompt: normalized };
  return { prompt: boundedPrompt(normalized), promptTruncated: { chars: normalized.length } };
}

function toEntry(seq: number, record: JournalRecord, prompt: Pick<JournalEntry, 'prompt' | 'promptTruncated'>): JournalEntry {
  const omitted = record.bodyBytes > MAX_JOURNAL_BODY_BYTES;
  return {
    seq,
    time: new Date(record.at).toISOString(),
    method: record.method,
    provider: record.provider,
    endpoint: record.endpoint,
    model: record.model,
    ...prompt,
    stream: record.stream,
    status: record.status,
    matched: record.matched,
    ruleId: record.ruleId,
    step: record.step,
    durationMs: record.durationMs,
    explanation: record.decision ? record.decision.explanation : null,
    answered: record.decision && record.status < 400 ? answeredOf(record.decision, record.delivered) : null,
    ...(record.error !== undefined && { error: record.error && { type: record.error.errorType, message: record.error.errorMessage } }),
    ...(record.proxied && { proxied: { upstream: record.proxied.upstream } }),
    request: {
      headers: redactHeaders(record.headers),
      body: omitted ? null : record.body,
      ...(omitted && { bodyOmitted: { bytes: record.bodyBytes } }),
    },
  };
}

/** One record formatted as it is listed: for stores that serialise entries (Redis) rather than keep records. */
export function journalEntryOf(seq: number, record: JournalRecord): JournalEntry {
  return toEntry(seq, record, record.prompt === null ? { prompt: null } : journalPrompt(record.prompt));
}

/** The last N requests, in a ring: recording is O(1) and memory never grows past N entries. */
export class MemoryJournal implements RequestJournal {
  #entries: (Slot | undefined)[];
  #next = 0;
  #size = 0;
  #seq = 0;
  readonly #listeners = new Set<JournalListener>();

  constructor(capacity: number) {
    this.#entries = new Array(capacity);
  }

  get capacity(): number {
    return this.#entries.length;
  }

  async size(): Promise<number> {
    return this.#size;
  }

  append(record: JournalRecord): void {
    const capacity = this.#entries.length;
    this.#seq++;
    if (capacity === 0) return;
    // Neither an over-long prompt nor a large body may stay alive in the ring: those are formatted
    // now (bounded, or summarised), everything else when it is listed.
    const long = record.prompt !== null && record.prompt.length > MAX_JOURNAL_PROMPT_CHARS;
    if (long || record.bodyBytes > MAX_JOURNAL_BODY_BYTES) {
      const prompt = record.prompt === null ? { prompt: null } : journalPrompt(record.prompt);
      this.#entries[this.#next] = { seq: this.#seq, record: undefined, entry: toEntry(this.#seq, { ...record, prompt: null, body: null }, prompt) };
    } else this.#entries[this.#next] = { seq: this.#seq, record, entry: undefined };
    this.#next = (this.#next + 1) % capacity;
    if (this.#size < capacity) this.#size++;
    for (const listener of this.#listeners) listener.appended(this.#seq);
  }

  subscribe(listener: JournalListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Ends every subscription (the server is closing). */
  close(): void {
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener.closed();
  }

  /** Newest first. */
  async list(filter: JournalFilter = {}): Promise<JournalEntry[]> {
    return this.#list(filter);
  }

  #list(filter: JournalFilter = {}): JournalEntry[] {
    const capacity = this.#entries.length;
    const out: JournalEntry[] = [];
    const limit = filter.limit ?? Infinity;
    for (let i = 1; i <= this.#size && out.length < limit; i++) {
      const slot = this.#entries[(this.#next - i + capacity) % capacity]!;
      if (filter.after !== undefined && slot.seq <= filter.after) break;
      const fields = (slot.entry ?? slot.record)!;
      if (filter.provider !== undefined && fields.provider !== filter.provider) continue;
      if (filter.model !== undefined && fields.model !== filter.model) continue;
      if (filter.endpoint !== undefined && fields.endpoint !== filter.endpoint) continue;
      if (filter.matched !== undefined && fields.matched !== filter.matched) continue;
      out.push(this.#entry(slot));
    }
    return out;
  }

  /** The slot's entry, formatted on first use and kept (the raw record is dropped then). */
  #entry(slot: Slot): JournalEntry {
    if (slot.entry) return slot.entry;
    const record = slot.record!;
    slot.entry = toEntry(slot.seq, record, record.prompt === null ? { prompt: null } : journalPrompt(record.prompt));
    slot.record = undefined;
    return slot.entry;
  }

  async clear(): Promise<void> {
    this.#entries = new Array(this.#entries.length);
    this.#next = 0;
    this.#size = 0;
  }

  /** Keeps the newest entries that fit when the configured size changes on reload. */
  resize(capacity: number): void {
    if (capacity === this.#entries.length) return;
    const keep = this.#list().slice(0, capacity).reverse();
    this.#entries = new Array(capacity);
    this.#next = 0;
    this.#size = 0;
    for (const entry of keep) {
      this.#entries[this.#next] = { seq: entry.seq, record: undefined, entry };
      this.#next = (this.#next + 1) % Math.max(capacity, 1);
      this.#size++;
    }
  }
}
