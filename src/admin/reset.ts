import type { RuleStore } from '../engine/store.ts';
import type { StateStores } from '../state/types.ts';

/**
 * Back to exactly what the config says: the admin overlay, sequence progress and hit counts, the
 * journal, the stored Responses history and objects, the Conversations and the simulated prompt cache. POST /admin/reset and the library's reset() both call this.
 */
export async function resetAll(store: RuleStore, state: StateStores): Promise<void> {
  await store.reset();
  await Promise.all([state.journal.clear(), state.responses.clear(), state.conversations.clear(), state.storedResponses.clear(), state.promptCache.clear()]);
}
