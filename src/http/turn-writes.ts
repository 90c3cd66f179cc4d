import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
// The timers module's own function, not the global one: a library user's fake timers (Jest's,
// Vitest's) replace the global, and would hold every answer until the test advanced them.
import { setImmediate } from 'node:timers';

/**
 * Answers finished in one turn of the event loop leave together at the end of its I/O phase
 * (Node's check phase), at most MAX_WAITING at a time. Under load a server answers many requests
 * per turn; written as each is ready, every answer's `write(2)` has to wake a client that went to
 * sleep after the previous one (a cross-CPU wake-up, the costliest part of a write on a small VM),
 * where back to back they find it awake. Measured in S1 (docs/benchmarks.md): +9% (OpenAI) and
 * +20% (Anthropic) requests/s.
 * A lone request's answer waits for nothing but the end of its own I/O callback.
 */
const MAX_WAITING = 16;

type Response = ServerResponse | Http2ServerResponse;

let waiting: { res: Response; text: string }[] = [];

function writeWaiting(): void {
  const answers = waiting;
  waiting = [];
  for (const { res, text } of answers) {
    // The client may have gone in the meantime: ending a destroyed response is a no-op, not an error.
    if (!res.writableEnded) res.end(text);
  }
}

/** Ends the response with this text at the end of the turn (or at once when MAX_WAITING are waiting). */
export function endAtTurnEnd(res: Response, text: string): void {
  if (waiting.length === 0) setImmediate(writeWaiting);
  waiting.push({ res, text });
  if (waiting.length >= MAX_WAITING) writeWaiting();
}
