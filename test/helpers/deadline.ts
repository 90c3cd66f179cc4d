// One deadline wrapper for every await that must not hang a test. Free of imports, like poll.ts,
// so that tests driving the server as a separate process can use it without loading its source.

/** The rejection of withDeadline when time runs out (a hang), as opposed to the promise's own. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/** Settles with `promise`, or rejects with a DeadlineError once `ms` have passed. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The rejection of a promise that must reject within `ms`; throws if it resolves or hangs. */
export async function rejectionOf(promise: Promise<unknown>, ms: number, what: string): Promise<unknown> {
  try {
    await withDeadline(promise, ms, what);
  } catch (error) {
    if (error instanceof DeadlineError) throw error;
    return error;
  }
  throw new Error(`${what} succeeded; expected it to fail`);
}
