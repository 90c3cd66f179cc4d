import type { Context } from 'koa';
import { decide, type Decision } from '../engine/decide.ts';
import { consultPromptCache } from '../engine/prompt-cache.ts';
import { ApiError, configuredError } from '../http/errors.ts';
import { SSE } from '../http/framing.ts';
import { sendJson } from '../http/json-response.ts';
import { writeStream, type StreamPlan } from '../http/stream-writer.ts';
import type { RequestState } from '../http/state.ts';
import { stampProcessingTime, waitUnlessGone } from '../http/timing.ts';
import type { AnswerAdapter, HttpMethod, ProviderDeps, ProviderRoute, RouteRequest } from './provider.ts';

/**
 * The spine every answered endpoint shares: adapter.parse → core (decide) → adapter.render, with
 * errors, faults and latency applied here once for every provider. A provider supplies the codec.
 */
export function answerRoute<Request>(method: HttpMethod, path: string, adapter: AnswerAdapter<Request>): ProviderRoute {
  return {
    method,
    path,
    async handle(ctx: Context, request: RouteRequest, deps: ProviderDeps) {
      const state = ctx.state as RequestState;
      const parsed = await adapter.parse(request, deps);
      const { conversation } = parsed;
      const stream = adapter.streams(parsed.request);
      state.asked = { model: conversation.model, prompt: conversation.prompt, stream };
      const decision = await decide(deps.store.current, conversation, deps.store, parsed);
      state.decision = decision;
      if (decision.conversation !== conversation) state.asked.prompt = decision.conversation.prompt;
      ctx.res.setHeader('x-mockllm-match', decision.rule?.id ?? 'none');
      // A rule's JSON that fails the schema the request asks for (engine/structured-output.ts), in printable ASCII.
      if (decision.schemaMismatch) ctx.set('x-mockllm-schema-mismatch', decision.schemaMismatch.replace(/[^\x20-\x7e]/g, '?').slice(0, 512));
      if (parsed.peek) {
        // Only looking (count_tokens): the figures of the answer the request would get, and none of
        // its errors, latency or faults, which belong to the request that gets it.
        const { outcome } = decision;
        sendJson(ctx, adapter.renderJson(outcome.kind === 'reply' ? outcome.reply : undefined, conversation, parsed.request, []));
        return;
      }
      // Proxy on a miss (issue 14, src/proxy/): a request no rule matched goes to the provider's
      // upstream when `--upstream` names one, before the unmatched policy or the default answer
      // applies. Not for `inputs` requests (embeddings answer generated vectors on a miss).
      if (decision.rule === null && !parsed.inputs && deps.upstream && (await deps.upstream(ctx, decision.conversation, stream, parsed.request))) return;
      if (decision.rule) deps.store.recordHit(decision.rule.id, Date.now());
      await consultCache(deps, adapter, parsed.request, decision);
      await respond(ctx, deps, adapter, parsed.request, decision, stream);
    },
  };
}

/**
 * The prompt-cache simulation (`settings.prompt_cache`, engine/prompt-cache.ts): the figures of
 * the request answered, read and written on the injected clock. Not for count_tokens (peeking).
 */
async function consultCache<Request>(deps: ProviderDeps, adapter: AnswerAdapter<Request>, request: Request, decision: Decision): Promise<void> {
  const { outcome } = decision;
  if (!adapter.promptCache || outcome.kind !== 'reply' || !outcome.reply || deps.store.current.settings.raw.prompt_cache !== true) return;
  const query = adapter.promptCache(request, decision.conversation);
  if (query) outcome.reply.promptCache = await consultPromptCache(deps.promptCache, query, deps.clock.now());
}

async function respond<Request>(ctx: Context, deps: ProviderDeps, adapter: AnswerAdapter<Request>, request: Request, decision: Decision, stream: boolean): Promise<void> {
  const { outcome, conversation } = decision;
  if (outcome.kind === 'unmatched') throw new ApiError({ status: 404, kind: 'not_found', code: 'mock_rule_not_found', message: outcome.message });
  if (outcome.kind === 'error') throw configuredError(outcome.error);
  const { reply, more, delivery } = outcome;
  const { fault } = delivery;

  if (!stream || !reply || !adapter.renderStream) {
    if (delivery.nonStreamDelayMs > 0 && !(await waitUnlessGone(ctx, delivery.nonStreamDelayMs, deps.clock))) return;
    if (fault?.mode === 'disconnect') {
      ctx.respond = false;
      ctx.req.socket.destroy();
      return;
    }
    if (fault) throw new ApiError({ status: 500, kind: 'internal', message: fault.message });
    stampProcessingTime(ctx);
    const body = adapter.renderJson(reply, conversation, request, more);
    if (adapter.settled) await adapter.settled(request).catch(() => {});
    sendJson(ctx, body);
    return;
  }

  const framing = adapter.framing?.(request) ?? SSE;
  const encoded = adapter.renderStream(reply, conversation, request, more);
  const frames = framing.wrap ? framing.wrap(encoded) : encoded;
  const plan: StreamPlan = { clock: deps.clock };
  if (adapter.settled) {
    const settled = adapter.settled;
    plan.beforeEnd = () => settled(request);
  }
  const pacer = delivery.pacer();
  if (pacer) plan.delayBeforeChunk = () => pacer.next();
  if (fault && adapter.renderStreamError) {
    const renderError = adapter.renderStreamError;
    // Called by the writer when the fault fires, so the frame can follow the frames already sent.
    plan.fault = { afterChunks: fault.afterChunks, mode: fault.mode, errorFrame: () => renderError(fault.message, encoded) };
  }
  stampProcessingTime(ctx);
  ctx.status = 200;
  ctx.respond = false;
  ctx.res.writeHead(200, { ...(ctx.response.headers as Record<string, string>), ...framing.headers });
  deps.streams.opened();
  try {
    (ctx.state as RequestState).delivered = await writeStream(ctx.res, frames, plan);
  } finally {
    deps.streams.closed();
  }
}
