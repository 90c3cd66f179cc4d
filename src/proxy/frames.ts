// Splits an upstream's streamed body into frames as it arrives, noting when each one came, so a
// recorder can read the answer frame by frame and time its content. Only for recording: the bytes
// themselves go to the client untouched, as they arrive.
import { crc32 } from 'node:zlib';
import type { UpstreamFrame } from '../providers/provider.ts';

export interface FrameSplitter {
  /** Text as it arrives; `atMs` is when it did (ms from the request). */
  push(text: string, atMs: number): void;
  /**
   * The frames so far; a partial frame at the end (a stream cut mid-frame) is left out. Undefined
   * when the body turned out to be one document after all (a JSON object where an array could be).
   */
  readonly frames: readonly UpstreamFrame[] | undefined;
}

/** A splitter for a binary framing: it takes the bytes themselves, not text. */
export interface BinaryFrameSplitter {
  pushBytes(bytes: Uint8Array, atMs: number): void;
  readonly frames: readonly UpstreamFrame[];
}

/**
 * Server-sent events (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * events end with a blank line; lines are `field: value`; several `data` lines join with `\n`;
 * comment lines (`:`) are ignored. Lines may end with CRLF, LF or CR.
 */
export function sseSplitter(): FrameSplitter {
  const frames: UpstreamFrame[] = [];
  let pending = '';
  let event: string | undefined;
  let data: string[] = [];
  const line = (text: string, atMs: number) => {
    if (text === '') {
      if (data.length > 0 || event !== undefined) frames.push({ ...(event !== undefined && { event }), data: data.join('\n'), atMs });
      event = undefined;
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };
  return {
    frames,
    push(text, atMs) {
      pending += text;
      for (;;) {
        const match = /\r\n|\n|\r/.exec(pending);
        // A lone CR at the very end may be the first half of a CRLF still to come.
        if (!match || (match[0] === '\r' && match.index === pending.length - 1)) break;
        line(pending.slice(0, match.index), atMs);
        pending = pending.slice(match.index + match[0].length);
      }
    },
  };
}

/** Newline-delimited JSON: one frame per non-empty line. */
export function ndjsonSplitter(): FrameSplitter {
  const frames: UpstreamFrame[] = [];
  let pending = '';
  return {
    frames,
    push(text, atMs) {
      pending += text;
      let end: number;
      while ((end = pending.indexOf('\n')) !== -1) {
        const data = pending.slice(0, end).trim();
        pending = pending.slice(end + 1);
        if (data !== '') frames.push({ data, atMs });
      }
    },
  };
}

/**
 * A JSON array streamed element by element (Gemini's `:streamGenerateContent` without `alt=sse`,
 * https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent): one frame per
 * top-level element, when its last character arrives. A body that does not open with `[` is one
 * document: `frames` is then undefined.
 */
export function jsonArraySplitter(): FrameSplitter {
  const frames: UpstreamFrame[] = [];
  let state: 'before' | 'array' | 'document' = 'before';
  let element = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  const end = (atMs: number) => {
    const data = element.trim();
    if (data !== '') frames.push({ data, atMs });
    element = '';
  };
  // `frames` is a plain property set when the body turns out to be one document, not a getter:
  // an object literal's getter closing over per-request state keeps that state reachable from
  // V8's old generation, so every request's objects would be promoted (docs/benchmarks.md, S1).
  const splitter: { frames: UpstreamFrame[] | undefined; push: FrameSplitter['push'] } = {
    frames,
    push(text, atMs) {
      for (const c of text) {
        if (state === 'document') return;
        if (state === 'before') {
          if (/\s/.test(c) || c === '\uFEFF') continue;
          state = c === '[' ? 'array' : 'document';
          if (state === 'document') splitter.frames = undefined;
          continue;
        }
        if (inString) {
          element += c;
          if (escaped) escaped = false;
          else if (c === '\\') escaped = true;
          else if (c === '"') inString = false;
          continue;
        }
        if (depth === 0 && (c === ',' || c === ']')) {
          end(atMs);
          continue;
        }
        element += c;
        if (c === '"') inString = true;
        else if (c === '{' || c === '[') depth++;
        else if (c === '}' || c === ']') {
          depth--;
          // An object or array element is whole at its closing bracket: its frame is timed then, not at the next comma.
          if (depth === 0) end(atMs);
        }
      }
    },
  };
  return splitter;
}

const EVENT_STREAM_PRELUDE = 12;
const EVENT_STREAM_CRC = 4;

/**
 * AWS event stream messages (`application/vnd.amazon.eventstream`, Bedrock's ConverseStream and
 * InvokeModelWithResponseStream; API-FORMATS §17): total length, headers length, prelude CRC32,
 * headers, payload, message CRC32. A frame's `event` is the `:event-type` of an event, or the
 * message type (`exception`, `error`) of anything else; `data` is the payload as text. A message
 * whose lengths or checksums are wrong ends the frames: what follows cannot be trusted.
 */
export function eventStreamSplitter(): BinaryFrameSplitter {
  const frames: UpstreamFrame[] = [];
  let pending = Buffer.alloc(0);
  let broken = false;
  return {
    frames,
    pushBytes(bytes, atMs) {
      if (broken) return;
      pending = pending.length === 0 ? Buffer.from(bytes) : Buffer.concat([pending, bytes]);
      while (pending.length >= EVENT_STREAM_PRELUDE) {
        const total = pending.readUInt32BE(0);
        const headersLength = pending.readUInt32BE(4);
        if (total < EVENT_STREAM_PRELUDE + EVENT_STREAM_CRC + headersLength || crc32(pending.subarray(0, 8)) !== pending.readUInt32BE(8)) {
          broken = true;
          return;
        }
        if (pending.length < total) return;
        const message = pending.subarray(0, total);
        pending = pending.subarray(total);
        if (crc32(message.subarray(0, total - EVENT_STREAM_CRC)) !== message.readUInt32BE(total - EVENT_STREAM_CRC)) {
          broken = true;
          return;
        }
        const headers = eventStreamHeaders(message.subarray(EVENT_STREAM_PRELUDE, EVENT_STREAM_PRELUDE + headersLength));
        if (!headers) {
          broken = true;
          return;
        }
        const type = headers[':message-type'] ?? 'event';
        frames.push({ event: type === 'event' ? (headers[':event-type'] ?? '') : type, data: message.toString('utf8', EVENT_STREAM_PRELUDE + headersLength, total - EVENT_STREAM_CRC), atMs });
      }
    },
  };
}

/** Value lengths of the event stream's header types (0–9), for those of fixed size; `null`: two length bytes first. */
const HEADER_VALUE_SIZE: readonly (number | null)[] = [0, 0, 1, 2, 4, 8, null, null, 8, 16];

/** The string-valued headers of one message; other types are skipped. Undefined when the block does not parse. */
function eventStreamHeaders(block: Buffer): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  let at = 0;
  while (at < block.length) {
    const nameLength = block[at]!;
    const name = block.toString('utf8', at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    const type = block[at];
    if (type === undefined || type >= HEADER_VALUE_SIZE.length) return undefined;
    at += 1;
    let size = HEADER_VALUE_SIZE[type]!;
    if (size === null) {
      if (at + 2 > block.length) return undefined;
      size = block.readUInt16BE(at);
      at += 2;
      if (type === 7) headers[name] = block.toString('utf8', at, at + size);
    }
    at += size;
  }
  return at === block.length ? headers : undefined;
}

/** The splitter for a response's content type, or undefined for a body that is one document. */
export function splitterFor(contentType: string | undefined, streamed = false): FrameSplitter | BinaryFrameSplitter | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/event-stream') return sseSplitter();
  if (type === 'application/x-ndjson' || type === 'application/jsonl' || type === 'application/json-seq') return ndjsonSplitter();
  if (type === 'application/vnd.amazon.eventstream') return eventStreamSplitter();
  // A streamed request answered with JSON: an array streamed element by element, or one document.
  if (streamed && type === 'application/json') return jsonArraySplitter();
  return undefined;
}
