import Koa, { type Context, type Middleware, type Next } from 'koa';
import compose from 'koa-compose';
import { isAdminPath } from './admin/paths.ts';
import type { ConfigSource } from './config/source.ts';
import { systemClock, type Clock } from './engine/clock.ts';
import type { Explanation } from './engine/explain.ts';
import type { RuleStore } from './engine/store.ts';
import { cors, corsHandler } from './http/cors.ts';
import { bodyReader, jsonBody } from './http/json-body.ts';
import { ApiError, fromBodyParserError, internalError } from './http/errors.ts';
import { RouteTable } from './http/route-table.ts';
import type { RequestState } from './http/state.ts';
import { elapsedMs, stampProcessingTime } from './http/timing.ts';
import { endAtTurnEnd } from './http/turn-writes.ts';
import { opsRoutes, type Lifecycle } from './observability/health.ts';
import { infoLineWriter, type Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';
import { PROVIDERS } from './providers/index.ts';
import type { Provider, ProviderDeps, RouteRequest } from './providers/provider.ts';
import type { StateStores } from './state/types.ts';

export interface AppOptions {
  store: RuleStore;
  state: StateStores;
  logger: Logger;
  metrics: Metrics;
  lifecycle: Lifecycle;
  config?: ConfigSource;
  /** MOCKLLM_STRICT, when set: overrides the config's `settings.strict`. */
  strictOverride?: boolean;
  /** MOCKLLM_ADMIN_TOKEN / --admin-token: overrides `settings.admin.token`. */
  adminToken?: string;
  /** --no-admin. */
  adminDisabled?: boolean;
  /** The providers served (all registered ones by default). */
  providers?: readonly Provider[];
  clock?: Clock;
  /** Proxy on a miss (`--upstream`, src/proxy/upstream.ts): answers requests no rule matched from the provider's real API. */
  upstream?: ProviderDeps['upstream'];
}

// Probes and scrapes arrive every few seconds; their log lines would drown the ones that matter.
const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const MAX_CLIENT_REQUEST_ID = 200;

/**
 * Middleware order: request context (id, route, owning provider) → access log → metrics → last-resort
 * errors → CORS → then one of three branches: ops (health, metrics), admin, or the provider
 * pipeline (journal → provider errors → JSON body → the route → 404).
 */
export function createApp(options: AppOptions): Koa {
  const { store, logger, metrics, state } = options;
  const providers = options.providers ?? PROVIDERS;
  const app = new Koa();
  const routes = new RouteTable(providers);
  const deps: ProviderDeps = {
    store,
    strictOverride: options.strictOverride,
    streams: {
      opened: () => metrics.activeStreams.inc(),
      closed: () => metrics.activeStreams.dec(),
    },
    responses: state.responses,
    conversations: state.conversations,
    storedResponses: state.storedResponses,
    journal: state.journal,
    promptCache: state.promptCache,
    clock: options.clock ?? systemClock,
    providers,
    ...(options.upstream && { upstream: options.upstream }),
  };

  const ops = opsRoutes({ store, metrics, lifecycle: options.lifecycle, config: options.config, backend: state.backend });
  // The admin API (its router, dashboard and UI: ~60 ms of start-up CPU, docs/benchmarks.md S5) is
  // loaded and built with the first /admin request.
  let adminHandler: Promise<Middleware> | undefined;
  const admin = (ctx: Context, next: Next) =>
    (adminHandler ??= import('./admin/index.ts').then(({ adminMiddleware }) =>
      adminMiddleware({
        store,
        state,
        metrics,
        logger,
        token: options.adminToken,
        disabled: options.adminDisabled,
      }),
    )).then((handle) => handle(ctx, next));
  const handleRoute = (ctx: Context) => {
    const requestState = ctx.state as RequestState;
    const { route, params } = requestState;
    if (!route) throw new ApiError({ status: 404, kind: 'not_found', message: requestState.provider.unknownRouteMessage(ctx.method, ctx.path) });
    const request: RouteRequest = new ContextRequest(ctx, params ?? {}, headerReader(ctx.request.headers), (ctx.request as { body?: unknown }).body, deps.strictOverride ?? store.current.settings.strict);
    return route.handle(ctx, request, deps);
  };
  const providerPipeline = compose([journalRecorder(state), errorResponder(logger), jsonBody(store), handleRoute]);

  // Ops and admin paths: the middleware chain.
  const chain = compose([
    requestContext(routes),
    accessLog(logger),
    metricsRecorder(metrics),
    // The last resort for anything thrown outside the provider pipeline (CORS, ops): without it Koa's
    // default handler would answer plain text and drop every header, the request id included.
    errorResponder(logger),
    cors(store, providers),
    (ctx: Context, next: Next) => {
      if (OPS_PATHS.has(ctx.path) && (ctx.method === 'GET' || ctx.method === 'HEAD')) return ops(ctx, next);
      if (isAdminPath(ctx.path)) return admin(ctx, () => providerPipeline(ctx, next));
      return providerPipeline(ctx, next);
    },
  ]);
  // Every other path (the provider routes, and their 404s): the same steps in one function.
  const provider = providerRequest({ routes, logger, metrics, journal: state.journal, cors: corsHandler(store, providers), readBody: bodyReader(store), handleRoute });
  app.use((ctx, next) => (isOpsPath(ctx.path) ? chain(ctx, next) : provider(ctx)));
  // Koa's own last-resort handler would print to stderr; everything is already logged by accessLog.
  app.silent = true;
  return app;
}

const isOpsPath = (path: string) => OPS_PATHS.has(path) || isAdminPath(path);

/**
 * A provider request's whole path, in one function: the steps of the middleware chain the ops and
 * admin paths take, in the same order and with the same effects (request context → access log →
 * metrics → last-resort errors → CORS → journal → provider errors → JSON body → route), without an
 * async function and a dispatch per step: the eight-deep chain was ~15% of a non-stream request's
 * CPU (issue 17's profiles).
 */
function providerRequest(parts: {
  routes: RouteTable;
  logger: Logger;
  metrics: Metrics;
  journal: StateStores['journal'];
  cors: (ctx: Context) => boolean;
  readBody: (ctx: Context) => Promise<void> | undefined;
  handleRoute: (ctx: Context) => Promise<void>;
}): (ctx: Context) => Promise<void> {
  const { routes, logger, metrics, journal, cors, readBody, handleRoute } = parts;
  return async (ctx: Context) => {
    setRequestContext(ctx, routes, false);
    try {
      try {
        // A preflight CORS answers is not journaled (CORS comes before the journal in the chain).
        if (cors(ctx)) return;
        try {
          await readBody(ctx);
          await handleRoute(ctx);
        } catch (thrown) {
          answerError(ctx, thrown, logger);
        } finally {
          if (journal.capacity > 0) recordJournal(ctx, journal);
        }
      } catch (thrown) {
        answerError(ctx, thrown, logger);
      }
      sendJsonAnswer(ctx);
    } finally {
      recordMetrics(ctx, metrics);
      logRequest(ctx, logger);
    }
  };
}

/**
 * Koa's own respond() for the one case nearly every provider answer is (a JSON object, a status
 * with a body, a socket still open), done here: the answer is serialised before the log line and
 * the metrics, and leaves with the other answers of this turn (http/turn-writes.ts), without Koa's
 * general path (its body, length and type accessors were ~5% of a non-stream request's CPU, issue
 * 17's profiles). Anything else (a stream, a HEAD, a 204, a response already begun or given up
 * with `ctx.respond = false`) is left to Koa.
 */
function sendJsonAnswer(ctx: Context): void {
  const res = ctx.res;
  const body = ctx.body;
  if (ctx.respond === false || res.headersSent || body === null || typeof body !== 'object' || Buffer.isBuffer(body)) return;
  if (typeof (body as { pipe?: unknown }).pipe === 'function' || ctx.method === 'HEAD' || ctx.status === 204 || ctx.status === 205 || ctx.status === 304) return;
  // Koa's own rule: no socket (an HTTP/2 stream the client cancelled has none) counts as writable.
  const socket = res.socket;
  if (res.writableEnded || (socket != null && !socket.writable)) return;
  const text = JSON.stringify(body);
  ctx.respond = false;
  res.setHeader('Content-Length', Buffer.byteLength(text));
  endAtTurnEnd(res, text);
}

/** The route template that serves this request (only templates become metric labels), if one does. */
const routeOf = (ctx: Context): string | undefined => {
  const state = ctx.state as RequestState;
  if (state.route) return state.route.path;
  const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
  return typeof matched === 'string' ? matched : undefined;
};

/**
 * Resolves the route once, before anything else (so a request that fails early, such as a body that
 * is not JSON, still names its route and gets its provider's error shape), and sets the request id.
 */
function requestContext(routes: RouteTable): Middleware {
  return async (ctx: Context, next: Next) => {
    setRequestContext(ctx, routes, isOpsPath(ctx.path));
    await next();
  };
}

function setRequestContext(ctx: Context, routes: RouteTable, ops: boolean): void {
  const state = ctx.state as RequestState;
  state.startedAt = process.hrtime.bigint();
  const headers = ctx.req.headers;
  const header = (name: string) => {
    const value = headers[name.toLowerCase()];
    return (Array.isArray(value) ? value.join(', ') : value) || undefined;
  };
  const path = ctx.path;
  const query = (name: string) => [ctx.query[name]].flat()[0];
  const resolved = ops ? undefined : routes.resolve(ctx.method, path, header, query);
  const provider = resolved?.provider ?? routes.owner(path, header, query);
  const clientId = header('x-request-id');
  const requestId = clientId && clientId.length <= MAX_CLIENT_REQUEST_ID ? clientId : provider.newRequestId();
  state.provider = provider;
  state.requestId = requestId;
  if (resolved) {
    state.route = resolved.route;
    state.params = resolved.params;
  }
  // Straight to Node's setHeader: Koa's ctx.set adds a wrapper call and checks per header, and a
  // provider sends up to 17 on every answer.
  const res = ctx.res;
  res.setHeader('x-request-id', requestId);
  if (!ops) {
    const own = provider.responseHeaders(requestId);
    for (const name in own) res.setHeader(name, own[name]!);
  }
}

/** The model a request's body names, when a request failed before it was parsed. */
function modelInBody(ctx: Context): string | null {
  const body = (ctx.request as { body?: unknown }).body;
  return body && typeof body === 'object' && typeof (body as { model?: unknown }).model === 'string' ? (body as { model: string }).model : null;
}

/** The reason a request failed, for its log line: what the client was told. */
function failureOf(ctx: Context): { errorType: string; errorMessage: string } | undefined {
  if (ctx.status < 400) return undefined;
  const body = ctx.body as { error?: { type?: unknown; status?: unknown; message?: unknown; code?: unknown } | string; message?: unknown } | undefined;
  const error = body?.error;
  if (typeof error === 'string') return { errorType: String(ctx.status), errorMessage: error };
  if (error && typeof error === 'object') {
    // OpenAI and Anthropic name the type; Gemini's is its status word (INVALID_ARGUMENT), its code the HTTP status.
    const type = error.type ?? (typeof error.status === 'string' ? error.status : undefined) ?? error.code;
    return { errorType: String(type ?? ctx.status), errorMessage: String(error.message ?? '') };
  }
  if (typeof body?.message === 'string') {
    // Bedrock names the exception in a header (`ValidationException:http://…`); the AWS SDK keeps the part before `:`.
    const exception = ctx.response.get('x-amzn-errortype').split(':')[0];
    return { errorType: exception || String(ctx.status), errorMessage: body.message };
  }
  return undefined;
}

/** One line for the debug log: which rule answered and why, or the closest rules and what they missed. */
function describe(explanation: Explanation): string {
  if (explanation.matched) return `rule ${explanation.ruleId} (${explanation.source}) matched: ${explanation.conditions.join(', ') || 'match {}'}`;
  if (explanation.nearMisses.length === 0) return 'no rule matched, and no rule came close';
  return `no rule matched; closest: ${explanation.nearMisses.map((m) => `${m.ruleId} (${m.failed.condition}: ${m.failed.why})`).join('; ')}`;
}

function accessLog(logger: Logger): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } finally {
      logRequest(ctx, logger);
    }
  };
}

/** The request's access log line (fields in a fixed order; a field is absent when it does not apply). */
function logRequest(ctx: Context, logger: Logger): void {
  const state = ctx.state as RequestState;
  const path = ctx.path;
  const probe = OPS_PATHS.has(path);
  if (probe ? !logger.isLevelEnabled('debug') : !logger.isLevelEnabled('info')) return;
  const { asked, decision, delivered } = state;
  const ops = probe || isAdminPath(path);
  const model = asked?.model ?? modelInBody(ctx);
  // Built field by field rather than from conditional spreads: each spread was an object of its own.
  const line: Record<string, unknown> = {
    requestId: state.requestId,
    method: ctx.method,
    route: routeOf(ctx) ?? path,
    status: ctx.status,
    durationMs: elapsedMs(state),
  };
  if (!ops) line.provider = state.provider.name;
  if (model !== null) line.model = model;
  if (asked) line.stream = asked.stream;
  if (decision) {
    line.matched = decision.rule !== null;
    line.ruleId = decision.rule?.id ?? null;
    if (decision.step !== undefined) line.step = decision.step;
  }
  if (state.proxied) line.proxied = state.proxied.upstream;
  if (delivered) {
    line.streamOutcome = delivered.outcome;
    line.chunks = delivered.contentChunks;
  }
  if (!ops) {
    const failure = failureOf(ctx);
    if (failure) {
      line.errorType = failure.errorType;
      line.errorMessage = failure.errorMessage;
    }
  }
  const writeInfo = infoLineWriter(logger);
  if (probe) logger.debug(line, 'request');
  else if (writeInfo) writeInfo(line, 'request');
  else logger.info(line, 'request');
  // Structured output whose rule disagrees with the request's schema (engine/structured-output.ts).
  if (decision?.schemaMismatch) logger.warn({ requestId: state.requestId, ruleId: decision.rule?.id ?? null, schemaMismatch: decision.schemaMismatch }, `structured output: ${decision.schemaMismatch}`);
  if (decision && logger.isLevelEnabled('debug')) logger.debug({ requestId: state.requestId, explanation: decision.explanation }, describe(decision.explanation));
}

function metricsRecorder(metrics: Metrics): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } finally {
      recordMetrics(ctx, metrics);
    }
  };
}

function recordMetrics(ctx: Context, metrics: Metrics): void {
  const state = ctx.state as RequestState;
  // Only route templates become labels: a raw path would let clients mint unbounded series.
  const route = routeOf(ctx) ?? 'unmatched';
  const { decision, delivered } = state;
  // A provider answer (a decision) also counts by provider, match and stream chunks.
  metrics.request(ctx.method, route, ctx.status, elapsedMs(state) / 1000, decision && state.provider.name, decision?.rule != null, delivered?.contentChunks);
}

function journalRecorder(state: StateStores): Middleware {
  const journal = state.journal;
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } finally {
      if (journal.capacity > 0) recordJournal(ctx, journal);
    }
  };
}

function recordJournal(ctx: Context, journal: StateStores['journal']): void {
  const requestState = ctx.state as RequestState;
  const { asked, decision, route } = requestState;
  const raw = (ctx.request as { rawBody?: string }).rawBody;
  const body = (ctx.request as { body?: unknown }).body;
  const bodyModel = modelInBody(ctx);
  const bodyStream = body && typeof body === 'object' && (body as { stream?: unknown }).stream === true;
  // Only references and numbers: the journal formats (and redacts) an entry when it is listed.
  journal.append({
    at: Date.now(),
    method: ctx.method,
    provider: route ? requestState.provider.name : null,
    endpoint: route?.path ?? ctx.path,
    model: asked?.model ?? bodyModel,
    prompt: asked ? asked.prompt : null,
    // A refused request was never parsed: its route reads what it asked for from the raw body.
    stream: asked?.stream ?? (route?.requestsStream ? route.requestsStream(body) : bodyStream === true),
    step: decision?.step ?? null,
    status: ctx.status,
    matched: decision?.rule != null,
    ruleId: decision?.rule?.id ?? null,
    durationMs: elapsedMs(requestState),
    headers: ctx.request.headers,
    body: body ?? null,
    bodyBytes: raw === undefined ? 0 : Buffer.byteLength(raw),
    // The decision itself: its explanation and the reply sent are read from it when listed.
    decision,
    delivered: requestState.delivered,
    ...(ctx.status >= 400 && { error: failureOf(ctx) ?? null }),
    proxied: requestState.proxied,
  });
}

/**
 * What a route reads of its request. A class, not an object literal with a `query` getter closing
 * over the Koa context: with the literal, every request's context (and all it holds) stayed
 * reachable from the old generation until a full GC, so each one survived the young-generation
 * GC and was promoted: ~10 MB per scavenge in S1 and 25 ms pauses (V8 makes a new accessor pair,
 * hence a new hidden class, per evaluation of such a literal, and old-generation structures keep
 * it). As a class: 0.8 ms pauses with the journal off, and 10–12% more requests/s
 * (docs/benchmarks.md, S1).
 */
class ContextRequest implements RouteRequest {
  readonly #ctx: Context;
  readonly params: Readonly<Record<string, string>>;
  readonly header: (name: string) => string | undefined;
  readonly body: unknown;
  readonly strict: boolean;
  constructor(ctx: Context, params: Readonly<Record<string, string>>, header: (name: string) => string | undefined, body: unknown, strict: boolean) {
    this.#ctx = ctx;
    this.params = params;
    this.header = header;
    this.body = body;
    this.strict = strict;
  }
  get query() {
    return this.#ctx.query;
  }
}

/**
 * A header lookup over the request's header object (lower-case names, as Node gives them), not
 * over the live context: the conversation that holds it may be kept by the journal.
 */
function headerReader(headers: Record<string, string | string[] | undefined>): (name: string) => string | undefined {
  return (name) => {
    const value = headers[name.toLowerCase()];
    if (value === undefined || value === '') return undefined;
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

function errorResponder(logger: Logger): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (thrown) {
      answerError(ctx, thrown, logger);
    }
  };
}

/** Answers what was thrown in the owning provider's error shape (an unexpected error is logged, and a 500). */
function answerError(ctx: Context, thrown: unknown, logger: Logger): void {
  const state = ctx.state as RequestState;
  let error = thrown instanceof ApiError ? thrown : fromBodyParserError(thrown, state.provider.malformedJsonMessage);
  if (!error) {
    logger.error({ err: thrown, requestId: state.requestId, route: ctx.path }, 'unexpected error while answering');
    const internal = internalError();
    error = new ApiError({ ...internal, message: `${internal.message} (Please include the request ID ${state.requestId} in your message.)` });
  }
  stampProcessingTime(ctx);
  if (ctx.res.headersSent) {
    // A stream already began: the status is gone, so ending the connection is the only honest signal.
    ctx.res.destroy();
    return;
  }
  ctx.status = error.status;
  ctx.set(state.provider.errorHeaders?.(error) ?? error.headers);
  ctx.body = state.provider.errorBody(error, state.requestId);
}
