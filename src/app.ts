import Koa, { type Context, type Middleware, type Next } from 'koa';
import Router from '@koa/router';
import compose from 'koa-compose';
import { adminMiddleware, isAdminPath } from './admin/index.ts';
import type { Journal } from './admin/journal.ts';
import type { ConfigSource } from './config/source.ts';
import type { RuleStore } from './engine/store.ts';
import { cors } from './http/cors.ts';
import { jsonBody } from './http/json-body.ts';
import { ApiError, fromBodyParserError, internalError } from './http/errors.ts';
import type { RequestState } from './http/state.ts';
import { elapsedMs, stampProcessingTime } from './http/timing.ts';
import { opsRoutes, type Lifecycle } from './observability/health.ts';
import type { Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';
import { PROVIDERS } from './providers/index.ts';
import type { Provider, ProviderDeps } from './providers/provider.ts';

export interface AppOptions {
  store: RuleStore;
  logger: Logger;
  journal: Journal;
  metrics: Metrics;
  lifecycle: Lifecycle;
  config?: ConfigSource;
  /** MOCKLLM_STRICT, when set: overrides the config's `settings.strict`. */
  strictOverride?: boolean;
  /** MOCKLLM_ADMIN_TOKEN / --admin-token: overrides `settings.admin.token`. */
  adminToken?: string;
  /** --no-admin. */
  adminDisabled?: boolean;
}

// Probes and scrapes arrive every few seconds; their log lines would drown the ones that matter.
const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const MAX_CLIENT_REQUEST_ID = 200;

/**
 * Middleware order: request context (id, owning provider) → access log → metrics → last-resort
 * errors → CORS → then one of three branches: ops (health, metrics), admin, or the provider
 * pipeline (journal → provider errors → JSON body → route table → 404).
 */
export function createApp(options: AppOptions): Koa {
  const { store, logger, metrics } = options;
  const app = new Koa();
  const router = new Router();
  const providerOfRoute = new Map<string, Provider>();
  const deps: ProviderDeps = {
    store,
    strictOverride: options.strictOverride,
    streams: {
      opened: () => metrics.activeStreams.inc(),
      closed: () => metrics.activeStreams.dec(),
    },
  };
  const handlers: RouteHandler[] = [];
  for (const provider of PROVIDERS) {
    for (const route of provider.routes) {
      const handler = (ctx: Context) => route.handle(ctx, deps);
      router.register(route.path, [route.method], handler);
      handlers.push({ method: route.method, path: route.path, handler });
      providerOfRoute.set(route.path, provider);
    }
  }

  const ops = opsRoutes({ store, metrics, lifecycle: options.lifecycle, config: options.config });
  const admin = adminMiddleware({
    store,
    journal: options.journal,
    metrics,
    logger,
    token: options.adminToken,
    disabled: options.adminDisabled,
  });
  const providerPipeline = compose([
    journalRecorder(options.journal),
    errorResponder(logger),
    jsonBody(store, providerOfRoute),
    providerRoutes(router, handlers),
    (ctx: Context) => {
      const provider = (ctx.state as RequestState).provider;
      throw new ApiError({ status: 404, kind: 'not_found', message: provider.unknownRouteMessage(ctx.method, ctx.path) });
    },
  ]);

  app.use(requestContext(providerOfRoute));
  app.use(accessLog(logger));
  app.use(metricsRecorder(metrics));
  // The last resort for anything thrown outside the provider pipeline (CORS, ops): without it Koa's
  // default handler would answer plain text and drop every header, the request id included.
  app.use(errorResponder(logger));
  app.use(cors(store));
  app.use((ctx, next) => {
    if (OPS_PATHS.has(ctx.path) && (ctx.method === 'GET' || ctx.method === 'HEAD')) return ops(ctx, next);
    if (isAdminPath(ctx.path)) return admin(ctx, () => providerPipeline(ctx, next));
    return providerPipeline(ctx, next);
  });
  // Koa's own last-resort handler would print to stderr; everything is already logged by accessLog.
  app.silent = true;
  return app;
}

interface RouteHandler {
  method: string;
  path: string;
  handler: (ctx: Context) => Promise<void>;
}

/**
 * The provider routes. A request for a route's exact path (what every SDK sends) is dispatched with
 * one map lookup; anything else (a path with parameters, a case or trailing-slash variant the router
 * also accepts, an unknown path) goes through @koa/router as before. The router's matching and the
 * middleware chain it composes for every request were ~8% of a non-stream request's CPU.
 */
function providerRoutes(router: Router, routes: readonly RouteHandler[]): Middleware {
  const exact = new Map<string, RouteHandler['handler']>();
  for (const { method, path, handler } of routes) {
    // Only where the router would run this one handler and nothing else for the same request.
    if (!/[:{(*]/.test(path) && router.match(path, method).pathAndMethod.length === 1) exact.set(`${method} ${path}`, handler);
  }
  const routed = router.routes() as unknown as Middleware;
  return (ctx: Context, next: Next) => {
    const handler = exact.get(`${ctx.method} ${ctx.path}`);
    if (!handler) return routed(ctx, next);
    (ctx as { _matchedRoute?: string })._matchedRoute = ctx.path;
    return handler(ctx);
  };
}

/**
 * The route template that serves this request. Provider routes are static paths, known before the
 * router runs, so a request that fails earlier (a body that is not JSON) still names its route.
 */
const matchedRoute = (ctx: Context): string | undefined => {
  const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
  return typeof route === 'string' ? route : (ctx.state as RequestState).providerRoute;
};

/** Decides which provider owns the request (its error shape, its ids) and sets the request id. */
function requestContext(providerOfRoute: ReadonlyMap<string, Provider>): Middleware {
  return async (ctx: Context, next: Next) => {
    const state = ctx.state as RequestState;
    state.startedAt = process.hrtime.bigint();
    const header = (name: string) => ctx.get(name) || undefined;
    const provider = providerOfRoute.get(ctx.path) ?? PROVIDERS.find((p) => p.claims(ctx.path, header))!;
    const clientId = ctx.get('x-request-id');
    const requestId = clientId && clientId.length <= MAX_CLIENT_REQUEST_ID ? clientId : provider.newRequestId();
    state.provider = provider;
    state.requestId = requestId;
    if (providerOfRoute.has(ctx.path)) state.providerRoute = ctx.path;
    ctx.set('x-request-id', requestId);
    if (!OPS_PATHS.has(ctx.path) && !isAdminPath(ctx.path)) ctx.set(provider.responseHeaders(requestId));
    await next();
  };
}

function accessLog(logger: Logger): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } finally {
      const state = ctx.state as RequestState;
      const answer = state.answer;
      const line = {
        requestId: state.requestId,
        method: ctx.method,
        route: matchedRoute(ctx) ?? ctx.path,
        status: ctx.status,
        durationMs: elapsedMs(state),
        ...(answer && {
          provider: state.provider.name,
          model: answer.model,
          matched: answer.ruleId !== null,
          ruleId: answer.ruleId,
          stream: answer.stream,
          ...(answer.streamOutcome && { streamOutcome: answer.streamOutcome, chunks: answer.contentChunks }),
        }),
      };
      if (OPS_PATHS.has(ctx.path)) logger.debug(line, 'request');
      else logger.info(line, 'request');
    }
  };
}

function metricsRecorder(metrics: Metrics): Middleware {
  return async (ctx: Context, next: Next) => {
    const state = ctx.state as RequestState;
    try {
      await next();
    } finally {
      // Only route templates become labels: a raw path would let clients mint unbounded series.
      const route = matchedRoute(ctx) ?? 'unmatched';
      metrics.httpRequests.inc({ method: ctx.method, route, status: String(ctx.status) });
      metrics.httpDuration.observe({ method: ctx.method, route }, elapsedMs(state) / 1000);
      const answer = state.answer;
      if (answer) {
        metrics.responses.inc({ provider: state.provider.name, endpoint: route, matched: String(answer.ruleId !== null) });
        if (answer.contentChunks) metrics.streamChunks.inc({ provider: state.provider.name }, answer.contentChunks);
      }
    }
  };
}

function journalRecorder(journal: Journal): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } finally {
      if (journal.capacity > 0) {
        const state = ctx.state as RequestState;
        const answer = state.answer;
        const route = matchedRoute(ctx);
        const raw = (ctx.request as { rawBody?: string }).rawBody;
        const body = (ctx.request as { body?: unknown }).body;
        const bodyModel = body && typeof body === 'object' && typeof (body as { model?: unknown }).model === 'string' ? (body as { model: string }).model : null;
        // Only references and numbers: the journal formats (and redacts) an entry when it is listed.
        journal.record({
          at: Date.now(),
          method: ctx.method,
          provider: route ? state.provider.name : null,
          endpoint: route ?? ctx.path,
          model: answer?.model ?? bodyModel,
          prompt: answer ? answer.prompt : null,
          stream: answer?.stream ?? false,
          step: answer?.step ?? null,
          status: ctx.status,
          matched: answer?.ruleId != null,
          ruleId: answer?.ruleId ?? null,
          durationMs: elapsedMs(state),
          headers: ctx.request.headers,
          body: body ?? null,
          bodyBytes: raw === undefined ? 0 : Buffer.byteLength(raw),
        });
      }
    }
  };
}

function errorResponder(logger: Logger): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (thrown) {
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
      ctx.set(error.headers);
      ctx.body = state.provider.errorBody(error, state.requestId);
    }
  };
}
