import type Router from '@koa/router';
import type { Context } from 'koa';
import type { RuleSpec } from '../config/schema.ts';
import { checkRule } from '../config/validate.ts';
import type { Rule } from '../engine/rules.ts';
import { RuleIdConflict, type RuleStore } from '../engine/store.ts';
import type { Metrics } from '../observability/metrics.ts';
import { AdminError } from './errors.ts';

/** A rule as the admin API shows it: the same shape as an entry of the file's `rules` list, with its use since the last reset. */
export function presentRule(rule: Rule, store: RuleStore) {
  const hits = store.hitsOf(rule.id);
  return {
    id: rule.id,
    source: rule.source,
    match: rule.spec.match,
    response: rule.spec.response,
    hits: hits.count,
    lastHitAt: hits.lastHitAt === null ? null : new Date(hits.lastHitAt).toISOString(),
  };
}

/**
 * Accepts the seed's simple form `{"prompt", "response"}` or the rule form `{"match", "response"}`
 * and validates it with the file's own rule schema. Errors name the field the client sent.
 */
export function ruleSpecFromBody(body: unknown): RuleSpec {
  let candidate = body;
  const simple = body !== null && typeof body === 'object' && !Array.isArray(body) && 'prompt' in body && !('match' in body);
  if (simple) {
    const { prompt, ...rest } = body as Record<string, unknown>;
    candidate = { ...rest, match: { prompt } };
  }
  const problems = checkRule(candidate);
  if (problems.length > 0) {
    // A mistyped key yields two problems, e.g. `{"response": {"txt": …}}` gives "response.text is
    // required" and "response.txt is not a known key". The schema reports the missing one first,
    // but the client looks for what it sent: prefer a problem at a path present in the body.
    const first = problems.find((p) => p.path !== '' && hasPath(candidate, p.segments)) ?? problems[0]!;
    const field = simple && first.path === 'match.prompt' ? 'prompt' : first.path;
    if (field === '') throw new AdminError(400, 'invalid_body', `The body ${first.message}: send {"prompt": "...", "response": "..."}.`);
    throw new AdminError(400, 'invalid_body', `${field} ${first.message}`, field);
  }
  return candidate as RuleSpec;
}

function hasPath(value: unknown, segments: readonly string[]): boolean {
  let node = value;
  for (const key of segments) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

export function registerResponseRoutes(router: Router, store: RuleStore, metrics: Metrics): void {
  const find = (ctx: Context): Rule => {
    const rule = store.current.byId.get(ctx.params.id!);
    if (!rule) throw new AdminError(404, 'not_found', `No response with id '${ctx.params.id}'.`);
    return rule;
  };

  router.get('/admin/responses', (ctx) => {
    const unused = ctx.query.unused;
    if (unused !== undefined && unused !== 'true' && unused !== 'false') throw new AdminError(400, 'invalid_query', 'unused must be true or false', 'unused');
    // ?unused=true: the rules no request has hit since the last reset, so a suite can fail on stale recordings.
    const rules = unused === 'true' ? store.current.rules.filter((rule) => store.hitsOf(rule.id).count === 0) : store.current.rules;
    ctx.body = { responses: rules.map((rule) => presentRule(rule, store)) };
  });

  router.post('/admin/responses', async (ctx) => {
    const spec = ruleSpecFromBody(ctx.request.body);
    let rule: Rule;
    try {
      rule = await store.create(spec);
    } catch (error) {
      if (error instanceof RuleIdConflict) throw new AdminError(409, 'conflict', error.message, 'id');
      throw error;
    }
    metrics.adminChanges.inc({ operation: 'create' });
    ctx.status = 201;
    ctx.set('location', `/admin/responses/${encodeURIComponent(rule.id)}`);
    ctx.body = presentRule(rule, store);
  });

  router.delete('/admin/responses', async (ctx) => {
    await store.reset();
    metrics.adminChanges.inc({ operation: 'reset' });
    ctx.status = 204;
  });

  router.get('/admin/responses/:id', (ctx) => {
    ctx.body = presentRule(find(ctx), store);
  });

  router.put('/admin/responses/:id', async (ctx) => {
    const id = ctx.params.id!;
    const spec = ruleSpecFromBody(ctx.request.body);
    if (spec.id !== undefined && spec.id !== id) {
      throw new AdminError(400, 'invalid_body', `id "${spec.id}" in the body does not match "${id}" in the URL`, 'id');
    }
    const rule = await store.replace(id, spec);
    if (!rule) throw new AdminError(404, 'not_found', `No response with id '${id}'.`);
    metrics.adminChanges.inc({ operation: 'replace' });
    ctx.body = presentRule(rule, store);
  });

  router.delete('/admin/responses/:id', async (ctx) => {
    find(ctx);
    await store.delete(ctx.params.id!);
    metrics.adminChanges.inc({ operation: 'delete' });
    ctx.status = 204;
  });
}
