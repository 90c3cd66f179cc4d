// Splits an upstream's streamed body into frames as it arrives, noting when each one came, so a
// recorder can read the answer frame by frame and time its content. Only for recording: the bytes
// themselves go to the client untouched, as they arrive.
import type { UpstreamFrame } from '../providers/provider.ts';

export interface FrameSplitter {
  /** Text as it arrives; `atMs` is when it did (ms from the request). */
  push(text: string, atMs: number): void;
  /** The frames so far; a partial frame at the end (a stream cut mid-frame) is left out. */
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

/** The splitter for a response's content type, or undefined for a body that is one document. */
export function splitterFor(contentType: string | undefined): FrameSplitter | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/event-stream') return sseSplitter();
  if (type === 'application/x-ndjson' || type === 'application/jsonl' || type === 'application/json-seq') return ndjsonSplitter();
  return undefined;
}
