// OpenAI Conversations (POST /v1/conversations and its items) and stored Responses objects
// (GET /v1/responses/{id}), kept in this process's memory and bounded: the real API keeps them
// until deleted, a mock keeps the most recent ones. The Redis store (redis/conversations.ts) keeps
// a copy here too, for when Redis does not answer.
import type { ConversationStore, StoredConversation, StoredItem, StoredResponse, StoredResponseStore } from './types.ts';

/** Default bounds: the last 1000 conversations touched, the last 1000 stored responses. */
export const CONVERSATIONS_MAX = 1000;
export const STORED_RESPONSES_MAX = 1000;

interface Entry {
  conversation: StoredConversation;
  items: StoredItem[];
}

/** Least recently used first out: every read or write of a conversation keeps it. */
export class MemoryConversations implements ConversationStore {
  readonly #entries = new Map<string, Entry>();
  readonly max: number;

  constructor(max = CONVERSATIONS_MAX) {
    this.max = max;
  }

  #touch(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    return entry;
  }

  async create(conversation: StoredConversation, items: readonly StoredItem[]): Promise<void> {
    this.#entries.delete(conversation.id);
    this.#entries.set(conversation.id, { conversation, items: [...items] });
    for (const id of this.#entries.keys()) {
      if (this.#entries.size <= this.max) break;
      this.#entries.delete(id);
    }
  }

  async get(id: string): Promise<StoredConversation | undefined> {
    return this.#touch(id)?.conversation;
  }

  async update(id: string, metadata: Readonly<Record<string, string>>): Promise<StoredConversation | undefined> {
    const entry = this.#touch(id);
    if (!entry) return undefined;
    entry.conversation = { ...entry.conversation, metadata };
    return entry.conversation;
  }

  async delete(id: string): Promise<boolean> {
    return this.#entries.delete(id);
  }

  async append(id: string, items: readonly StoredItem[]): Promise<boolean> {
    const entry = this.#touch(id);
    if (!entry) return false;
    entry.items.push(...items);
    return true;
  }

  async items(id: string): Promise<readonly StoredItem[] | undefined> {
    const entry = this.#touch(id);
    return entry ? [...entry.items] : undefined;
  }

  async deleteItem(id: string, itemId: string): Promise<boolean> {
    const entry = this.#touch(id);
    const at = entry?.items.findIndex((item) => item.id === itemId) ?? -1;
    if (at < 0) return false;
    entry!.items.splice(at, 1);
    return true;
  }

  async clear(): Promise<void> {
    this.#entries.clear();
  }
}

export class MemoryStoredResponses implements StoredResponseStore {
  readonly #entries = new Map<string, StoredResponse>();
  readonly max: number;

  constructor(max = STORED_RESPONSES_MAX) {
    this.max = max;
  }

  async put(id: string, stored: StoredResponse): Promise<void> {
    this.#entries.delete(id);
    this.#entries.set(id, stored);
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.max) break;
      this.#entries.delete(key);
    }
  }

  async get(id: string): Promise<StoredResponse | undefined> {
    return this.#entries.get(id);
  }

  async delete(id: string): Promise<boolean> {
    return this.#entries.delete(id);
  }

  async clear(): Promise<void> {
    this.#entries.clear();
  }
}
