// Many concurrent paced streams against one server, from one or more load-generator processes
// (bench/stream-worker.ts), merged into one set of figures.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { percentile, type PacedStreamsOptions, type PacedStreamsRaw, type StreamRequest } from './sse-client.ts';

export interface PacedStreamsResult {
  streams: number;
  completed: number;
  errors: number;
  /** Streams whose content-frame count differed from the expected one. */
  incomplete: number;
  /** Most streams open at once, summed over the generators (each one's own peak). */
  peakOpen: number;
  contentFrames: number;
  /** Time between consecutive content frames of one stream, as the client read them, ms. */
  intervalMs: { p50: number; p99: number; max: number; mean: number };
  /** Request sent (connect called) → first response byte, ms. */
  ttfbMs: { p50: number; p99: number; max: number };
  /** connect called → connection established, ms: time spent in the listen queue (and SYN retries). */
  connectMs: { p50: number; p99: number; max: number };
  durationS: number;
  errorKinds: Record<string, number>;
  /** The generators' own event-loop delay p99 (worst) and CPU (sum), to tell when the client is the limit. */
  client: { processes: number; eventLoopP99Ms: number; cpuPercent: number };
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

function summary(values: Float64Array) {
  const sorted = values.sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? NaN),
    mean: round(sum / sorted.length),
  };
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** `processes` generators share the streams (and the ramp) evenly. */
export async function runPacedStreams(target: StreamRequest, options: PacedStreamsOptions, processes = 1): Promise<PacedStreamsResult> {
  const script = fileURLToPath(new URL('stream-worker.ts', import.meta.url));
  const shares = Array.from({ length: processes }, (_, i) => Math.floor(options.streams / processes) + (i < options.streams % processes ? 1 : 0));
  const raws = await Promise.all(
    shares.map(
      (streams) =>
        new Promise<PacedStreamsRaw>((resolve, reject) => {
          const child = fork(script, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
          let result: PacedStreamsRaw | undefined;
          child.once('message', (message: PacedStreamsRaw) => (result = message));
          child.once('exit', (code) => (result ? resolve(result) : reject(new Error(`stream generator exited with ${code} and no result`))));
          child.send({ target, options: { ...options, streams } });
        }),
    ),
  );
  const errorKinds: Record<string, number> = {};
  for (const raw of raws) for (const [kind, n] of Object.entries(raw.errorKinds)) errorKinds[kind] = (errorKinds[kind] ?? 0) + n;
  const sum = (pick: (raw: PacedStreamsRaw) => number) => raws.reduce((n, raw) => n + pick(raw), 0);
  const interval = summary(concat(raws.map((r) => r.intervals)));
  const ttfb = summary(concat(raws.map((r) => r.ttfbs)));
  const connect = summary(concat(raws.map((r) => r.connects)));
  return {
    streams: options.streams,
    completed: sum((r) => r.completed),
    errors: sum((r) => r.errors),
    incomplete: sum((r) => r.incomplete),
    peakOpen: sum((r) => r.peakOpen),
    contentFrames: sum((r) => r.contentFrames),
    intervalMs: interval,
    ttfbMs: { p50: ttfb.p50, p99: ttfb.p99, max: ttfb.max },
    connectMs: { p50: connect.p50, p99: connect.p99, max: connect.max },
    durationS: Math.max(...raws.map((r) => r.durationS)),
    errorKinds,
    client: { processes, eventLoopP99Ms: Math.max(...raws.map((r) => r.clientEventLoopP99Ms)), cpuPercent: round(sum((r) => r.clientCpuPercent), 1) },
  };
}
