// POST /v1/messages/count_tokens (API-FORMATS §9): the /v1/messages body without max_tokens and
// stream → {"input_tokens": N}, N being exactly what /v1/messages reports as usage.input_tokens for
// the same request: the same estimate, or the figure the rule that would answer it fixes.
import { invalidRequest } from '../../http/errors.ts';
import { answerRoute } from '../answer-route.ts';
import type { Parsed, ProviderRoute, RouteRequest } from '../provider.ts';
import { promptFigures } from '../../engine/prompt-cache.ts';
import { anthropicPromptTokens, type PromptSource } from './usage.ts';
import { parseMessagesRequest } from './messages-request.ts';

export const COUNT_TOKENS = '/v1/messages/count_tokens';
const MESSAGES = '/v1/messages';

// What the endpoint takes (MessageCountTokensParams); strict mode refuses anything else, max_tokens included.
const FIELDS = new Set(['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'output_config', 'cache_control', 'speed', 'mcp_servers', 'context_management']);
// Accepted here but unknown to the /v1/messages validator, which checks the rest.
const COUNT_ONLY = ['cache_control', 'speed'];

interface CountRequest {
  /** The figure the rule that would answer fixes, if any, is read from the decision. */
  fallback: number;
}

function parse(request: RouteRequest): Parsed<CountRequest> {
  const body = request.body;
  let forMessages = body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    if (request.strict) {
      const extra = Object.keys(body).find((key) => !FIELDS.has(key));
      if (extra !== undefined) throw invalidRequest(`${extra}: Extra inputs are not permitted`);
    }
    const copy: Record<string, unknown> = { ...body };
    for (const key of COUNT_ONLY) delete copy[key];
    // The messages validator wants max_tokens in strict mode (and above a thinking budget); counting never uses it.
    copy.max_tokens ??= Number.MAX_SAFE_INTEGER;
    forMessages = copy;
  }
  const { conversation } = parseMessagesRequest(forMessages, request, MESSAGES);
  // The answer the matching rule would give this request now: a sequence is looked at, not advanced.
  // The whole prompt, cache or no cache: what /v1/messages reports as input + cache creation + cache read.
  return { request: { fallback: anthropicPromptTokens(body as PromptSource) }, conversation, peek: true };
}

export const countTokensRoute: ProviderRoute = answerRoute('POST', COUNT_TOKENS, {
  parse,
  streams: () => false,
  renderJson: (reply, _conversation, request) => ({ input_tokens: promptFigures(reply, request.fallback).total }),
});
