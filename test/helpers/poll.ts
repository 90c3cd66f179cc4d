// Deadline-bound polling, never a fixed sleep. Kept free of the server's source so that tests
// driving the server as a separate process (test/deploy) can use it without loading it.
import { DeadlineError, withDeadline } from './deadline.ts';

/**
 * Polls until `check` returns a truthy value, failing at the deadline: a check that itself never
 * settles is abandoned when the time is up, so the poll always ends by `timeoutMs`.
 */
export async function eventually<T>(check: () => T | Promise<T>, { timeoutMs = 5000, intervalMs = 20, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  const fail = () => new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
  for (;;) {
    try {
      const value = await withDeadline(Promise.resolve().then(check), Math.max(1, deadline - Date.now()), what);
      if (value) return value;
    } catch (error) {
      if (error instanceof DeadlineError) throw fail();
      lastError = error;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw fail();
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }
}
