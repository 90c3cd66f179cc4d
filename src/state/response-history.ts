import type { ResponseHistoryStore } from './types.ts';

// What `previous_response_id` and `item_reference` inputs of POST /v1/responses resolve against:
// the conversations of recent stored responses, kept in memory and bounded. The real API keeps
// stored responses for 30 days; a mock keeps the last ones it answered, per process.

/** One turn of a Responses conversation, reduced to what matching and token counting read. */
export type HistoryItem =
  | { type: 'message'; role: 'user' | 'assistant' | 'system' | 'developer'; text: string }
  | { type: 'function_call'; call_id: string; name: string; arguments: string }
  | { type: 'function_call_output'; call_id: string; output: string };

interface Entry {
  /** The whole conversation the response saw (earlier responses' too), then its own output. */
  items: readonly HistoryItem[];
  /** Ids of the response's output items, which later requests may name in `item_reference`. */
  outputIds: readonly string[];
  chars: number;
}

function charsOf(item: HistoryItem): number {
  switch (item.type) {
    case 'message':
      return item.text.length;
    case 'function_call':
      return item.name.length + item.arguments.length + item.call_id.length;
    case 'function_call_output':
      return item.output.length + item.call_id.length;
  }
}

/** Default bounds: the last 1000 stored responses, at most 16 Mi characters of conversation in all. */
export const HISTORY_MAX_RESPONSES = 1000;
export const HISTORY_MAX_CHARS = 16 * 1024 * 1024;

/**
 * Least recently used first out. Each entry counts its whole conversation against the character
 * bound even though entries of one chain share their item objects, so the bound overestimates and
 * memory stays below it.
 */
export class MemoryResponseHistory implements ResponseHistoryStore {
  readonly #entries = new Map<string, Entry>();
  readonly #items = new Map<string, HistoryItem>();
  #chars = 0;
  readonly maxResponses: number;
  readonly maxChars: number;

  constructor(maxResponses = HISTORY_MAX_RESPONSES, maxChars = HISTORY_MAX_CHARS) {
    this.maxResponses = maxResponses;
    this.maxChars = maxChars;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The conversation a stored response ended with, or undefined when it is unknown or evicted. */
  async get(responseId: string): Promise<readonly HistoryItem[] | undefined> {
    const entry = this.#entries.get(responseId);
    if (!entry) return undefined;
    this.#entries.delete(responseId);
    this.#entries.set(responseId, entry);
    return entry.items;
  }

  /** An output item of a stored response, by its id (`msg_…`, `fc_…`). */
  async item(itemId: string): Promise<HistoryItem | undefined> {
    return this.#items.get(itemId);
  }

  async put(responseId: string, items: readonly HistoryItem[], outputs: readonly (readonly [string, HistoryItem])[]): Promise<void> {
    let chars = 0;
    for (const item of items) chars += charsOf(item);
    // A conversation larger than the whole store is not kept: continuing it gets "not found".
    if (chars > this.maxChars) return;
    this.#entries.set(responseId, { items, outputIds: outputs.map(([id]) => id), chars });
    for (const [id, item] of outputs) this.#items.set(id, item);
    this.#chars += chars;
    for (const [id, entry] of this.#entries) {
      if (this.#entries.size <= this.maxResponses && this.#chars <= this.maxChars) break;
      this.#entries.delete(id);
      for (const itemId of entry.outputIds) this.#items.delete(itemId);
      this.#chars -= entry.chars;
    }
  }

  async delete(responseId: string): Promise<boolean> {
    const entry = this.#entries.get(responseId);
    if (!entry) return false;
    this.#entries.delete(responseId);
    for (const itemId of entry.outputIds) this.#items.delete(itemId);
    this.#chars -= entry.chars;
    return true;
  }

  async clear(): Promise<void> {
    this.#entries.clear();
    this.#items.clear();
    this.#chars = 0;
  }
}
