import type { Context } from 'koa';
import { matchConversation } from '../engine/match.ts';
import { SSE_HEADERS, writeEventStream } from '../http/sse.ts';
import type { RequestState } from '../http/state.ts';
import type { ChatAdapter, ProviderDeps, ProviderRoute } from './provider.ts';

/**
 * The spine every chat-like endpoint shares: adapter.parse → engine → adapter.render. Providers
 * supply only the codec, so a new provider is a folder of codecs plus lines in the route table.
 */
export function chatRoute<Request>(path: string, adapter: ChatAdapter<Request>): ProviderRoute {
  return {
    method: 'POST',
    path,
    async handle(ctx: Context, deps: ProviderDeps) {
      const rules = deps.store.current;
      const state = ctx.state as RequestState;
      const strict = deps.strictOverride ?? rules.settings.strict;
      const { request, conversation } = adapter.parse(ctx.request.body, { header: (name) => ctx.get(name) || undefined, strict });
      const match = matchConversation(rules, conversation);
      const stream = adapter.streams(request);
      state.answer = { model: conversation.model, prompt: conversation.prompt, ruleId: match.rule?.id ?? null, stream };
      ctx.set('x-mockllm-match', match.rule?.id ?? 'none');
      if (!stream) {
        ctx.body = adapter.renderJson(match, conversation, request);
        return;
      }
      ctx.status = 200;
      ctx.respond = false;
      ctx.res.writeHead(200, { ...(ctx.response.headers as Record<string, string>), ...SSE_HEADERS });
      deps.streams.opened();
      try {
        const result = await writeEventStream(ctx.res, adapter.renderStream(match, conversation, request));
        state.answer.streamOutcome = result.outcome;
        state.answer.contentChunks = result.contentChunks;
      } finally {
        deps.streams.closed();
      }
    },
  };
}
