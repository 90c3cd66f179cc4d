// Proxy on a miss (`--upstream PROVIDER=URL`): a request no rule matched is forwarded to the
// provider's real API, and the answer is streamed back to the client as it arrives. With
// `--record`, an exchange that completed normally is written to the recording file as a rule.
import type { Context } from 'koa';
import { once } from 'node:events';
import type { Conversation } from '../engine/conversation.ts';
import { ApiError } from '../http/errors.ts';
import type { RequestState } from '../http/state.ts';
import type { Logger } from '../observability/logger.ts';
import type { Provider, UpstreamAnswer } from '../providers/provider.ts';
import { splitterFor } from './frames.ts';
import { originOf, RecordingFile } from './record.ts';
import { Scrubber } from './scrub.ts';

/** How long an upstream may stay silent (before its headers, or between two pieces of its body). */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 600_000;
/** A recording keeps at most this much of one answer; a longer one is proxied but not recorded. */
const MAX_RECORDED_BYTES = 32 * 1024 * 1024;

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's, never forwarded; `host` and
 * `content-length` are the new connection's own; `accept-encoding` and `content-encoding` are
 * left to fetch, which sends the body as given and decodes what comes back.
 */
const NOT_FORWARDED = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'trailers',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'accept-encoding', 'content-encoding', 'expect', 'http2-settings',
]);
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

type Hook = (ctx: Context, conversation: Conversation, stream: boolean) => Promise<boolean>;

/** The ProviderDeps.upstream hook, with its recording file (if any) to wait on. */
export function createUpstream(options: UpstreamOptions): { hook: Hook; recorder: RecordingFile | undefined } {
  const { logger } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  const recorder = options.record === undefined ? undefined : new RecordingFile({ path: options.record, upstreams: options.upstreams, logger });
  const hook: Hook = async (ctx, conversation, stream) => {
    const state = ctx.state as RequestState;
    const provider = state.provider;
    const base = options.upstreams[provider.name];
    if (base === undefined) return false;
    await forward(ctx, { provider, base, conversation, stream, timeoutMs, logger, recorder, recordErrors: options.recordErrors === true });
    return true;
  };
  return { hook, recorder };
}

interface Forwarding {
  provider: Provider;
  base: string;
  conversation: Conversation;
  stream: boolean;
  timeoutMs: number;
  logger: Logger;
  recorder: RecordingFile | undefined;
  recordErrors: boolean;
}

/** The client's headers minus hop-by-hop ones (and those the Connection header names). */
function forwardedHeaders(incoming: Context['req']['headers']): Headers {
  const named = new Set(String(incoming.connection ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean));
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || NOT_FORWARDED.has(name) || named.has(name) || name.startsWith(':')) continue;
    for (const one of [value].flat()) headers.append(name, one);
  }
  return headers;
}

/** The upstream's headers for the client, minus hop-by-hop ones and the encoding fetch has undone. */
function answeredHeaders(upstream: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const cookies = upstream.getSetCookie();
  for (const [name, value] of upstream) {
    if (NOT_FORWARDED.has(name) || name === 'set-cookie') continue;
    out[name] = value;
  }
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
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
  return { touch: arm, stop: () => clearTimeout(timer), get timedOut() { return timedOut; } };
}

const reasonOf = (error: unknown): string => {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
};

async function forward(ctx: Context, f: Forwarding): Promise<void> {
  const state = ctx.state as RequestState;
  const upstreamOrigin = originOf(f.base);
  const url = `${f.base}${ctx.path}${ctx.querystring ? `?${ctx.querystring}` : ''}`;
  const rawBody = (ctx.request as { rawBody?: string }).rawBody ?? JSON.stringify((ctx.request as { body?: unknown }).body ?? {});
  const where = { requestId: state.requestId, provider: f.provider.name, upstream: upstreamOrigin, route: ctx.path };

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

  let response: Response;
  try {
    response = await fetch(url, { method: ctx.method, headers: forwardedHeaders(ctx.req.headers), body: rawBody, signal: controller.signal, redirect: 'manual' });
  } catch (error) {
    silence.stop();
    ctx.res.off('close', onClientGone);
    if (clientGone) {
      f.logger.info(where, 'client went away before the upstream answered');
      ctx.respond = false;
      state.delivered = { outcome: 'aborted', contentChunks: 0 };
      return;
    }
    const timedOut = silence.timedOut;
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
  ctx.status = response.status;
  ctx.respond = false;
  // The mock's own x-mockllm-* headers win over an upstream's (which may be another mockllm).
  ctx.res.writeHead(response.status, { ...answeredHeaders(response.headers), ...(ctx.response.headers as Record<string, string>) });
  // The status and headers go out at once, before the first byte of the body (HTTP/1.1; an HTTP/2 response sends them on its first write).
  (ctx.res as { flushHeaders?: () => void }).flushHeaders?.();

  const recording = f.recorder !== undefined && (response.status < 400 || f.recordErrors);
  const splitter = recording ? splitterFor(response.headers.get('content-type') ?? undefined) : undefined;
  const decoder = new TextDecoder();
  let captured = '';
  let capturing = recording;
  let outcome: 'completed' | 'aborted' | 'failed' = 'completed';
  try {
    if (response.body) {
      for await (const piece of response.body) {
        silence.touch();
        if (capturing) {
          const text = decoder.decode(piece, { stream: true });
          captured += text;
          splitter?.push(text, performance.now() - sentAt);
          if (captured.length > MAX_RECORDED_BYTES) {
            capturing = false;
            f.logger.warn(where, 'upstream answer too large to record: proxied only');
          }
        }
        if (!ctx.res.write(piece)) {
          const [event] = await Promise.race([once(ctx.res, 'drain').then(() => ['drain']), once(ctx.res, 'close').then(() => ['close'])]);
          if (event === 'close') throw new Error('the client went away');
        }
      }
    }
    if (capturing) {
      const tail = decoder.decode();
      captured += tail;
      splitter?.push(tail, performance.now() - sentAt);
    }
    ctx.res.end();
  } catch (error) {
    outcome = clientGone || ctx.res.destroyed ? 'aborted' : 'failed';
    // The client must see the drop as a drop: a stream cut short, never one that ended cleanly.
    ctx.res.destroy();
    f.logger.warn({ ...where, reason: silence.timedOut ? 'timeout' : reasonOf(error), outcome }, outcome === 'aborted' ? 'client went away during the upstream answer: not recorded' : 'upstream answer broke off: not recorded');
  } finally {
    silence.stop();
    ctx.res.off('close', onClientGone);
  }
  state.delivered = { outcome, contentChunks: 0 };
  f.logger.debug({ ...where, status: response.status, outcome }, 'proxied to upstream');
  if (!capturing || outcome !== 'completed' || !f.recorder) {
    if (f.recorder && outcome === 'completed' && response.status >= 400 && !f.recordErrors) f.logger.info({ ...where, status: response.status }, 'upstream error not recorded (--record-errors records them)');
    return;
  }

  const answer: UpstreamAnswer = {
    endpoint: f.conversation.endpoint,
    status: response.status,
    header: (name) => response.headers.get(name) ?? undefined,
    body: captured,
    frames: splitter?.frames,
  };
  // Error bodies share one shape across the providers ({error: {message, type, code}}); answers are each provider's own.
  const decoded = response.status >= 400 ? genericError(answer) : f.provider.recorder?.decode(answer);
  if (!decoded) {
    f.logger.warn({ ...where, status: response.status }, f.provider.recorder ? 'upstream answer incomplete or not recordable: not recorded' : `no recorder for ${f.provider.name}: proxied only`);
    return;
  }
  const scrubber = Scrubber.fromRequest(ctx.req.headers, new URLSearchParams(ctx.querystring));
  await f.recorder.record(f.conversation, decoded, scrubber, f.stream);
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
