// SSE load clients on raw TCP sockets: streamLoad (S2, back-to-back streams on keep-alive
// connections) and pacedStreams (S3, S6, many slow streams at once, one connection each).
// Node's HTTP client raises one 'data' event per chunk of a chunked response, and an SSE server
// writes one chunk per frame: at 1,000 frames per answer the client, not the server, would be what
// S2 measures. Here the client reads whatever TCP hands it,
// counts frames as "\n\n" without parsing them, and finds the end of a response by the chunked
// terminator, so it costs far less than the server it measures.
import { connect, type Socket } from 'node:net';

export interface StreamRequest {
  url: string;
  path: string;
  body: string;
  headers: Record<string, string>;
}

const NEWLINE = 10;
const HEADERS_END = Buffer.from('\r\n\r\n');
// The last data chunk's CRLF, the zero-size chunk, the empty trailer.
const TERMINATOR = Buffer.from('\r\n0\r\n\r\n');

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

function requestBytes(target: StreamRequest, keepAlive: boolean): Buffer {
  const url = new URL(target.path, target.url);
  const headers = {
    host: url.host,
    ...target.headers,
    'content-length': String(Buffer.byteLength(target.body)),
    connection: keepAlive ? 'keep-alive' : 'close',
  };
  const head = `POST ${url.pathname} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  return Buffer.from(head + target.body);
}

/**
 * Reads one chunked SSE response from a socket's buffers: the status, the frames ("\n\n") in the
 * body, and the moment the terminator arrives. `onFrames` is told how many frames each buffer
 * completed and, when `marker` is given, how many of them contain it.
 */
class ResponseReader {
  status = 0;
  frames = 0;
  bytes = 0;
  done = false;
  #head: Buffer | undefined = Buffer.alloc(0);
  #lastWasNewline = false;
  #tail = Buffer.alloc(0);
  readonly #marker: Buffer | undefined;
  #markerCarry = Buffer.alloc(0);

  constructor(marker?: string) {
    this.#marker = marker === undefined ? undefined : Buffer.from(marker);
  }

  /** Returns how many marker occurrences this buffer completed. */
  push(chunk: Buffer): number {
    this.bytes += chunk.length;
    let body = chunk;
    if (this.#head) {
      const head = Buffer.concat([this.#head, chunk]);
      const end = head.indexOf(HEADERS_END);
      if (end < 0) {
        this.#head = head;
        return 0;
      }
      this.status = Number(head.subarray(9, 12).toString('latin1'));
      this.#head = undefined;
      body = head.subarray(end + HEADERS_END.length);
    }
    if (body.length === 0) return 0;
    let found = 0;
    let from = 0;
    if (this.#lastWasNewline && body[0] === NEWLINE) {
      found++;
      from = 1;
    }
    for (let at = body.indexOf('\n\n', from); at !== -1; at = body.indexOf('\n\n', at + 2)) found++;
    this.#lastWasNewline = body[body.length - 1] === NEWLINE;
    this.frames += found;
    let marked = 0;
    if (this.#marker) {
      const text = this.#markerCarry.length ? Buffer.concat([this.#markerCarry, body]) : body;
      for (let at = text.indexOf(this.#marker); at !== -1; at = text.indexOf(this.#marker, at + this.#marker.length)) marked++;
      this.#markerCarry = Buffer.from(text.subarray(Math.max(0, text.length - this.#marker.length + 1)));
    }
    const tail = this.#tail.length + body.length >= TERMINATOR.length && body.length < TERMINATOR.length ? Buffer.concat([this.#tail, body]) : body;
    this.#tail = Buffer.from(tail.subarray(Math.max(0, tail.length - TERMINATOR.length)));
    if (this.#tail.equals(TERMINATOR)) this.done = true;
    return marked;
  }
}

function open(target: StreamRequest): Socket {
  const url = new URL(target.url);
  const socket = connect(Number(url.port), url.hostname);
  socket.setNoDelay(true);
  return socket;
}

export interface StreamLoadResult {
  durationS: number;
  completions: number;
  frames: number;
  bytes: number;
  errors: number;
  /** Streams whose frame count differed from the expected one. */
  incomplete: number;
  completionsPerS: number;
  framesPerS: number;
  /** Whole-stream time (request to last byte), ms. */
  latencyMs: { p50: number; p99: number };
}

/**
 * `connections` keep-alive sockets, each sending the next stream request as soon as the previous
 * stream ends, until `durationMs` has passed (streams still open then run to the end and count).
 */
export async function streamLoad(target: StreamRequest, options: { connections: number; durationMs: number; expectedFrames: number }): Promise<StreamLoadResult> {
  const request = requestBytes(target, true);
  const latencies: number[] = [];
  let frames = 0;
  let bytes = 0;
  let errors = 0;
  let incomplete = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;

  const worker = () =>
    new Promise<void>((resolve) => {
      const socket = open(target);
      let reader = new ResponseReader();
      let t0 = performance.now();
      const next = () => {
        if (performance.now() >= deadline) {
          socket.end();
          return;
        }
        reader = new ResponseReader();
        t0 = performance.now();
        socket.write(request);
      };
      socket.on('data', (chunk: Buffer) => {
        reader.push(chunk);
        if (!reader.done) return;
        latencies.push(performance.now() - t0);
        frames += reader.frames;
        bytes += reader.bytes;
        if (reader.status !== 200) errors++;
        else if (reader.frames !== options.expectedFrames) incomplete++;
        next();
      });
      socket.on('error', () => errors++);
      socket.on('close', () => resolve());
      socket.on('connect', next);
    });

  await Promise.all(Array.from({ length: options.connections }, worker));
  const durationS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    durationS: round(durationS),
    completions: latencies.length,
    frames,
    bytes,
    errors,
    incomplete,
    completionsPerS: round(latencies.length / durationS, 1),
    framesPerS: Math.round(frames / durationS),
    latencyMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)) },
  };
}

export interface PacedStreamsOptions {
  streams: number;
  /** The streams are opened at an even rate over this long. */
  rampMs: number;
  /** A content frame contains this (ASCII, no newline). */
  contentMarker: string;
  expectedContentFrames: number;
  /** A stream not finished this long after the last one was opened is cut and counted as failed. */
  timeoutMs: number;
}

export interface PacedStreamsRaw {
  streams: number;
  completed: number;
  errors: number;
  incomplete: number;
  peakOpen: number;
  contentFrames: number;
  /** Time between consecutive content frames of one stream, as the client read them, ms. */
  intervals: Float64Array;
  /** connect() called → first response byte, ms, one per stream that got one. */
  ttfbs: Float64Array;
  /** connect() called → TCP connection established, ms: the listen queue's share of the wait. */
  connects: Float64Array;
  errorKinds: Record<string, number>;
  /** First stream opened → last stream ended. */
  durationS: number;
  /** How late the generator itself ran (its event-loop delay p99, ms) and its CPU share, %: if high, the client is the limit. */
  clientEventLoopP99Ms: number;
  clientCpuPercent: number;
}

const CR = 13;

/**
 * Many concurrent slow streams, each on its own connection (`connection: close`), as cheap for the
 * client as Node allows: every socket reads into one shared buffer (net's `onread`, so no Buffer is
 * allocated per read), content frames are counted by searching the read for `contentMarker`, and
 * the end of a response is the chunked terminator `0\r\n\r\n` at the end of a read. Nothing is
 * parsed. Meant to run in a process of its own (bench/stream-worker.ts), so the orchestrator's work
 * does not delay the reads it times.
 */
export async function pacedStreams(target: StreamRequest, options: PacedStreamsOptions): Promise<PacedStreamsRaw> {
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpuStart = process.cpuUsage();
  const request = requestBytes(target, false);
  const url = new URL(target.url);
  const port = Number(url.port);
  const host = url.hostname;
  const marker = Buffer.from(options.contentMarker, 'latin1');
  const shared = Buffer.allocUnsafe(256 * 1024);
  const intervals = new Float64Array(options.streams * (options.expectedContentFrames + 2));
  let intervalCount = 0;
  const ttfbs = new Float64Array(options.streams);
  let ttfbCount = 0;
  const connects = new Float64Array(options.streams);
  let connectCount = 0;
  let completed = 0;
  let errors = 0;
  let incomplete = 0;
  let open = 0;
  let peakOpen = 0;
  let contentFrames = 0;
  const errorKinds: Record<string, number> = {};
  const sockets = new Set<Socket>();
  let allSettled: () => void = () => {};
  const settledAll = new Promise<void>((resolve) => (allSettled = resolve));
  let settledCount = 0;
  const started = performance.now();

  const one = () => {
    const t0 = performance.now();
    let status = 0;
    let inBody = false;
    let head: Buffer | undefined;
    let carry: Buffer | undefined;
    let last = -1;
    let count = 0;
    let done = false;
    let settled = false;
    let failure = 'closed early';
    const tail = Buffer.alloc(7);
    let tailLength = 0;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      open--;
      contentFrames += count;
      if (!ok) {
        errors++;
        const kind = status && status !== 200 ? `status ${status}` : failure;
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      } else if (count !== options.expectedContentFrames) incomplete++;
      else completed++;
      sockets.delete(socket);
      socket.destroy();
      if (++settledCount === options.streams) allSettled();
    };
    const onRead = (nread: number, buf: Buffer): boolean => {
      const now = performance.now();
      let chunk = buf.subarray(0, nread);
      if (!inBody) {
        if (status === 0 && head === undefined) ttfbs[ttfbCount++] = now - t0;
        const all = head ? Buffer.concat([head, chunk]) : chunk;
        const end = all.indexOf(HEADERS_END);
        if (end < 0) {
          head = Buffer.from(all);
          return true;
        }
        status = Number(all.toString('latin1', 9, 12));
        inBody = true;
        head = undefined;
        chunk = all.subarray(end + HEADERS_END.length);
        if (chunk.length === 0) return true;
      }
      let marked = 0;
      if (carry) {
        const joined = Buffer.concat([carry, chunk.subarray(0, marker.length - 1)]);
        if (joined.indexOf(marker) >= 0) marked++;
        carry = undefined;
      }
      for (let at = chunk.indexOf(marker); at !== -1; at = chunk.indexOf(marker, at + marker.length)) marked++;
      // A marker can only be cut by a read that ends inside a frame, never after its newline.
      if (chunk[chunk.length - 1] !== NEWLINE) carry = Buffer.from(chunk.subarray(Math.max(0, chunk.length - marker.length + 1)));
      for (let i = 0; i < marked; i++) {
        if (last >= 0 && intervalCount < intervals.length) intervals[intervalCount++] = now - last;
        last = now;
      }
      count += marked;
      // The response ends with the zero-size chunk: "0\r\n\r\n" (7 bytes with the CRLF before it).
      if (chunk.length >= 7) {
        chunk.copy(tail, 0, chunk.length - 7);
        tailLength = 7;
      } else {
        const keep = Math.min(tailLength, 7 - chunk.length);
        tail.copy(tail, 0, tailLength - keep, tailLength);
        chunk.copy(tail, keep);
        tailLength = keep + chunk.length;
      }
      if (tailLength === 7 && tail[6] === NEWLINE && tail[5] === CR && tail[4] === NEWLINE && tail[3] === CR && tail[2] === 48 && tail[1] === NEWLINE && tail[0] === CR) {
        done = true;
        finish(status === 200);
      }
      return true;
    };
    const socket = connect({ port, host, onread: { buffer: shared, callback: onRead } });
    sockets.add(socket);
    socket.setNoDelay(true);
    open++;
    if (open > peakOpen) peakOpen = open;
    socket.on('connect', () => {
      connects[connectCount++] = performance.now() - t0;
      socket.write(request);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure = error.code ?? error.message;
      finish(false);
    });
    socket.on('close', () => finish(done && status === 200));
  };

  // Open at an even rate: each tick catches up with where the schedule says we should be, so a
  // late tick does not slow the arrival rate down.
  let opened = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(options.streams, Math.ceil(((performance.now() - started) / options.rampMs) * options.streams));
      while (opened < due) {
        opened++;
        one();
      }
      if (opened < options.streams) setTimeout(tick, 2);
      else resolve();
    };
    tick();
  });
  const cut = setTimeout(() => {
    for (const socket of sockets) socket.destroy(new Error('timeout'));
  }, options.timeoutMs);
  await settledAll;
  clearTimeout(cut);
  const durationS = round((performance.now() - started) / 1000);
  delay.disable();
  const cpu = process.cpuUsage(cpuStart);
  return {
    streams: options.streams,
    completed,
    errors,
    incomplete,
    peakOpen,
    contentFrames,
    intervals: intervals.slice(0, intervalCount),
    ttfbs: ttfbs.slice(0, ttfbCount),
    connects: connects.slice(0, connectCount),
    errorKinds,
    durationS,
    clientEventLoopP99Ms: round(delay.percentile(99) / 1e6),
    clientCpuPercent: round(((cpu.user + cpu.system) / 1000 / (durationS * 1000)) * 100, 1),
  };
}
