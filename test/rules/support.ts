// Small helpers shared by the rules tests: journal look-ups and sequence resets (deadlines are in
// test/helpers/deadline.ts).
import assert from 'node:assert/strict';
import type { JournalEntry } from '../../src/state/journal.ts';

/** A GET /admin/requests entry. */
export type JournalRow = JournalEntry;

/** Journal entries (oldest first) answered by one rule. */
export async function journalOf(server: { url: string }, ruleId: string): Promise<JournalRow[]> {
  const res = await fetch(`${server.url}/admin/requests`);
  assert.equal(res.status, 200);
  const { requests } = (await res.json()) as { requests: JournalRow[] };
  return requests.filter((r) => r.ruleId === ruleId).reverse();
}

/** Restarts every sequence through `POST /admin/sequences/reset` (admin rules and the journal stay). */
export async function resetSequences(server: { url: string }): Promise<void> {
  const res = await fetch(`${server.url}/admin/sequences/reset`, { method: 'POST' });
  assert.equal(res.status, 204, `POST /admin/sequences/reset answered ${res.status}: ${await res.text()}`);
}
