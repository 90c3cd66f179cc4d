import type Router from '@koa/router';
import type { RuleStore } from '../engine/store.ts';
import type { Metrics } from '../observability/metrics.ts';
import { AdminError } from './errors.ts';

/** Routes that are not provider traffic: their durations (an SSE stream lasts minutes) would swamp the latency chart. */
const notProviderRoute = (route: string) => route.startsWith('/admin') || route === '/healthz' || route === '/readyz' || route === '/metrics' || route === 'unmatched';

/**
 * What the dashboard reads besides the rule listing: the counters behind its live charts, the order
 * rules are tried in, and a way to undo one admin change to a file rule.
 */
export function registerDashboardRoutes(router: Router, store: RuleStore, metrics: Metrics): void {
  // GET /admin/stats: the server's own counters as JSON (the same numbers /metrics exposes), so the
  // page computes rates and percentiles from differences between two reads.
  router.get('/admin/stats', async (ctx) => {
    const responsesByProvider: Record<string, number> = {};
    for (const { labels, value } of (await metrics.responses.get()).values) {
      const provider = String(labels.provider);
      responsesByProvider[provider] = (responsesByProvider[provider] ?? 0) + value;
    }
    const activeStreams = (await metrics.activeStreams.get()).values.reduce((sum, v) => sum + v.value, 0);
    const bounds = new Map<string, number>();
    let count = 0;
    let sum = 0;
    for (const { labels: routeLabels, value, metricName } of (await metrics.httpDuration.get()).values) {
      // Bucket samples carry `le` beside the histogram's own labels.
      const labels = routeLabels as Record<string, string | number | undefined>;
      if (notProviderRoute(String(labels.route))) continue;
      if (metricName?.endsWith('_bucket')) bounds.set(String(labels.le), (bounds.get(String(labels.le)) ?? 0) + value);
      else if (metricName?.endsWith('_count')) count += value;
      else if (metricName?.endsWith('_sum')) sum += value;
    }
    const buckets = [...bounds].map(([le, cumulative]) => ({ le: le === '+Inf' ? null : Number(le), count: cumulative })).sort((a, b) => (a.le ?? Infinity) - (b.le ?? Infinity));
    ctx.body = { at: new Date().toISOString(), responsesByProvider, activeStreams, latencySeconds: { count, sum, buckets } };
  });

  // GET /admin/precedence: every rule in the order it is tried, with its priority and layer, and the
  // file rules the admin API replaced or deleted (what "revert" undoes).
  router.get('/admin/precedence', (ctx) => {
    const { replaced, deleted } = store.overrides();
    const replacedIds = new Set(replaced);
    ctx.body = {
      rules: store.current.rules.map((rule) => ({ id: rule.id, priority: rule.priority, layer: rule.layer, replacesFileRule: replacedIds.has(rule.id) })),
      replaced,
      deleted,
    };
  });

  router.post('/admin/responses/:id/revert', async (ctx) => {
    const id = ctx.params.id!;
    if (!(await store.revert(id))) throw new AdminError(404, 'not_found', `No replaced or deleted file rule with id '${id}'.`);
    metrics.adminChanges.inc({ operation: 'revert' });
    ctx.status = 204;
  });
}
