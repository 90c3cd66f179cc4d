import type { Baseline } from '../engine/rules.ts';
import { RuleStore } from '../engine/store.ts';
import { MemoryJournal } from './journal.ts';
import { MemoryConversations, MemoryStoredResponses } from './conversations.ts';
import { MemoryResponseHistory } from './response-history.ts';
import { MemoryPromptCache } from './prompt-cache.ts';
import type { AdminOverlay, OverlayChange, OverlaySnapshot, SequenceCounters, StateStores } from './types.ts';

const EMPTY: OverlaySnapshot = { version: 0, created: [], replaced: [], deleted: [] };

/** Applies one change to a snapshot: the one definition of what each change means, for every store. */
export function applyOverlayChange(snapshot: OverlaySnapshot, change: OverlayChange): OverlaySnapshot {
  const version = snapshot.version + 1;
  switch (change.op) {
    case 'reset':
      return { ...EMPTY, version };
    case 'create':
      return { ...snapshot, version, created: [change.entry, ...snapshot.created.filter((e) => e.id !== change.entry.id)] };
    case 'replace': {
      const { entry } = change;
      if (change.created) return { ...snapshot, version, created: snapshot.created.map((e) => (e.id === entry.id ? entry : e)) };
      return { ...snapshot, version, replaced: [...snapshot.replaced.filter((e) => e.id !== entry.id), entry] };
    }
    case 'delete':
      if (change.created) return { ...snapshot, version, created: snapshot.created.filter((e) => e.id !== change.id) };
      return {
        ...snapshot,
        version,
        replaced: snapshot.replaced.filter((e) => e.id !== change.id),
        deleted: snapshot.deleted.includes(change.id) ? snapshot.deleted : [...snapshot.deleted, change.id],
      };
    case 'revert':
      return { ...snapshot, version, replaced: snapshot.replaced.filter((e) => e.id !== change.id), deleted: snapshot.deleted.filter((id) => id !== change.id) };
  }
}

export class MemoryOverlay implements AdminOverlay {
  #snapshot: OverlaySnapshot = EMPTY;

  snapshot(): OverlaySnapshot {
    return this.#snapshot;
  }

  async apply(change: OverlayChange): Promise<OverlaySnapshot> {
    this.#snapshot = applyOverlayChange(this.#snapshot, change);
    return this.#snapshot;
  }

  // Only this server writes an in-memory overlay, so no change ever comes from elsewhere.
  subscribe(): () => void {
    return () => {};
  }
}

export class MemorySequenceCounters implements SequenceCounters {
  readonly #calls = new Map<string, number>();

  async next(ruleId: string): Promise<number> {
    const calls = this.#calls.get(ruleId) ?? 0;
    this.#calls.set(ruleId, calls + 1);
    return calls;
  }

  async peek(ruleId: string): Promise<number> {
    return this.#calls.get(ruleId) ?? 0;
  }

  async reset(ruleIds?: readonly string[]): Promise<void> {
    if (ruleIds === undefined) this.#calls.clear();
    else for (const id of ruleIds) this.#calls.delete(id);
  }
}

export interface MemoryStateOptions {
  journalSize: number;
}

/** The state of one server in its own memory: what every server uses unless told to share it. */
export function createMemoryState(options: MemoryStateOptions): StateStores {
  const journal = new MemoryJournal(options.journalSize);
  return {
    overlay: new MemoryOverlay(),
    sequences: new MemorySequenceCounters(),
    journal,
    responses: new MemoryResponseHistory(),
    conversations: new MemoryConversations(),
    storedResponses: new MemoryStoredResponses(),
    promptCache: new MemoryPromptCache(),
    // Ends the journal's live subscriptions (GET /admin/requests/stream), so open streams do not hold the server's close.
    close: async () => journal.close(),
  };
}

/** A rule store over in-memory state, for embedding the core without a server (tests, benchmarks). */
export function ruleStoreInMemory(baseline: Baseline): RuleStore {
  return new RuleStore(baseline, new MemoryOverlay(), new MemorySequenceCounters());
}
