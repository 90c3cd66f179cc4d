import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import compose from 'koa-compose';
import type { Context, Middleware, Next } from 'koa';
import type { RuleStore } from '../engine/store.ts';
import { isDecompressionError } from '../http/errors.ts';
import { loadBodyParser } from '../http/json-body.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { AdminError, sendAdminError } from './errors.ts';
import { StateUnavailable } from '../state/errors.ts';
import type { StateStores } from '../state/types.ts';
import { registerRequestRoutes } from './requests.ts';
import { resetAll } from './reset.ts';
import { registerResponseRoutes } from './responses.ts';
import { registerSequenceRoutes } from './sequences.ts';
import { registerDashboardRoutes } from './dashboard.ts';
import { registerRequestStream } from './stream.ts';
import { isUiPath, registerUiRoutes } from './ui.ts';

export interface AdminOptions {
  store: RuleStore;
  state: StateStores;
  metrics: Metrics;
  logger: Logger;
  /** From MOCKLLM_ADMIN_TOKEN or --admin-token; wins over `settings.admin.token`. */
  token?: string;
  /** --no-admin: the routes do not exist, whatever the config says. */
  disabled?: boolean;
}

const ADMIN_BODY_LIMIT = '1mb';

/**
 * The query parameters each admin route reads. Any other is refused with a 400 naming it: a
 * misspelt filter (`?matchd=false`) would otherwise silently list everything.
 */
const QUERY_PARAMETERS: Record<string, readonly string[]> = {
  'GET /admin/requests': ['provider', 'model', 'endpoint', 'matched', 'limit', 'after'],
  'GET /admin/responses': ['unused'],
  'GET /admin/requests/stream': ['after'],
};

export { isAdminPath } from './paths.ts';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares digests, so neither the token's content nor its length shows in the timing. */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * The admin surface as one middleware. When the admin API is disabled it passes the request on,
 * so /admin paths get the same 404 as any unknown path.
 */
export function adminMiddleware(options: AdminOptions): Middleware {
  const { store, state, metrics } = options;
  const router = new Router();
  registerResponseRoutes(router, store, metrics);
  router.post('/admin/reset', async (ctx) => {
    await resetAll(store, state);
    metrics.adminChanges.inc({ operation: 'reset' });
    ctx.status = 204;
  });
  // Before the journal's routes: /admin/requests/stream is a path of its own.
  registerRequestStream(router, state.journal);
  registerRequestRoutes(router, state.journal);
  registerSequenceRoutes(router, store, metrics);
  registerDashboardRoutes(router, store, metrics);
  registerUiRoutes(router);

  const handle = compose([
    adminErrors(options.logger),
    authorize(store, options.token),
    routeFirst(router),
    adminBody(),
    router.routes() as unknown as Middleware,
    (ctx: Context) => {
      // The path exists with other methods: 405 with Allow, as HTTP asks (RFC 9110 §15.5.6).
      const allowed = [...new Set(router.match(ctx.path, ctx.method).path.flatMap((layer) => layer.methods))].filter((m) => m !== 'HEAD');
      if (allowed.length > 0) {
        ctx.set('allow', allowed.join(', '));
        throw new AdminError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}; use ${allowed.join(' or ')}.`);
      }
      throw new AdminError(404, 'not_found', 'No such admin endpoint.');
    },
  ]);

  return (ctx: Context, next: Next) => {
    if (options.disabled || !store.current.settings.adminEnabled) return next();
    return handle(ctx, next);
  };
}

/**
 * Names the route before the body is read, so a request refused early (413, bad JSON) is still
 * labelled with its admin route in the metrics, and checks the query against what the route reads.
 */
function routeFirst(router: Router): Middleware {
  return async (ctx: Context, next: Next) => {
    const layer = router.match(ctx.path, ctx.method).pathAndMethod.at(-1);
    if (layer) {
      (ctx as { _matchedRoute?: string })._matchedRoute = layer.path as string;
      const known = QUERY_PARAMETERS[`${ctx.method === 'HEAD' ? 'GET' : ctx.method} ${layer.path as string}`] ?? [];
      const unknown = Object.keys(ctx.query).filter((name) => !known.includes(name));
      if (unknown.length > 0) {
        const accepted = known.length === 0 ? 'this endpoint takes no query parameters' : `it takes ${known.join(', ')}`;
        throw new AdminError(400, 'invalid_query', `Unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: ${accepted}.`, unknown[0]);
      }
    }
    await next();
  };
}

function authorize(store: RuleStore, cliToken: string | undefined): Middleware {
  return async (ctx: Context, next: Next) => {
    const token = cliToken ?? store.current.settings.adminToken;
    // The dashboard's files hold no data: the page loads without the token and asks for it.
    if (token !== undefined && !isUiPath(ctx.path)) {
      const match = /^Bearer (.+)$/i.exec(ctx.get('authorization'));
      if (!match || !tokenMatches(match[1]!, token)) {
        ctx.set('www-authenticate', 'Bearer realm="mockllm-admin"');
        throw new AdminError(401, 'unauthorized', 'This admin API needs "Authorization: Bearer <token>" with the configured admin token.');
      }
    }
    await next();
  };
}

function adminErrors(logger: Logger): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof AdminError) return sendAdminError(ctx, error);
      // The shared store (Redis) is unreachable or did not answer in time: nothing was changed.
      if (error instanceof StateUnavailable) {
        ctx.set('retry-after', '1');
        return sendAdminError(ctx, new AdminError(503, 'unavailable', error.message));
      }
      const { status, type } = (error ?? {}) as { status?: number; type?: string };
      if (status === 413 || type === 'entity.too.large') return sendAdminError(ctx, new AdminError(413, 'too_large', `The body is larger than ${ADMIN_BODY_LIMIT}.`));
      // A compressed body that does not decompress is a bad body too (zlib's error carries no status).
      if (status === 400 || status === 415 || isDecompressionError(error)) return sendAdminError(ctx, new AdminError(400, 'invalid_json', 'The body is not valid JSON.'));
      logger.error({ err: error, route: ctx.path }, 'unexpected error in the admin API');
      sendAdminError(ctx, new AdminError(500, 'internal', 'Unexpected error; see the server log.'));
    }
  };
}

/** The admin API's JSON body parser, built (and koa-bodyparser loaded) with the first admin request, not at start-up. */
function adminBody(): Middleware {
  let parse: Middleware | undefined;
  return (ctx, next) => {
    parse ??= loadBodyParser()({ enableTypes: ['json'], jsonLimit: ADMIN_BODY_LIMIT, strict: true, detectJSON: () => true }) as unknown as Middleware;
    return parse(ctx, next);
  };
}
