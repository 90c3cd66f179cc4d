// Deadline-bound polling, never a fixed sleep. Kept free of the server's source so that tests
// driving the server as a separate process (test/deploy) can use it without loading it.
import { DeadlineError, withDeadline } from './deadline.ts';

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown> | null)?.then === 'function';

/**
 * Polls until `check` returns a truthy value, failing at the deadline: a check that itself never
 * settles is abandoned when the time is up, so the poll always ends by `timeoutMs`.
 */
export async function eventually<T>(check: () => T | Promise<T>, { timeoutMs = 15_000, intervalMs = 20, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  const fail = () => new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
  for (;;) {
    try {
      // A synchronous check runs with no timer of ours pending (some count the process's timers).
      const result = check();
      const value = isPromiseLike(result) ? await withDeadline(Promise.resolve(result), Math.max(1, deadline - Date.now()), what) : result;
      if (value) return value;
    } catch (error) {
      // Our deadline on a check that did not settle (a check's own DeadlineError before then is just an error).
      if (error instanceof DeadlineError && Date.now() >= deadline - 1) throw fail();
      lastError = error;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw fail();
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }
}
