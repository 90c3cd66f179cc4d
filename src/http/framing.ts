import { CONTENT_CHUNK, type StreamItem } from './stream-writer.ts';

/**
 * How a stream is framed on the wire: its headers, and the punctuation between frames. Encoders
 * yield whole frames in their framing (an SSE event, an NDJSON line, one JSON array element, one
 * binary event-stream message); a framing only adds what lies between and around them.
 */
export interface Framing {
  readonly name: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Adds the framing's punctuation around the encoder's frames; absent when frames stand alone. */
  wrap?(frames: Iterator<StreamItem>): Iterator<StreamItem>;
}

/** Server-sent events (OpenAI, Anthropic, Gemini with `alt=sse`). */
export const SSE: Framing = {
  name: 'sse',
  headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' },
};

/** Newline-delimited JSON: one object per line (Ollama). */
export const NDJSON: Framing = {
  name: 'ndjson',
  headers: { 'content-type': 'application/x-ndjson' },
};

/**
 * One JSON array streamed element by element (Gemini's streamGenerateContent without `alt=sse`):
 * `[` before the first element, `,` between elements, `]` at the end.
 */
export const JSON_ARRAY: Framing = {
  name: 'json-array',
  headers: { 'content-type': 'application/json; charset=utf-8' },
  *wrap(frames) {
    let first = true;
    for (let item = frames.next(); !item.done; item = frames.next()) {
      if (item.value === CONTENT_CHUNK) {
        yield item.value;
        continue;
      }
      yield first ? `[${String(item.value)}` : `,\r\n${String(item.value)}`;
      first = false;
    }
    yield first ? '[]' : ']';
  },
};

/** AWS event stream binary messages (Bedrock's *-stream operations); the encoder writes whole messages. */
export const EVENT_STREAM: Framing = {
  name: 'eventstream',
  headers: { 'content-type': 'application/vnd.amazon.eventstream' },
};
