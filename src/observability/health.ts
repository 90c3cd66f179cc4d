import { readFileSync } from 'node:fs';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { ConfigSource } from '../config/source.ts';
import type { RuleStore } from '../engine/store.ts';
import type { StateStores } from '../state/types.ts';
import type { Metrics } from './metrics.ts';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Lifecycle {
  /** False once shutdown begins, so readiness turns 503 before the listener closes. */
  ready: boolean;
}

export interface OpsOptions {
  store: RuleStore;
  metrics: Metrics;
  lifecycle: Lifecycle;
  config?: ConfigSource;
  /** The shared state store's connection (Redis), when there is one. */
  backend?: StateStores['backend'];
}

/** /healthz (liveness), /readyz (readiness) and /metrics: never behind the admin token. */
export function opsRoutes(options: OpsOptions): Middleware {
  const { store, metrics, lifecycle, config, backend } = options;
  // Per server, not per module: the module may be loaded long before this server starts (and a
  // process, such as a test run, may start several servers).
  const startedAt = Date.now();
  const router = new Router();
  const report = (status: string) => {
    const configStatus = config?.status;
    return {
      status,
      version: VERSION,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      config: configStatus && {
        path: configStatus.path,
        hash: configStatus.hash,
        loadedAt: configStatus.loadedAt.toISOString(),
        lastReloadAt: configStatus.lastReloadAt?.toISOString() ?? null,
        lastReloadError: configStatus.lastReloadError,
      },
      entries: store.counts(),
      // Redis down is reported here but keeps readiness 200: every replica answers from its last
      // known rules, and taking them all out of the Service at once would turn a blip into an outage.
      state: { backend: backend?.status() ?? { kind: 'memory' }, overlayVersion: store.overlayVersion },
    };
  };
  router.get('/healthz', (ctx) => {
    ctx.body = report('ok');
  });
  router.get('/readyz', (ctx) => {
    const ready = lifecycle.ready;
    ctx.status = ready ? 200 : 503;
    const body = report(ready ? 'ready' : 'not_ready');
    ctx.body = ready && backend?.status().connected === false ? { ...body, status: 'degraded' } : body;
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router.routes() as unknown as Middleware;
}
