import type { ServerResponse } from 'node:http';

/**
 * Marks the next frame as a content chunk (a piece of the answer), as opposed to protocol frames
 * (start, stop, usage). The writer counts them; pacing and mid-stream faults hook in here.
 */
export const CONTENT_CHUNK = Symbol('content-chunk');
export type StreamItem = string | typeof CONTENT_CHUNK;

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
} as const;

export type StreamOutcome = 'completed' | 'aborted';

export interface StreamResult {
  outcome: StreamOutcome;
  contentChunks: number;
}

/**
 * The one SSE writer for every provider. Frames are written as the encoder produces them; frames
 * produced in one tick share one corked write, and a full socket buffer pauses the encoder until
 * it drains, so a slow reader cannot make the server buffer a whole answer. A client that goes
 * away stops the encoder at once.
 */
export async function writeEventStream(res: ServerResponse, frames: Iterator<StreamItem>): Promise<StreamResult> {
  let contentChunks = 0;
  if (res.destroyed) return { outcome: 'aborted', contentChunks };
  res.cork();
  try {
    for (let item = frames.next(); !item.done; item = frames.next()) {
      if (res.destroyed) return { outcome: 'aborted', contentChunks };
      if (item.value === CONTENT_CHUNK) {
        contentChunks++;
        continue;
      }
      if (!res.write(item.value)) {
        res.uncork();
        if (!(await drained(res))) return { outcome: 'aborted', contentChunks };
        res.cork();
      }
    }
    res.uncork();
    res.end();
    return { outcome: 'completed', contentChunks };
  } finally {
    frames.return?.();
    if (res.writableCorked) res.uncork();
  }
}

/** Resolves true when the response can take more data, false when the client went away first. */
function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onDrain = () => done(true);
    const onClose = () => done(false);
    function done(ok: boolean) {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    }
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
