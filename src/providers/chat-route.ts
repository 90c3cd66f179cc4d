import type { Context } from 'koa';
import type { Conversation } from '../engine/conversation.ts';
import { closestRules, findRule } from '../engine/match.ts';
import { Pacer } from '../engine/pacing.ts';
import { contentChunkCount, openaiOutputTokens, planReply } from '../engine/reply-plan.ts';
import type { Answer } from '../engine/response.ts';
import type { Rule, RuleSet } from '../engine/rules.ts';
import { ApiError, configuredError } from '../http/errors.ts';
import { SSE_HEADERS, writeEventStream, type StreamPlan } from '../http/sse.ts';
import type { RequestState } from '../http/state.ts';
import { stampProcessingTime, waitUnlessGone } from '../http/timing.ts';
import type { ChatAdapter, MoreReply, ProviderDeps, ProviderRoute } from './provider.ts';

/**
 * The spine every chat-like endpoint shares: adapter.parse → engine (rule, sequence step) →
 * adapter.render, with errors, faults and latency applied here once for every provider. A new
 * provider supplies only the codec.
 */
export function chatRoute<Request>(path: string, adapter: ChatAdapter<Request>): ProviderRoute {
  return {
    method: 'POST',
    path,
    async handle(ctx: Context, deps: ProviderDeps) {
      const rules = deps.store.current;
      const state = ctx.state as RequestState;
      const strict = deps.strictOverride ?? rules.settings.strict;
      const { request, conversation, more = [] } = adapter.parse(ctx.request.body, { header: (name) => ctx.get(name) || undefined, strict });
      const stream = adapter.streams(request);
      const rule = findRule(rules, conversation);
      state.answer = { model: conversation.model, prompt: conversation.prompt, ruleId: rule?.id ?? null, stream };
      ctx.set('x-mockllm-match', rule?.id ?? 'none');
      if (!rule && rules.settings.onUnmatched === 'error') throw unmatched(rules, conversation);

      const { answer, step } = answerOf(rule, rules, deps);
      if (step !== undefined) state.answer.step = step;
      if (answer.kind === 'error') throw configuredError(answer);

      const reply = planReply(rule, state.answer.step, answer, conversation);
      const others: MoreReply[] = more.map((other) => {
        const otherRule = findRule(rules, other);
        if (!otherRule && rules.settings.onUnmatched === 'error') throw unmatched(rules, other);
        const { answer: otherAnswer, step: otherStep } = answerOf(otherRule, rules, deps);
        if (otherAnswer.kind === 'error') throw configuredError(otherAnswer);
        return { conversation: other, reply: planReply(otherRule, otherStep, otherAnswer, other) };
      });
      const replies = [reply, ...others.map((o) => o.reply)];
      const chunkCount = replies.reduce((sum, r) => sum + contentChunkCount(r), 0);
      const outputTokens = replies.reduce((sum, r) => sum + openaiOutputTokens(r), 0);
      const { pacing, fault } = reply.delivery;

      if (!stream) {
        if (pacing?.simulateNonStream) {
          const total = Pacer.total(pacing, chunkCount, outputTokens);
          if (!(await waitUnlessGone(ctx, total))) return;
        }
        if (fault?.mode === 'disconnect') {
          ctx.respond = false;
          ctx.req.socket.destroy();
          return;
        }
        if (fault) throw new ApiError({ status: 500, kind: 'internal', message: fault.message });
        stampProcessingTime(ctx);
        ctx.body = adapter.renderJson(reply, conversation, request, others);
        return;
      }

      const frames = adapter.renderStream(reply, conversation, request, others);
      const plan: StreamPlan = {};
      if (pacing) {
        const pacer = new Pacer(pacing, chunkCount, outputTokens);
        plan.delayBeforeChunk = () => pacer.next();
      }
      if (fault) {
        // Read by the writer when the fault fires, so the frame can follow the frames already sent.
        plan.fault = { afterChunks: fault.afterChunks, mode: fault.mode, get errorFrame() { return adapter.renderStreamError(fault.message, frames); } };
      }
      stampProcessingTime(ctx);
      ctx.status = 200;
      ctx.respond = false;
      ctx.res.writeHead(200, { ...(ctx.response.headers as Record<string, string>), ...SSE_HEADERS });
      deps.streams.opened();
      try {
        const result = await writeEventStream(ctx.res, frames, plan);
        state.answer.streamOutcome = result.outcome;
        state.answer.contentChunks = result.contentChunks;
      } finally {
        deps.streams.closed();
      }
    },
  };
}

/** The rule's answer to this call (a sequence advances one step), or the config's fallback. */
function answerOf(rule: Rule | null, rules: RuleSet, deps: ProviderDeps): { answer: Answer; step: number | undefined } {
  if (!rule) return { answer: rules.unknown, step: undefined };
  if (rule.response.kind !== 'sequence') return { answer: rule.response, step: undefined };
  const step = deps.store.nextSequenceStep(rule);
  return { answer: rule.response.steps[step]!, step };
}

/** With `defaults.on_unmatched: error`: a 404 that says what was asked and which rules came closest. */
function unmatched(rules: RuleSet, conversation: Conversation): ApiError {
  const closest = closestRules(rules, conversation).map((r) => {
    const m = r.spec.match;
    return `${r.id} (${JSON.stringify(m.prompt ?? m.contains ?? m.regex)})`;
  });
  const asked = conversation.prompt.length > 200 ? `${conversation.prompt.slice(0, 200)}…` : conversation.prompt;
  return new ApiError({
    status: 404,
    kind: 'not_found',
    code: 'mock_rule_not_found',
    message:
      `No mock rule matched this request (last user message: ${JSON.stringify(asked)}). ` +
      (closest.length > 0 ? `Closest rules: ${closest.join(', ')}.` : 'The config has no rules with a prompt.'),
  });
}

