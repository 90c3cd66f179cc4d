// Small helpers shared by the rules tests: journal look-ups, sequence resets, deadlines.
import assert from 'node:assert/strict';
import type { JournalEntry } from '../../src/admin/journal.ts';

/** A GET /admin/requests entry. */
export type JournalRow = JournalEntry;

/** Journal entries (oldest first) answered by one rule. */
export async function journalOf(server: { url: string }, ruleId: string): Promise<JournalRow[]> {
  const res = await fetch(`${server.url}/admin/requests`);
  assert.equal(res.status, 200);
  const { requests } = (await res.json()) as { requests: JournalRow[] };
  return requests.filter((r) => r.ruleId === ruleId).reverse();
}

/**
 * Restarts every sequence. Prefers `POST /admin/sequences/reset`, which only rewinds sequences;
 * when a server does not have it yet, `POST /admin/reset` rewinds them too (and drops admin
 * rules and the journal). Returns the route used, so a test can say which one it relied on.
 */
export async function resetSequences(server: { url: string }): Promise<'/admin/sequences/reset' | '/admin/reset'> {
  const res = await fetch(`${server.url}/admin/sequences/reset`, { method: 'POST' });
  if (res.status === 204) return '/admin/sequences/reset';
  assert.equal(res.status, 404, `POST /admin/sequences/reset answered ${res.status}`);
  const fallback = await fetch(`${server.url}/admin/reset`, { method: 'POST' });
  assert.equal(fallback.status, 204);
  return '/admin/reset';
}

/** Settles with the promise, or rejects once `ms` have passed: a broken stream must never hang a test. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The rejection of a promise that must reject (within a deadline); fails the test if it resolves. */
export async function rejectionOf(ms: number, what: string, promise: Promise<unknown>): Promise<unknown> {
  try {
    await within(ms, what, promise);
  } catch (error) {
    if (error instanceof Error && error.message === `${what} did not settle within ${ms} ms`) throw error;
    return error;
  }
  assert.fail(`${what} succeeded; expected it to fail`);
}
