// POST /v1/messages/count_tokens (API-FORMATS §9): the /v1/messages body without max_tokens and
// stream → {"input_tokens": N}, N being exactly what /v1/messages reports as usage.input_tokens for
// the same request: the same estimate, or the figure the rule that would answer it fixes.
import type { Context } from 'koa';
import { findRule } from '../../engine/match.ts';
import type { Answer } from '../../engine/response.ts';
import { invalidRequest } from '../../http/errors.ts';
import type { ProviderDeps, ProviderRoute } from '../provider.ts';
import { inputTokens } from './messages-encode.ts';
import { parseMessagesRequest } from './messages-request.ts';

export const COUNT_TOKENS = '/v1/messages/count_tokens';
const MESSAGES = '/v1/messages';

// What the endpoint takes (MessageCountTokensParams); strict mode refuses anything else, max_tokens included.
const FIELDS = new Set(['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'output_config', 'cache_control', 'speed', 'mcp_servers', 'context_management']);
// Accepted here but unknown to the /v1/messages validator, which checks the rest.
const COUNT_ONLY = ['cache_control', 'speed'];

/** The answer the matching rule would give this request now, without advancing its sequence. */
function peekAnswer(deps: ProviderDeps, ruleId: string): Answer | undefined {
  const rule = deps.store.current.byId.get(ruleId);
  if (!rule) return undefined;
  if (rule.response.kind !== 'sequence') return rule.response;
  const step = deps.store.sequences().find((s) => s.ruleId === ruleId)?.nextStep ?? 0;
  return rule.response.steps[step];
}

async function handle(ctx: Context, deps: ProviderDeps): Promise<void> {
  const rules = deps.store.current;
  const strict = deps.strictOverride ?? rules.settings.strict;
  const body = ctx.request.body as unknown;
  let forMessages = body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    if (strict) {
      const extra = Object.keys(body).find((key) => !FIELDS.has(key));
      if (extra !== undefined) throw invalidRequest(`${extra}: Extra inputs are not permitted`);
    }
    const copy: Record<string, unknown> = { ...body };
    for (const key of COUNT_ONLY) delete copy[key];
    // The messages validator wants max_tokens in strict mode; counting never uses it.
    copy.max_tokens ??= 1;
    forMessages = copy;
  }
  const header = (name: string) => ctx.get(name) || undefined;
  const { conversation } = parseMessagesRequest(forMessages, { header, strict }, MESSAGES);
  const rule = findRule(rules, conversation);
  const answer = rule ? peekAnswer(deps, rule.id) : undefined;
  const fixed = answer && answer.kind !== 'error' ? answer.delivery.usage?.input : undefined;
  ctx.body = { input_tokens: fixed ?? inputTokens(undefined, conversation) };
}

export const countTokensRoute: ProviderRoute = { method: 'POST', path: COUNT_TOKENS, handle };
