import type Router from '@koa/router';
import type { RuleStore } from '../engine/store.ts';
import type { Metrics } from '../observability/metrics.ts';
import { AdminError } from './errors.ts';

/** Sequence progress: which step each sequence rule's next matching call gets, and a way to rewind. */
export function registerSequenceRoutes(router: Router, store: RuleStore, metrics: Metrics): void {
  router.get('/admin/sequences', async (ctx) => {
    ctx.body = { sequences: await store.sequences() };
  });

  router.post('/admin/sequences/reset', async (ctx) => {
    await store.resetSequences();
    metrics.adminChanges.inc({ operation: 'sequences_reset' });
    ctx.status = 204;
  });

  router.post('/admin/sequences/:id/reset', async (ctx) => {
    if (!(await store.resetSequences(ctx.params.id!))) {
      throw new AdminError(404, 'not_found', `No sequence rule with id '${ctx.params.id}'.`);
    }
    metrics.adminChanges.inc({ operation: 'sequences_reset' });
    ctx.status = 204;
  });
}
