import Koa, { type Context, type Middleware, type Next } from 'koa';
import Router from '@koa/router';
import bodyParser from 'koa-bodyparser';
import type { RuleStore } from './engine/store.ts';
import { ApiError, fromBodyParserError, internalError, routeNotFound } from './http/errors.ts';
import type { RequestState } from './http/state.ts';
import type { Logger } from './observability/logger.ts';
import { PROVIDERS } from './providers/index.ts';
import type { Provider, ProviderDeps } from './providers/provider.ts';

export interface AppOptions {
  store: RuleStore;
  logger: Logger;
  /** MOCKLLM_STRICT, when set: overrides the config's `settings.strict`. */
  strictOverride?: boolean;
}

// Probes and scrapes arrive every few seconds; their log lines would drown the ones that matter.
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const MAX_CLIENT_REQUEST_ID = 200;

export function createApp(options: AppOptions): Koa {
  const { store, logger } = options;
  const app = new Koa();
  const router = new Router();
  const providerOfRoute = new Map<string, Provider>();
  const deps: ProviderDeps = { store, strictOverride: options.strictOverride };

  for (const provider of PROVIDERS) {
    for (const route of provider.routes) {
      router.register(route.path, [route.method], (ctx: Context) => route.handle(ctx, deps));
      providerOfRoute.set(route.path, provider);
    }
  }
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  app.use(requestContext(providerOfRoute));
  app.use(accessLog(logger));
  app.use(errorResponder(logger));
  app.use(jsonBody(store, providerOfRoute));
  app.use(router.routes());
  app.use((ctx) => {
    throw routeNotFound(ctx.method, ctx.path);
  });
  // Koa's own last-resort handler would print to stderr; everything is already logged by accessLog.
  app.silent = true;
  return app;
}

/** Decides which provider owns the request (its error shape, its ids) and sets the request id. */
function requestContext(providerOfRoute: ReadonlyMap<string, Provider>): Middleware {
  return async (ctx: Context, next: Next) => {
    const header = (name: string) => ctx.get(name) || undefined;
    const provider = providerOfRoute.get(ctx.path) ?? PROVIDERS.find((p) => p.claims(ctx.path, header))!;
    const clientId = ctx.get('x-request-id');
    const requestId = clientId && clientId.length <= MAX_CLIENT_REQUEST_ID ? clientId : provider.newRequestId();
    const state = ctx.state as RequestState;
    state.provider = provider;
    state.requestId = requestId;
    state.startedAt = process.hrtime.bigint();
    ctx.set('x-request-id', requestId);
    ctx.set(provider.responseHeaders(requestId));
    await next();
  };
}

function accessLog(logger: Logger): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } finally {
      const state = ctx.state as RequestState;
      const durationMs = Number(process.hrtime.bigint() - state.startedAt) / 1e6;
      const answer = state.answer;
      const line = {
        requestId: state.requestId,
        method: ctx.method,
        route: (ctx as { routePath?: string }).routePath ?? ctx.path,
        status: ctx.status,
        durationMs: Math.round(durationMs * 1000) / 1000,
        ...(answer && {
          provider: state.provider.name,
          model: answer.model,
          matched: answer.ruleId !== null,
          ruleId: answer.ruleId,
          stream: answer.stream,
          ...(answer.streamOutcome && { streamOutcome: answer.streamOutcome, chunks: answer.contentChunks }),
        }),
      };
      if (QUIET_PATHS.has(ctx.path)) logger.debug(line, 'request');
      else logger.info(line, 'request');
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
        error = internalError();
        error = new ApiError({ ...error, message: `${error.message} (Please include the request ID ${state.requestId} in your message.)` });
      }
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

/**
 * JSON bodies for the provider routes. The body is parsed as JSON whatever its content-type, as the
 * real APIs do (a bare `curl -d` sends form encoding). The size limit comes from the live config,
 * so a parser per distinct limit is kept rather than one built per request.
 */
function jsonBody(store: RuleStore, providerOfRoute: ReadonlyMap<string, Provider>): Middleware {
  const parsers = new Map<number, Middleware>();
  const parserFor = (limit: number) => {
    let parser = parsers.get(limit);
    if (!parser) {
      parser = bodyParser({ enableTypes: ['json'], jsonLimit: `${limit}b`, strict: true, detectJSON: () => true }) as unknown as Middleware;
      parsers.set(limit, parser);
    }
    return parser;
  };
  return (ctx: Context, next: Next) => {
    if (ctx.method !== 'POST' || !providerOfRoute.has(ctx.path)) return next();
    return parserFor(store.current.settings.bodyLimitBytes)(ctx, next);
  };
}
