// Proxy on a miss (`--upstream PROVIDER=URL`): a request no rule matched is forwarded to the
// provider's real API, and the answer is streamed back to the client as it arrives. With
// `--record`, an exchange that completed normally is written to the recording file as a rule.
import type { Context } from 'koa';
import { once } from 'node:events';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createZstdDecompress } from 'node:zlib';
import type { Conversation } from '../engine/conversation.ts';
import { ApiError } from '../http/errors.ts';
import type { RequestState } from '../http/state.ts';
import type { Logger } from '../observability/logger.ts';
import type { Provider, Recording, UpstreamAnswer } from '../providers/provider.ts';
import { splitterFor, type BinaryFrameSplitter, type FrameSplitter } from './frames.ts';
import { originOf, RecordingFile } from './record.ts';
import { Scrubber } from './scrub.ts';
import { credentialsFromEnv, isSigV4, scopeOf, signingRegion, signSigV4, type AwsCredentials } from './sigv4.ts';

/** How long an upstream may stay silent (before its headers, or between two pieces of its body). */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 600_000;
/** A recording keeps at most this much of one answer; a longer one is proxied but not recorded. */
const MAX_RECORDED_BYTES = 32 * 1024 * 1024;

/** Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded, either way. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'trailers', 'transfer-encoding', 'upgrade', 'http2-settings']);
/**
 * Request headers that describe the body as the client sent it, or the client's connection: the
 * body goes upstream decoded (as the JSON parser read it), so its encoding and length are the new
 * request's own; `host` is the upstream's.
 */
const NOT_FORWARDED_UP = new Set(['host', 'content-length', 'content-encoding', 'expect']);
/** The mock's own headers that stay on a proxied answer: CORS, and how mockllm decided. */
const KEPT_OWN_HEADER = /^(access-control-|vary$|x-mockllm-)/;

export interface UpstreamOptions {
  /** Provider name → base URL; the request's path and query are appended. */
  upstreams: Readonly<Record<string, string>>;
  providers: readonly Provider[];
  logger: Logger;
  /** `--record FILE`. */
  record?: string;
  /** `--record-errors`: record upstream 4xx/5xx answers as error rules too. */
  recordErrors?: boolean;
  timeoutMs?: number;
  /**
   * Where the mock's own AWS credentials come from (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
   * AWS_SESSION_TOKEN, AWS_REGION): a request the client signed with SigV4 is signed again with
   * them for the upstream's host. Default: the process environment.
   */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Reads `PROVIDER=URL` entries (flags, then MOCKLLM_UPSTREAM_<PROVIDER> variables) into a map,
 * throwing an Error that says what is wrong with one. A later entry for a provider wins.
 */
export function parseUpstreams(entries: readonly string[], env: Readonly<Record<string, string | undefined>>, providers: readonly Provider[]): Record<string, string> {
  const names = providers.map((p) => p.name);
  const out: Record<string, string> = {};
  const add = (provider: string, url: string, from: string) => {
    if (!names.includes(provider)) throw new Error(`${from}: "${provider}" is not a provider; use one of ${names.join(', ')}`);
    out[provider] = checkUrl(url, from);
  };
  for (const [name, value] of Object.entries(env)) {
    const match = /^MOCKLLM_UPSTREAM_([A-Z0-9_]+)$/.exec(name);
    if (match && value) add(match[1]!.toLowerCase(), value, name);
  }
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`--upstream "${entry}": give PROVIDER=URL, e.g. openai=https://api.openai.com`);
    add(entry.slice(0, eq).trim(), entry.slice(eq + 1).trim(), `--upstream ${entry.slice(0, eq).trim()}`);
  }
  return out;
}

/** Checks one upstream URL (http or https), for the library's `upstreams` option as for the flags. */
export function checkUrl(url: string, from: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${from}: "${url}" is not a URL; give e.g. https://api.openai.com`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`${from}: "${url}" must be an http or https URL`);
  return url.replace(/\/+$/, '');
}

type Hook = (ctx: Context, conversation: Conversation, stream: boolean, request: unknown) => Promise<boolean>;

export interface Upstream {
  hook: Hook;
  recorder: RecordingFile | undefined;
  /**
   * Waits (at most `graceMs`) for the proxied exchanges still in flight, then for the recordings
   * being written: on shutdown, an answer the client has already read to its end (an SDK stops at
   * `[DONE]`) may still be on its way into the file.
   */
  settled(graceMs?: number): Promise<void>;
}

/** The ProviderDeps.upstream hook, with its recording file (if any) to wait on. */
export function createUpstream(options: UpstreamOptions): Upstream {
  const { logger } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  const recorder = options.record === undefined ? undefined : new RecordingFile({ path: options.record, upstreams: options.upstreams, logger });
  // Read once, when the server starts, like the rest of its configuration.
  const { AWS_REGION, AWS_DEFAULT_REGION, ...rest } = options.env ?? process.env;
  const env = { AWS_REGION, AWS_DEFAULT_REGION };
  const aws = credentialsFromEnv(rest);
  // Re-signing applies to any request a client signed with AWS SigV4, whichever provider's upstream
  // it goes to (today Bedrock's), so it is said once, for every upstream.
  if (Object.keys(options.upstreams).length > 0) {
    logger.info(
      { awsCredentials: aws ? (aws.sessionToken ? 'temporary' : 'long-term') : null },
      aws
        ? 'requests signed with AWS SigV4 are signed again for their upstream with the AWS credentials in the environment; bearer keys pass through'
        : 'no AWS credentials in the environment: requests signed with AWS SigV4 cannot be proxied (bearer keys pass through)',
    );
  }
  const hook: Hook = async (ctx, conversation, stream, request) => {
    const state = ctx.state as RequestState;
    const provider = state.provider;
    const base = options.upstreams[provider.name];
    if (base === undefined) return false;
    const forwarding = forward(ctx, { provider, base, conversation, request, stream, timeoutMs, logger, recorder, recordErrors: options.recordErrors === true, aws, env });
    inFlight.add(forwarding);
    try {
      await forwarding;
    } finally {
      inFlight.delete(forwarding);
    }
    return true;
  };
  const inFlight = new Set<Promise<void>>();
  const settled = async (graceMs = 2000) => {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.allSettled([...inFlight]), grace]);
    clearTimeout(timer);
    await recorder?.flushed();
  };
  return { hook, recorder, settled };
}

interface Forwarding {
  provider: Provider;
  base: string;
  conversation: Conversation;
  /** The adapter's parsed request, for the provider's recorder. */
  request: unknown;
  stream: boolean;
  timeoutMs: number;
  logger: Logger;
  recorder: RecordingFile | undefined;
  recordErrors: boolean;
  aws: AwsCredentials | undefined;
  env: Readonly<Record<string, string | undefined>>;
}

/** Header names listed in a Connection header: hop-by-hop too (RFC 9110 §7.6.1). */
const namedByConnection = (headers: IncomingHttpHeaders) => new Set(String(headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean));

/** The client's headers for the upstream, minus hop-by-hop ones and those that described the client's own body. */
function forwardedHeaders(incoming: IncomingHttpHeaders, bodyBytes: number): OutgoingHttpHeaders {
  const named = namedByConnection(incoming);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || NOT_FORWARDED_UP.has(name) || named.has(name) || name.startsWith(':')) continue;
    headers[name] = value;
  }
  headers['content-length'] = String(bodyBytes);
  return headers;
}

/** The upstream's headers for the client, minus hop-by-hop ones; the body is passed on as sent, encoding and all. */
function answeredHeaders(upstream: IncomingHttpHeaders): Record<string, string | string[]> {
  const named = namedByConnection(upstream);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Decompresses a copy of the answer for the recorder (the client gets the bytes as sent); undefined for an encoding it cannot read. */
function decompressorFor(encoding: string | undefined): Transform | null | undefined {
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'identity':
    case '':
      return null;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    case 'zstd':
      return createZstdDecompress();
    default:
      return undefined;
  }
}

/**
 * A copy of the answer as text, split into frames with their arrival times, for the recorder.
 * Compressed answers are inflated as they arrive, so frames keep their timing. A binary framing
 * (AWS event stream) is split from the bytes; `text` then stays empty.
 */
class Capture {
  text = '';
  failed = false;
  tooLarge = false;
  #bytes = 0;
  readonly #decoder = new TextDecoder();
  readonly #splitter: FrameSplitter | undefined;
  readonly #binary: BinaryFrameSplitter | undefined;
  readonly #inflate: Transform | null;
  readonly #sentAt: number;

  constructor(encoding: string | undefined, contentType: string | undefined, streamed: boolean, sentAt: number) {
    const splitter = splitterFor(contentType, streamed);
    if (splitter && 'pushBytes' in splitter) this.#binary = splitter;
    else this.#splitter = splitter;
    this.#sentAt = sentAt;
    const inflate = decompressorFor(encoding);
    this.failed = inflate === undefined;
    this.#inflate = inflate ?? null;
    this.#inflate?.on('data', (chunk: Buffer) => this.#take(chunk));
    this.#inflate?.on('error', () => (this.failed = true));
  }

  get frames() {
    return this.#binary?.frames ?? this.#splitter?.frames;
  }

  write(piece: Uint8Array): void {
    if (this.failed || this.tooLarge) return;
    if (this.#inflate) this.#inflate.write(piece);
    else this.#take(piece);
  }

  async end(): Promise<void> {
    if (this.#inflate && !this.failed) {
      const ended = once(this.#inflate, 'end').catch(() => (this.failed = true));
      this.#inflate.end();
      this.#inflate.resume();
      await ended;
    }
    if (!this.#binary) this.#push(this.#decoder.decode());
  }

  #take(chunk: Uint8Array): void {
    if (this.tooLarge) return;
    if (this.#binary) {
      this.#binary.pushBytes(chunk, performance.now() - this.#sentAt);
      this.#bytes += chunk.length;
      if (this.#bytes > MAX_RECORDED_BYTES) this.tooLarge = true;
    } else {
      this.#push(this.#decoder.decode(chunk, { stream: true }));
    }
  }

  #push(text: string): void {
    if (this.tooLarge || text === '') return;
    this.text += text;
    this.#splitter?.push(text, performance.now() - this.#sentAt);
    if (this.text.length > MAX_RECORDED_BYTES) this.tooLarge = true;
  }
}

/** A timer that aborts the upstream request when it stays silent for `ms`; touched on every piece. */
function silenceTimer(controller: AbortController, ms: number) {
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`the upstream sent nothing for ${ms} ms`));
    }, ms);
  };
  arm();
  // timedOut is a method, not a getter: an object literal's getter keeps what it closes over
  // reachable from V8's old generation (see jsonArraySplitter in frames.ts).
  return { touch: arm, stop: () => clearTimeout(timer), timedOut: () => timedOut };
}

const reasonOf = (error: unknown): string => {
  const { code, cause } = error as { code?: string; cause?: { code?: string; message?: string } };
  return code ?? cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
};

/** Waits for a slow client to take what was written (backpressure), failing if it goes away; leaves no listener behind. */
async function drained(res: Context['res']): Promise<void> {
  const done = new AbortController();
  try {
    await Promise.race([
      once(res, 'drain', { signal: done.signal }),
      once(res, 'close', { signal: done.signal }).then(() => {
        throw new Error('the client went away');
      }),
    ]);
  } finally {
    done.abort();
  }
}

/** Sends the request upstream; resolves with the answer once its status and headers have come. */
function send(url: URL, method: string, headers: OutgoingHttpHeaders, body: string, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers, signal }, resolve);
    request.once('error', reject);
    request.end(body);
  });
}

/** Client headers that belong to the client's own SigV4 signature: replaced when the request is signed again. */
const CLIENT_SIGNATURE = ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'];

/**
 * A request the client signed with SigV4 (an AWS SDK using IAM credentials) carries a signature
 * over the mock's host, which the upstream would refuse: it is signed again for the upstream with
 * the mock's credentials. Any other credential (a bearer Bedrock API key, a provider's API key)
 * passes through as sent.
 */
function resign(ctx: Context, f: Forwarding, url: URL, headers: OutgoingHttpHeaders, body: string, where: object): OutgoingHttpHeaders {
  const authorization = ctx.get('authorization') || undefined;
  if (!isSigV4(authorization)) return headers;
  if (!f.aws) {
    f.logger.warn({ ...where, reason: 'no AWS credentials' }, 'SigV4-signed request not proxied: the mock has no AWS credentials to sign it for the upstream');
    throw new ApiError({
      status: 403,
      kind: 'permission',
      type: 'AccessDeniedException',
      message:
        `mockllm: this request is signed with AWS Signature V4 for the mock's own host, so it cannot be forwarded to the ${f.provider.name} upstream (${originOf(f.base)}) as it is, ` +
        'and the mock has no AWS credentials to sign it again. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials, AWS_REGION for the region) ' +
        "in the mock's environment, or have the client use a Bedrock API key (AWS_BEARER_TOKEN_BEDROCK), which is passed through.",
    });
  }
  const scope = scopeOf(authorization!);
  const signed: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || CLIENT_SIGNATURE.includes(name)) continue;
    signed[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return signSigV4({ method: ctx.method, url, headers: signed, body, credentials: f.aws, region: signingRegion(url.host, f.env, scope?.region), service: scope?.service ?? 'bedrock' });
}

async function forward(ctx: Context, f: Forwarding): Promise<void> {
  const state = ctx.state as RequestState;
  const upstreamOrigin = originOf(f.base);
  const url = `${f.base}${ctx.path}${ctx.querystring ? `?${ctx.querystring}` : ''}`;
  const rawBody = (ctx.request as { rawBody?: string }).rawBody ?? JSON.stringify((ctx.request as { body?: unknown }).body ?? {});
  const where = { requestId: state.requestId, provider: f.provider.name, upstream: upstreamOrigin, route: ctx.path };
  const upstreamUrl = new URL(url);
  const headers = resign(ctx, f, upstreamUrl, forwardedHeaders(ctx.req.headers, Buffer.byteLength(rawBody)), rawBody, where);

  const controller = new AbortController();
  let clientGone = false;
  const onClientGone = () => {
    if (ctx.res.writableFinished) return;
    clientGone = true;
    controller.abort(new Error('the client went away'));
  };
  ctx.res.once('close', onClientGone);
  const silence = silenceTimer(controller, f.timeoutMs);
  const sentAt = performance.now();
  state.proxied = { upstream: upstreamOrigin };

  let response: IncomingMessage;
  try {
    response = await send(upstreamUrl, ctx.method, headers, rawBody, controller.signal);
  } catch (error) {
    silence.stop();
    ctx.res.off('close', onClientGone);
    if (clientGone) {
      f.logger.info(where, 'client went away before the upstream answered');
      ctx.respond = false;
      state.delivered = { outcome: 'aborted', contentChunks: 0 };
      return;
    }
    const timedOut = silence.timedOut();
    f.logger.warn({ ...where, reason: timedOut ? 'timeout' : reasonOf(error) }, timedOut ? 'upstream timed out' : 'upstream unreachable');
    throw new ApiError({
      status: timedOut ? 504 : 502,
      kind: 'internal',
      message: timedOut
        ? `mockllm: the ${f.provider.name} upstream (${upstreamOrigin}) did not answer within ${f.timeoutMs} ms.`
        : `mockllm: could not reach the ${f.provider.name} upstream (${upstreamOrigin}): ${reasonOf(error)}.`,
    });
  }
  silence.touch();

  // The answer is the upstream's: its status, headers and body, not the mock's.
  for (const name of Object.keys(ctx.response.headers)) if (!KEPT_OWN_HEADER.test(name)) ctx.remove(name);
  ctx.set('x-mockllm-upstream', upstreamOrigin);
  const status = response.statusCode ?? 502;
  ctx.status = status;
  ctx.respond = false;
  // The mock's own x-mockllm-* headers win over an upstream's (which may be another mockllm).
  ctx.res.writeHead(status, { ...answeredHeaders(response.headers), ...(ctx.response.headers as Record<string, string>) });
  // The status and headers go out at once, before the first byte of the body (HTTP/1.1; an HTTP/2 response sends them on its first write).
  (ctx.res as { flushHeaders?: () => void }).flushHeaders?.();

  const recording = f.recorder !== undefined && (status < 400 || f.recordErrors);
  // A copy is kept to record the answer, or for the provider to remember it (a Responses id).
  const remembering = status < 400 && f.provider.recorder?.remember !== undefined;
  const capture = recording || remembering ? new Capture(response.headers['content-encoding'], response.headers['content-type'], f.stream, sentAt) : undefined;
  let outcome: 'completed' | 'aborted' | 'failed' = 'completed';
  try {
    for await (const piece of response as AsyncIterable<Buffer>) {
      silence.touch();
      capture?.write(piece);
      if (!ctx.res.write(piece)) await drained(ctx.res);
    }
    // A body cut short (the upstream's connection closed mid-way) ends the iteration with an error;
    // `complete` makes sure of it, whatever the Node version.
    if (!response.complete) throw new Error('the upstream closed the connection before the end of its answer');
    await capture?.end();
    ctx.res.end();
  } catch (error) {
    outcome = clientGone || ctx.res.destroyed ? 'aborted' : 'failed';
    // The client must see the drop as a drop: a stream cut short, never one that ended cleanly.
    ctx.res.destroy();
    f.logger.warn({ ...where, reason: silence.timedOut() ? 'timeout' : reasonOf(error), outcome }, outcome === 'aborted' ? 'client went away during the upstream answer: not recorded' : 'upstream answer broke off: not recorded');
  } finally {
    silence.stop();
    ctx.res.off('close', onClientGone);
  }
  state.delivered = { outcome, contentChunks: 0 };
  f.logger.debug({ ...where, status, outcome }, 'proxied to upstream');
  if (capture && outcome === 'completed' && !capture.failed && !capture.tooLarge && remembering) {
    try {
      f.provider.recorder!.remember!(answerOf(f, status, response, capture), f.request);
    } catch (error) {
      f.logger.warn({ ...where, err: error }, 'could not keep the upstream answer for later requests');
    }
  }
  if (!capture || outcome !== 'completed' || !f.recorder || !recording) {
    if (f.recorder && outcome === 'completed' && status >= 400 && !f.recordErrors) f.logger.info({ ...where, status }, 'upstream error not recorded (--record-errors records them)');
    return;
  }
  if (capture.failed || capture.tooLarge) {
    f.logger.warn({ ...where, status, encoding: response.headers['content-encoding'] ?? null }, capture.tooLarge ? 'upstream answer too large to record: proxied only' : 'upstream answer could not be decoded: not recorded');
    return;
  }

  const answer = answerOf(f, status, response, capture);
  // Error bodies share one shape across the providers ({error: {message, type, code}}); answers are each provider's own.
  const decoded = status >= 400 ? genericError(answer) : decodeWithRequest(f.provider, answer, f.request);
  if (!decoded) {
    f.logger.warn({ ...where, status }, f.provider.recorder ? 'upstream answer incomplete or not recordable: not recorded' : `no recorder for ${f.provider.name}: proxied only`);
    return;
  }
  // The mock's own AWS credentials are never written either, should an answer echo one.
  const own = f.aws ? [f.aws.accessKeyId, f.aws.secretAccessKey, f.aws.sessionToken ?? ''] : [];
  const scrubber = Scrubber.fromRequest(ctx.req.headers, new URLSearchParams(ctx.querystring), own);
  await f.recorder.record(f.conversation, decoded, scrubber, f.stream);
}

/**
 * The provider's decoding of an answer. A recorder may also take the adapter's parsed request as a
 * second argument, for what the answer alone does not say (how many prompts a legacy completion had).
 */
function decodeWithRequest(provider: Provider, answer: UpstreamAnswer, request: unknown): Recording | undefined {
  const recorder = provider.recorder;
  if (!recorder) return undefined;
  return (recorder.decode as (answer: UpstreamAnswer, request: unknown) => Recording | undefined).call(recorder, answer, request);
}

function answerOf(f: Forwarding, status: number, response: IncomingMessage, capture: Capture): UpstreamAnswer {
  return {
    endpoint: f.conversation.endpoint,
    status,
    header: (name) => [response.headers[name.toLowerCase()]].flat()[0],
    body: capture.text,
    frames: capture.frames,
  };
}

/** An error answer in the common shapes (`{error: {message, type, code}}`, `{error: "…"}`, `{message}`), for providers without a recorder. */
export function genericError(answer: UpstreamAnswer): { response: { error: NonNullable<import('../config/schema.ts').ResponseObject['error']> } } {
  let message: string | undefined;
  let type: string | undefined;
  let code: string | undefined;
  try {
    const body = JSON.parse(answer.body) as { error?: unknown; message?: unknown };
    const error = body.error;
    if (typeof error === 'string') message = error;
    else if (error && typeof error === 'object') {
      const e = error as { message?: unknown; type?: unknown; code?: unknown; status?: unknown };
      if (typeof e.message === 'string') message = e.message;
      if (typeof e.type === 'string') type = e.type;
      else if (typeof e.status === 'string') type = e.status;
      if (typeof e.code === 'string') code = e.code;
    } else if (typeof body.message === 'string') message = body.message;
  } catch {
    if (answer.body.trim() !== '') message = answer.body.trim().slice(0, 2000);
  }
  // AWS services name the error in a header (`x-amzn-errortype: ThrottlingException:http://…`), the SDK keeping the part before `:`.
  const awsType = answer.header('x-amzn-errortype')?.split(':')[0]?.trim();
  if (type === undefined && awsType) type = awsType;
  const retryAfter = Number(answer.header('retry-after'));
  return {
    response: {
      error: {
        status: answer.status,
        ...(message !== undefined && { message }),
        ...(type !== undefined && { type }),
        ...(code !== undefined && { code }),
        ...(Number.isFinite(retryAfter) && answer.header('retry-after') !== undefined && retryAfter >= 0 && { retry_after: retryAfter }),
      },
    },
  };
}
