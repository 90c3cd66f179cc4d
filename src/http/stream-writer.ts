import type { ServerResponse } from 'node:http';
import { constants as http2Constants, type Http2Stream } from 'node:http2';
import { systemClock, type Clock } from '../engine/clock.ts';

/**
 * Marks the next frame as a content chunk (a piece of the answer), as opposed to protocol frames
 * (start, stop, usage). The writer counts them, paces them and injects faults before them.
 */
export const CONTENT_CHUNK = Symbol('content-chunk');
/** A frame as it goes on the wire (text, or bytes for binary framings), or the content marker. */
export type StreamItem = string | Uint8Array | typeof CONTENT_CHUNK;

/** How many characters of text frames are joined into one write at most. */
const JOIN_LIMIT = 16 * 1024;

export type StreamOutcome = 'completed' | 'aborted' | 'failed';

export interface StreamResult {
  outcome: StreamOutcome;
  contentChunks: number;
}

export interface StreamPlan {
  /** Milliseconds to wait before each content chunk, asked once per chunk in order. */
  delayBeforeChunk?: () => number;
  /** After this many content chunks (right after the last one's frame) the stream fails. */
  fault?: { afterChunks: number; mode: 'error_event' | 'disconnect'; errorFrame: () => string | Uint8Array };
  /** Whose time the delays are measured on (the system's unless a test injects one). */
  clock?: Clock;
  /**
   * Awaited after the last frame is written and before the response ends: state writes the answer
   * depends on (a stored response another replica may be asked for next) land before the client,
   * which reads to the end, can use them.
   */
  beforeEnd?: () => Promise<unknown>;
}

/**
 * The one stream writer for every provider and framing (SSE, NDJSON, a JSON array, binary event
 * stream frames: see framing.ts; the frames arrive already framed). Frames go out as the encoder produces them; frames
 * produced in one tick share one write (the socket is corked), and a full socket buffer pauses the encoder until it
 * drains, so a slow reader cannot make the server buffer a whole answer. Delays are kept on an
 * absolute schedule (no drift from timer lateness) and are cancelled the moment the client goes
 * away, so an abandoned stream leaves no timer or listener behind.
 */
export async function writeStream(res: ServerResponse, frames: Iterator<StreamItem>, plan: StreamPlan = {}): Promise<StreamResult> {
  const clock = plan.clock ?? systemClock;
  let contentChunks = 0;
  const h2 = http2StreamOf(res);
  if (isGone(res, h2)) return { outcome: 'aborted', contentChunks };
  const gone = new AbortController();
  const onClose = () => gone.abort();
  res.once('close', onClose);
  let due = clock.now();
  // True between a content marker and the frame it marks, which must go out whole.
  let contentFramePending = false;
  // The socket is corked, not the response: Node's OutgoingMessage.uncork() hands each buffered
  // frame to the socket as a write of its own (one syscall per frame, most of a fast stream's CPU),
  // while a corked socket sends one tick's frames in a single writev.
  // On HTTP/2 (h2c) the HTTP/2 stream is corked instead: the connection's socket is shared and
  // written by the session below the JS layer; a corked stream hands one tick's frames over at once.
  const socket = res.socket;
  if (!socket) return { outcome: 'aborted', contentChunks };
  const corked = h2 ?? socket;
  const cork = () => corked.cork();
  const uncork = () => {
    while (corked.writableCorked) corked.uncork();
  };
  // An HTTP/2 disconnect resets the stream, which drops whatever is still queued in it: the reset
  // waits for the last frame's write callback, so what was sent before the fault arrives.
  let lastFrameOut: Promise<unknown> | undefined;
  const send =
    h2 && plan.fault?.mode === 'disconnect'
      ? (frame: string | Uint8Array) => {
          let ok = true;
          lastFrameOut = new Promise((resolve) => {
            ok = res.write(frame, resolve);
          });
          return ok;
        }
      : (frame: string | Uint8Array) => res.write(frame);
  // Text frames are joined and written JOIN_LIMIT characters at a time: each res.write on a chunked
  // response is four socket writes (size, CRLF, data, CRLF) that the socket then gathers one by one,
  // so a frame per write was most of a fast stream's CPU (issue 17: the bare writer joining frames
  // served 3.5× the streams of one writing frame by frame). What is joined goes out before every
  // wait (a delay, a full socket), before a binary frame, a fault and the end: pacing and order are
  // as they were.
  let joined = '';
  const flush = () => {
    if (joined === '') return true;
    const text = joined;
    joined = '';
    return send(text);
  };
  const write = (frame: string | Uint8Array) => {
    if (typeof frame !== 'string') return flush() && send(frame);
    joined += frame;
    return joined.length < JOIN_LIMIT || flush();
  };
  cork();
  try {
    for (let item = frames.next(); !item.done; item = frames.next()) {
      if (isGone(res, h2)) return { outcome: 'aborted', contentChunks };
      if (item.value === CONTENT_CHUNK) {
        if (plan.fault && contentChunks >= plan.fault.afterChunks) {
          flush();
          return await fail(res, h2, plan.fault, contentChunks, lastFrameOut);
        }
        contentChunks++;
        contentFramePending = true;
        const delay = plan.delayBeforeChunk?.() ?? 0;
        if (delay > 0) {
          due += delay;
          const wait = due - clock.now();
          if (wait > 0) {
            const ok = flush();
            uncork();
            if (!ok && !(await drained(res, h2))) return { outcome: 'aborted', contentChunks };
            const left = ok ? wait : due - clock.now();
            if (left > 0 && !(await clock.sleep(left, gone.signal))) return { outcome: 'aborted', contentChunks };
            cork();
          }
        }
        continue;
      }
      const wasContent = contentFramePending;
      contentFramePending = false;
      if (!write(item.value)) {
        uncork();
        if (!(await drained(res, h2))) return { outcome: 'aborted', contentChunks };
        cork();
      }
      // The last allowed content frame is out: fail before pulling the next frame. Waiting for the
      // next content marker would let the finish through when the answer has no more content, so a
      // fault at its last chunk would never fire; and an encoder's error frame may number itself
      // after the frames pulled so far.
      if (wasContent && plan.fault && contentChunks >= plan.fault.afterChunks) {
        flush();
        return await fail(res, h2, plan.fault, contentChunks, lastFrameOut);
      }
    }
    flush();
    uncork();
    if (plan.beforeEnd) await plan.beforeEnd().catch(() => {});
    res.end();
    return { outcome: 'completed', contentChunks };
  } finally {
    res.off('close', onClose);
    frames.return?.();
    uncork();
  }
}

/**
 * The HTTP/2 stream under Node's compat response, when the request came over h2c. There `res.socket`
 * is a proxy to the whole connection's socket: its cork, drain and end are not this stream's.
 */
function http2StreamOf(res: ServerResponse): Http2Stream | undefined {
  return (res as unknown as { stream?: Http2Stream }).stream;
}

function isGone(res: ServerResponse, h2: Http2Stream | undefined): boolean {
  return h2 ? h2.destroyed || h2.closed : res.destroyed;
}

async function fail(
  res: ServerResponse,
  h2: Http2Stream | undefined,
  fault: NonNullable<StreamPlan['fault']>,
  contentChunks: number,
  lastFrameOut: Promise<unknown> | undefined,
): Promise<StreamResult> {
  const corked = h2 ?? res.socket;
  if (fault.mode === 'error_event') {
    res.write(fault.errorFrame());
    while (corked?.writableCorked) corked.uncork();
    res.end();
  } else if (h2) {
    // HTTP/2: what was written goes out, then RST_STREAM (RFC 9113 §6.4) instead of END_STREAM; the
    // connection, shared with other streams, stays up.
    while (h2.writableCorked) h2.uncork();
    await lastFrameOut;
    h2.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
  } else {
    // Flush what was sent, then close the socket with no terminator: the client sees a broken stream.
    while (res.socket?.writableCorked) res.socket.uncork();
    const socket = res.socket;
    if (socket) socket.end(() => socket.destroy());
    else res.destroy();
  }
  return { outcome: 'failed', contentChunks };
}

/**
 * Resolves true when the client can take more data, false when it went away first.
 *
 * Backpressure is read from the socket, which is what is corked and what really buffers: the
 * response's own need-drain flag can stay set with nothing buffered, and its 'drain' then never
 * comes, so waiting on it would hang the stream.
 */
function drained(res: ServerResponse, h2: Http2Stream | undefined): Promise<boolean> {
  // On HTTP/2 the stream is what buffers (flow control per stream), and its own 'drain' says when.
  const socket = h2 ?? res.socket;
  if (res.destroyed || !socket || socket.destroyed) return Promise.resolve(false);
  if (!socket.writableNeedDrain) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onDrain = () => done(true);
    const onClose = () => done(false);
    function done(ok: boolean) {
      socket!.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    }
    socket.on('drain', onDrain);
    res.on('close', onClose);
  });
}
