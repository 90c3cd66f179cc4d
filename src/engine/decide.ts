// The decision core: what a request gets, from the current rules and state, in no provider's words
// and with no HTTP. Every endpoint of every provider asks here: a route parses its request into a
// Conversation, calls decide(), and renders the Decision in its own wire format.
import type { Conversation } from './conversation.ts';
import { explain, type Explanation } from './explain.ts';
import { closestRules, findRule } from './match.ts';
import { Pacer } from './pacing.ts';
import { contentChunkCount, outputTokens, planReply, type Reply } from './reply-plan.ts';
import type { Answer, ErrorAnswer } from './response.ts';
import type { Rule, RuleSet } from './rules.ts';
import { conformAnswer } from './structured-output.ts';

/** How sequence steps are read: counted (a call answered), or only looked at (count_tokens). The RuleStore is one. */
export interface SequenceSteps {
  nextSequenceStep(rule: Rule): Promise<number>;
  peekSequenceStep(rule: Rule): Promise<number>;
}

export interface DecideOptions {
  /**
   * Further prompts answered in the same response, each matched and answered on its own (a legacy
   * completions `prompt` array). Latency and faults follow the first prompt's answer.
   */
  more?: readonly Conversation[];
  /**
   * Inputs tried in turn: the first that a rule matches decides (embeddings, whose every input is a
   * text). Only rules whose match names the endpoint may answer these, and an unmatched request
   * gets no answer rather than `defaults.unknown_response`: a chat rule must never fail a request
   * because a document being embedded contains its words.
   */
  inputs?: readonly Conversation[];
  /** Looks at the answer a request would get without counting a sequence step (count_tokens). */
  peek?: boolean;
}

/** The answer to one of a request's further prompts (see DecideOptions.more). */
export interface MoreReply {
  conversation: Conversation;
  reply: Reply;
}

/** When and how the answer goes out: pacing, and a fault to inject. */
export interface DeliveryPlan {
  /** Content chunks a stream of the answer carries (all replies together). */
  chunkCount: number;
  /** Output tokens, by the neutral o200k count, that tokens_per_second spreads over the chunks. */
  outputTokens: number;
  /** A fresh pacer per stream: the delay before each content chunk. Undefined without latency. */
  pacer(): Pacer | undefined;
  /** What a non-stream answer waits when the rule simulates latency for it (0: none). */
  nonStreamDelayMs: number;
  fault: Reply['delivery']['fault'];
}

export type Outcome =
  /** Nothing matched and `defaults.on_unmatched` is `error`: the message names the closest rules. */
  | { kind: 'unmatched'; message: string }
  /** The rule (or sequence step) answers with an error. */
  | { kind: 'error'; error: ErrorAnswer }
  /** An answer to render; `reply` is undefined when an `inputs` request matched no rule. */
  | { kind: 'reply'; reply: Reply | undefined; more: MoreReply[]; delivery: DeliveryPlan };

export interface Decision {
  /** The conversation that decided (for `inputs`, the first one a rule matched). */
  conversation: Conversation;
  rule: Rule | null;
  /** The sequence step that answered (0-based), when the rule is a sequence. */
  step: number | undefined;
  outcome: Outcome;
  /** Why: the conditions that held, or the rules that came closest. Computed when first read. */
  readonly explanation: Explanation;
  /** The rule set that decided (shared by every request served from it). */
  rules: RuleSet;
  /**
   * Set when the answer and the schema the request asks for disagree (engine/structured-output.ts):
   * which rule, and the validator's complaint. Sent as `x-mockllm-schema-mismatch` and logged.
   */
  readonly schemaMismatch?: string;
}

const NO_DELIVERY: DeliveryPlan = { chunkCount: 0, outputTokens: 0, pacer: () => undefined, nonStreamDelayMs: 0, fault: undefined };

/** The rule's answer to this call (a sequence advances one step, unless peeking), or the fallback. */
async function answerOf(rule: Rule | null, rules: RuleSet, steps: SequenceSteps, peek: boolean): Promise<{ answer: Answer; step: number | undefined }> {
  if (!rule) return { answer: rules.unknown, step: undefined };
  if (rule.response.kind !== 'sequence') return { answer: rule.response, step: undefined };
  const step = peek ? await steps.peekSequenceStep(rule) : await steps.nextSequenceStep(rule);
  return { answer: rule.response.steps[step]!, step };
}

function unmatchedMessage(rules: RuleSet, conversation: Conversation): string {
  const closest = closestRules(rules, conversation).map((r) => {
    const m = r.spec.match;
    return `${r.id} (${JSON.stringify(m.prompt ?? m.contains ?? m.regex)})`;
  });
  const asked = conversation.prompt.length > 200 ? `${conversation.prompt.slice(0, 200)}…` : conversation.prompt;
  return (
    `No mock rule matched this request (last user message: ${JSON.stringify(asked)}). ` +
    (closest.length > 0 ? `Closest rules: ${closest.join(', ')}.` : 'The config has no rules with a prompt.')
  );
}

function deliveryOf(replies: readonly Reply[]): DeliveryPlan {
  const first = replies[0]!;
  let chunkCount = 0;
  let tokens = 0;
  for (const reply of replies) {
    chunkCount += contentChunkCount(reply);
    tokens += outputTokens(reply);
  }
  const { pacing, fault } = first.delivery;
  return {
    chunkCount,
    outputTokens: tokens,
    pacer: () => (pacing ? new Pacer(pacing, chunkCount, tokens) : undefined),
    nonStreamDelayMs: pacing?.simulateNonStream ? Pacer.total(pacing, chunkCount, tokens) : 0,
    fault,
  };
}

// Rules apply to `inputs` requests only when their match names the endpoint (see DecideOptions.inputs).
const endpointRulesCache = new WeakMap<readonly Rule[], Map<string, Rule[]>>();

function rulesNaming(rules: RuleSet, endpoint: string): Rule[] {
  let byEndpoint = endpointRulesCache.get(rules.rules);
  if (!byEndpoint) endpointRulesCache.set(rules.rules, (byEndpoint = new Map()));
  let found = byEndpoint.get(endpoint);
  if (!found) {
    found = rules.rules.filter((rule) => {
      const named = rule.spec.match.endpoint;
      return named === endpoint || (Array.isArray(named) && named.includes(endpoint));
    });
    byEndpoint.set(endpoint, found);
  }
  return found;
}

/** A decision whose explanation is computed when first read (most requests never need one). */
class Decided implements Decision {
  readonly rules: RuleSet;
  readonly conversation: Conversation;
  readonly rule: Rule | null;
  readonly step: number | undefined;
  readonly outcome: Outcome;
  readonly schemaMismatch: string | undefined;
  #explanation: Explanation | undefined;

  constructor(rules: RuleSet, conversation: Conversation, rule: Rule | null, step: number | undefined, outcome: Outcome, schemaMismatch?: string) {
    this.rules = rules;
    this.conversation = conversation;
    this.rule = rule;
    this.step = step;
    this.outcome = outcome;
    this.schemaMismatch = schemaMismatch;
  }

  get explanation(): Explanation {
    return (this.#explanation ??= explain(this.rules, this.conversation, this.rule));
  }
}

function decision(rules: RuleSet, conversation: Conversation, rule: Rule | null, step: number | undefined, outcome: Outcome, schemaMismatch?: string): Decision {
  return new Decided(rules, conversation, rule, step, outcome, schemaMismatch);
}

/**
 * Decides what one request gets: the rule (or none, and then the unmatched policy), the sequence
 * step, and either an error or a reply with its delivery plan. Pure but for the sequence counters.
 */
export async function decide(rules: RuleSet, conversation: Conversation, steps: SequenceSteps, options: DecideOptions = {}): Promise<Decision> {
  const peek = options.peek === true;
  if (options.inputs) {
    const candidates = rulesNaming(rules, conversation.endpoint);
    for (const input of options.inputs) {
      const rule = candidates.find((r) => r.matcher.test(input));
      if (!rule) continue;
      const { answer, step } = await answerOf(rule, rules, steps, peek);
      if (answer.kind === 'error') return decision(rules, input, rule, step, { kind: 'error', error: answer });
      const reply = planReply(rule, step, answer, input);
      return decision(rules, input, rule, step, { kind: 'reply', reply, more: [], delivery: deliveryOf([reply]) });
    }
    return decision(rules, options.inputs[0] ?? conversation, null, undefined, { kind: 'reply', reply: undefined, more: [], delivery: NO_DELIVERY });
  }

  const rule = findRule(rules, conversation);
  if (!rule && rules.settings.onUnmatched === 'error') {
    return decision(rules, conversation, null, undefined, { kind: 'unmatched', message: unmatchedMessage(rules, conversation) });
  }
  const { answer: ruleAnswer, step } = await answerOf(rule, rules, steps, peek);
  if (ruleAnswer.kind === 'error') return decision(rules, conversation, rule, step, { kind: 'error', error: ruleAnswer });
  // Structured output and `arguments: auto` (engine/structured-output.ts): the answer made to fit the request's schemas.
  const conformed = conformAnswer(rule, ruleAnswer, conversation);
  if (conformed?.kind === 'error') return decision(rules, conversation, rule, step, { kind: 'error', error: conformed.error });
  const answer = conformed ? conformed.answer : ruleAnswer;
  const mismatch = conformed?.mismatch;
  const reply = planReply(rule, step, answer, conversation);

  const more: MoreReply[] = [];
  for (const other of options.more ?? []) {
    const otherRule = findRule(rules, other);
    if (!otherRule && rules.settings.onUnmatched === 'error') {
      return decision(rules, other, null, undefined, { kind: 'unmatched', message: unmatchedMessage(rules, other) });
    }
    const { answer: otherAnswer, step: otherStep } = await answerOf(otherRule, rules, steps, peek);
    if (otherAnswer.kind === 'error') return decision(rules, other, otherRule, otherStep, { kind: 'error', error: otherAnswer });
    more.push({ conversation: other, reply: planReply(otherRule, otherStep, otherAnswer, other) });
  }
  return decision(rules, conversation, rule, step, { kind: 'reply', reply, more, delivery: deliveryOf([reply, ...more.map((m) => m.reply)]) }, mismatch);
}
