import type { Context, Middleware, Next } from 'koa';
import type { RuleStore } from '../engine/store.ts';
import type { Provider } from '../providers/provider.ts';

const EXPOSE_HEADERS = 'x-request-id, request-id, x-mockllm-match, retry-after, retry-after-ms';

/**
 * CORS, off unless `settings.cors.origins` lists origins: a mock reachable from any web page should
 * be an explicit choice. Read from the live config, so enabling it is a reload away.
 */
export function cors(store: RuleStore, providers: readonly Provider[]): Middleware {
  const apply = corsHandler(store, providers);
  return async (ctx: Context, next: Next) => {
    if (apply(ctx)) return;
    await next();
  };
}

/**
 * The CORS step as a plain function, for the provider routes' one-function request path (app.ts):
 * sets the CORS headers a request gets, and answers a preflight (true: nothing more to do).
 */
export function corsHandler(store: RuleStore, providers: readonly Provider[]): (ctx: Context) => boolean {
  // What a preflight allows when it names no headers: ours, and every provider's clients' own.
  const allowHeaders = [...new Set(['authorization', 'content-type', 'x-request-id', ...providers.flatMap((p) => p.requestHeaders ?? [])])].join(', ');
  return (ctx: Context) => {
    const origins = store.current.settings.corsOrigins;
    if (origins.length === 0) return false;
    const origin = ctx.get('origin');
    if (!origin || !(origins.includes('*') || origins.includes(origin))) return false;
    ctx.set('access-control-allow-origin', origins.includes('*') ? '*' : origin);
    if (!origins.includes('*')) ctx.vary('origin');
    ctx.set('access-control-expose-headers', EXPOSE_HEADERS);
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      ctx.set('access-control-allow-methods', 'GET, POST, PUT, DELETE, OPTIONS');
      ctx.set('access-control-allow-headers', ctx.get('access-control-request-headers') || allowHeaders);
      ctx.set('access-control-max-age', '600');
      ctx.status = 204;
      return true;
    }
    return false;
  };
}
