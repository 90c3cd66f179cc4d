import { tracingChannel } from 'node:diagnostics_channel';
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

export type { Logger };

// Credentials never reach a log line, whichever object they travel in.
/**
 * Whether a header carries a credential, by its name: every provider's key header (x-api-key,
 * api-key, x-goog-api-key), AWS's session token and signature, bearer authorization, cookies. By
 * shape rather than by list, so a new provider's key header is redacted without naming it here.
 */
export const isCredentialHeader = (name: string): boolean => /authorization|api-?key|token|secret|cookie|credential|signature/i.test(name);

// pino redacts named paths only: the credential headers the providers' clients send today.
export const REDACTED_HEADERS = ['authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'x-amz-security-token', 'cookie', 'set-cookie', 'proxy-authorization'];
const REDACT_PATHS = REDACTED_HEADERS.flatMap((h) => [`headers["${h}"]`, `req.headers["${h}"]`, `request.headers["${h}"]`]);

// pino's isoTime builds a Date and formats it for every line (an access log line per request):
// the text up to the minute is kept and only the seconds and milliseconds are written per line.
let minuteStart = 0;
let minutePrefix = '';

/** The same `,"time":"2026-11-29T19:20:19.303Z"` field as pino.stdTimeFunctions.isoTime. */
export function isoTime(now = Date.now()): string {
  const intoMinute = now - minuteStart;
  if (minutePrefix === '' || intoMinute < 0 || intoMinute >= 60_000) {
    minuteStart = Math.floor(now / 60_000) * 60_000;
    minutePrefix = `,"time":"${new Date(minuteStart).toISOString().slice(0, 17)}`;
    return isoTime(now);
  }
  const seconds = Math.floor(intoMinute / 1000);
  const ms = intoMinute % 1000;
  return `${minutePrefix}${seconds < 10 ? '0' : ''}${seconds}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
}

type InfoLineWriter = (fields: Record<string, unknown>, message: string) => void;
// Loggers made by createLogger, with their writer of info lines: their line format is known (no
// mixin, hooks, formatters or message prefix), so the writer may write their lines itself.
const ownWriters = new WeakMap<Logger, InfoLineWriter>();

export function createLogger(level: LevelWithSilent = 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'mockllm' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    timestamp: isoTime,
  };
  const logger = destination ? pino(options, destination) : pino(options);
  ownWriters.set(logger, writerOfInfoLines(logger));
  return logger;
}

/**
 * For the access log (a line per request): writes an `info` line of flat fields the way pino would
 * for a logger from createLogger, byte for byte (`{"level":30,"time":…,"service":"mockllm",…fields,
 * "msg":…}`), into the same destination, so it keeps its place among pino's own lines. pino's
 * general path (serializers, redaction, a stringify per field) was ~3% of a non-stream request's
 * CPU (issue 17's profiles). undefined for any other logger (a library user's own pino): use it.
 * The fields must be flat and credential-free: nothing is redacted.
 */
export function infoLineWriter(logger: Logger): InfoLineWriter | undefined {
  return ownWriters.get(logger);
}

function writerOfInfoLines(logger: Logger): InfoLineWriter {
  const stream = (logger as unknown as Record<symbol, { write(line: string): unknown }>)[pino.symbols.streamSym]!;
  const bindings = (logger as unknown as Record<symbol, string>)[pino.symbols.chindingsSym]!;
  return (fields, message) => {
    // pino's own path where the two would differ: a subscriber to pino's `pino_asJson` tracing
    // channel (APM tools add trace ids there), or a string with a lone surrogate (JSON.stringify
    // escapes it, pino writes short strings as they are). A client controls `model`.
    if (asJsonTracing.hasSubscribers || !allWellFormed(fields)) return logger.info(fields, message);
    const json = JSON.stringify(fields);
    stream.write(`{"level":30${isoTime()}${bindings}${json.length > 2 ? `,${json.slice(1, -1)}` : ''},"msg":${JSON.stringify(message)}}\n`);
  };
}

const asJsonTracing = tracingChannel('pino_asJson');

function allWellFormed(fields: Record<string, unknown>): boolean {
  for (const key in fields) {
    const value = fields[key];
    if (typeof value === 'string' && !value.isWellFormed()) return false;
  }
  return true;
}

/** `json`: one JSON object per line (pino's own format); `pretty`: one readable line per entry. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Readable lines for a person at a terminal, JSON for everything else (files, pipes, collectors). */
export function defaultLogFormat(stream: { isTTY?: boolean } = process.stdout): LogFormat {
  return stream.isTTY === true ? 'pretty' : 'json';
}

/**
 * Whether pretty lines get colours. Node's `hasColors()` on a terminal stream honours NO_COLOR
 * and FORCE_COLOR (https://nodejs.org/api/tty.html#writestreamhascolorscount-env); a stream that
 * is not a terminal gets colours only when FORCE_COLOR asks for them.
 */
export function wantsColors(stream: { isTTY?: boolean; hasColors?: () => boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (stream.isTTY === true && typeof stream.hasColors === 'function') return stream.hasColors();
  const force = env.FORCE_COLOR;
  return force !== undefined && force !== '0' && force !== 'false';
}

export interface LogSinkOptions {
  format: LogFormat;
  /** Colour pretty lines (ignored for JSON). */
  colors?: boolean;
  /** Where lines go; default: stdout, written synchronously (pino.destination, as pino's default). */
  destination?: { write(text: string): unknown };
  /**
   * Default true: the lines of one turn of the event loop are written together at its end (and at
   * once when they reach BATCH_LIMIT_CHARS, and at exit). False: each line as it comes.
   */
  batch?: boolean;
}

/** Past this many characters waiting, a batch is written at once rather than at the end of the turn. */
const BATCH_LIMIT_CHARS = 64 * 1024;
// Sinks holding lines not yet written: written at exit (process.exit, the end of the event loop,
// an uncaught exception), so only a process killed outright loses lines, at most one turn's.
const unwritten = new Set<LogSink>();
let exitHookInstalled = false;
const writeAllAtExit = () => {
  for (const sink of unwritten) sink.flush();
};

/**
 * The CLI's log destination: pino writes JSON lines into it, and it passes them on as they are or
 * reformats them for a person. Lines are written synchronously (no thread pool, no line left behind
 * by a process that exits) and in batches: the access log is a line per request, and under load a
 * `write(2)` per line cost S1 ~17% of its requests/s (docs/benchmarks.md), where one per turn of
 * the event loop carries every line of that turn. A line waits at most until the end of the turn
 * it was logged in.
 *
 * `hold()` keeps lines back until `release()`: the CLI holds them during start-up, so that when
 * the port is taken the line saying so comes first, before the lines logged while getting there.
 */
export class LogSink implements DestinationStream {
  readonly format: LogFormat;
  readonly #colors: boolean;
  readonly #out: { write(text: string): unknown };
  readonly #batch: boolean;
  #held: string[] | undefined;
  #waiting = '';
  readonly #writeWaiting = () => this.flush();

  constructor(options: LogSinkOptions) {
    this.format = options.format;
    this.#colors = options.colors === true;
    this.#out = options.destination ?? pino.destination({ dest: 1, sync: true });
    this.#batch = options.batch !== false;
  }

  write(line: string): void {
    const text = this.format === 'pretty' ? formatPretty(line, this.#colors) : line;
    if (this.#held) this.#held.push(text);
    else if (!this.#batch) this.#out.write(text);
    else {
      if (this.#waiting === '') {
        setImmediate(this.#writeWaiting);
        unwritten.add(this);
        if (!exitHookInstalled) {
          exitHookInstalled = true;
          process.on('exit', writeAllAtExit);
        }
      }
      this.#waiting += text;
      if (this.#waiting.length >= BATCH_LIMIT_CHARS) this.flush();
    }
  }

  /** Writes the lines waiting for the end of the turn now. */
  flush(): void {
    if (this.#waiting === '') return;
    const text = this.#waiting;
    this.#waiting = '';
    unwritten.delete(this);
    this.#out.write(text);
  }

  hold(): void {
    this.#held ??= [];
  }

  /** Writes the lines held back, in order, and stops holding. */
  release(): void {
    const held = this.#held;
    this.#held = undefined;
    this.flush();
    if (held && held.length > 0) this.#out.write(held.join(''));
  }
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
// ANSI SGR colour codes (ECMA-48): grey, cyan, green, yellow, red, magenta.
const LEVEL_COLORS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
/** Fields every line carries, or that the line's layout already shows. */
const OMITTED = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname', 'err']);

const paint = (colors: boolean, code: string, text: string) => (colors ? `\u001b[${code}m${text}\u001b[0m` : text);

/**
 * One pino JSON line as a person reads it:
 *   `12:03:04.567 INFO  mockllm listening url=http://127.0.0.1:8000 host=127.0.0.1 port=8000`
 * Other fields follow as key=value (strings unquoted when they have no spaces, objects as JSON);
 * an error's stack follows on its own indented lines. A line that is not JSON passes through.
 */
export function formatPretty(line: string, colors = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return line.endsWith('\n') ? line : `${line}\n`;
  const level = typeof entry.level === 'number' ? entry.level : 30;
  const name = (LEVEL_NAMES[level] ?? `L${level}`).padEnd(5);
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const parts = [paint(colors, '2', time), paint(colors, LEVEL_COLORS[level] ?? '0', name), paint(colors, '1', String(entry.msg ?? ''))];
  for (const [key, value] of Object.entries(entry)) {
    if (OMITTED.has(key) || value === undefined) continue;
    parts.push(`${paint(colors, '2', `${key}=`)}${prettyValue(value)}`);
  }
  let text = parts.filter((part) => part !== '').join(' ');
  const err = entry.err as { type?: string; message?: string; stack?: string } | undefined;
  if (err && typeof err === 'object') {
    const detail = typeof err.stack === 'string' ? err.stack : `${err.type ?? 'Error'}: ${err.message ?? ''}`;
    text += `\n${detail.replace(/^/gm, '    ')}`;
  }
  return `${text}\n`;
}

function prettyValue(value: unknown): string {
  if (typeof value === 'string') return value !== '' && !/[\s"=]/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}
