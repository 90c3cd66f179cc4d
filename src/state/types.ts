// The server's mutable state, behind four small interfaces. One server owns one set (no
// module-level singletons); the in-memory implementations are in this folder, and a networked
// store (Redis, for replicas that agree) implements the same interfaces without the core or the
// routes changing. Everything a network store would need a round trip for returns a Promise.
import type { RuleSpec } from '../config/schema.ts';
import type { PromptCacheStore } from '../engine/prompt-cache.ts';
import type { JournalEntry, JournalFilter, JournalRecord } from './journal.ts';
import type { HistoryItem } from './response-history.ts';

/** One rule the admin API created or replaced: its id and the spec as the client sent it. */
export interface OverlayEntry {
  id: string;
  spec: RuleSpec;
}

/**
 * The admin overlay records intent, not the resulting rule set: rules created at run time (newest
 * first), file rules replaced, file rules deleted. Laid on the file's rules, it gives what serves.
 */
export interface OverlaySnapshot {
  /** Increases with every change; a replica compares versions to know whether it is behind. */
  version: number;
  created: readonly OverlayEntry[];
  replaced: readonly OverlayEntry[];
  deleted: readonly string[];
}

export type OverlayChange =
  | { op: 'create'; entry: OverlayEntry }
  /** Replaces a created rule in place, or records a replacement of a file rule. */
  | { op: 'replace'; entry: OverlayEntry; created: boolean }
  | { op: 'delete'; id: string; created: boolean }
  /** Drops the replacement or deletion of one file rule: the file's own rule serves again. */
  | { op: 'revert'; id: string }
  | { op: 'reset' };

export interface AdminOverlay {
  /** The last state this server knows: read on every rebuild, so it is local and synchronous. */
  snapshot(): OverlaySnapshot;
  /** Applies a change; resolves once it is stored (an admin write is acknowledged only then). */
  apply(change: OverlayChange): Promise<OverlaySnapshot>;
  /** Called when the overlay changes by other hands than this server's `apply` (another replica). */
  subscribe(listener: (snapshot: OverlaySnapshot) => void): () => void;
}

/** Matching calls per sequence rule id. */
export interface SequenceCounters {
  /** Counts one call atomically and says how many came before it. */
  next(ruleId: string): Promise<number>;
  /** Calls counted so far, without counting one. */
  peek(ruleId: string): Promise<number>;
  /** Forgets the count of one rule, of several, or (no argument) of all. */
  reset(ruleIds?: readonly string[]): Promise<void>;
}

/** The last N requests served. */
export interface RequestJournal {
  readonly capacity: number;
  /** Records one request. Never waits: a network store batches these in the background. */
  append(record: JournalRecord): void;
  /** Newest first. */
  list(filter?: JournalFilter): Promise<JournalEntry[]>;
  size(): Promise<number>;
  clear(): Promise<void>;
  /** Keeps the newest entries that fit when the configured size changes on reload. */
  resize(capacity: number): void;
  /**
   * Tells `listener` whenever entries were recorded (it then lists what came after the last seq it
   * saw), until unsubscribed or the state closes. Optional: without it nothing is pushed live.
   */
  subscribe?(listener: JournalListener): () => void;
}

export interface JournalListener {
  /** New entries were recorded (called once per entry; list `after` the last seq seen to read them). */
  appended(seq: number): void;
  /** The state is closing: no more entries will come. */
  closed(): void;
}

/** What `previous_response_id` and `item_reference` resolve against (OpenAI Responses). */
export interface ResponseHistoryStore {
  /** Stores a response's whole conversation and its output items by id. */
  put(responseId: string, items: readonly HistoryItem[], outputs: readonly (readonly [string, HistoryItem])[]): Promise<void>;
  /** The conversation a stored response ended with; undefined when unknown or evicted. */
  get(responseId: string): Promise<readonly HistoryItem[] | undefined>;
  /** An output item of a stored response, by its own id (`msg_…`, `fc_…`). */
  item(itemId: string): Promise<HistoryItem | undefined>;
  delete(responseId: string): Promise<boolean>;
  clear(): Promise<void>;
}

/** An OpenAI Conversations conversation as the API shows it (`object: "conversation"` is added when rendered). */
export interface StoredConversation {
  id: string;
  created_at: number;
  metadata: Readonly<Record<string, string>>;
}

/** A conversation item or a response's input item as the API shows it: a Responses item with its `id`. */
export type StoredItem = Readonly<Record<string, unknown>> & { readonly id: string };

/** OpenAI Conversations: conversations and their items, in the order they were added. */
export interface ConversationStore {
  create(conversation: StoredConversation, items: readonly StoredItem[]): Promise<void>;
  get(id: string): Promise<StoredConversation | undefined>;
  /** Replaces the metadata; undefined when the conversation is unknown. */
  update(id: string, metadata: Readonly<Record<string, string>>): Promise<StoredConversation | undefined>;
  delete(id: string): Promise<boolean>;
  /** Adds items at the end; false when the conversation is unknown. */
  append(id: string, items: readonly StoredItem[]): Promise<boolean>;
  /** All items, oldest first; undefined when the conversation is unknown. */
  items(id: string): Promise<readonly StoredItem[] | undefined>;
  /** Removes one item; false when the conversation or the item is unknown. */
  deleteItem(id: string, itemId: string): Promise<boolean>;
  clear(): Promise<void>;
}

/** A stored response as GET /v1/responses/{id} shows it, with the input items it was given. */
export interface StoredResponse {
  response: Readonly<Record<string, unknown>>;
  inputItems: readonly StoredItem[];
}

/** Stored Responses objects (GET, DELETE, cancel and input_items of /v1/responses/{id}). */
export interface StoredResponseStore {
  put(id: string, stored: StoredResponse): Promise<void>;
  get(id: string): Promise<StoredResponse | undefined>;
  delete(id: string): Promise<boolean>;
  clear(): Promise<void>;
}

export type { PromptCacheStore } from '../engine/prompt-cache.ts';

/** How a networked store's connection is doing, for /readyz, the metrics and the logs. */
export interface StateBackendStatus {
  /** `redis`. */
  kind: string;
  /** Where it is, with any password masked. */
  target: string;
  connected: boolean;
  /** What went wrong last, while not connected. */
  error: string | null;
  /** When `connected` last changed (ISO time). */
  since: string;
  /** True while sequence steps are counted in this process because the store did not answer. */
  countingLocally: boolean;
}

/** One server's state. `/admin/reset` clears all of it. */
export interface StateStores {
  overlay: AdminOverlay;
  sequences: SequenceCounters;
  journal: RequestJournal;
  responses: ResponseHistoryStore;
  /** OpenAI Conversations and stored Responses objects. */
  conversations: ConversationStore;
  storedResponses: StoredResponseStore;
  /** The prompt-cache simulation's live prefixes (`settings.prompt_cache`). */
  promptCache: PromptCacheStore;
  /** A networked store's connection (absent when the state is in this process's memory). */
  backend?: { status(): StateBackendStatus };
  close(): Promise<void>;
}
