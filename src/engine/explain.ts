import type { Conversation } from './conversation.ts';
import { promptKey } from './matcher.ts';
import type { Rule, RuleSet } from './rules.ts';

/** A rule that did not answer, and the first of its conditions that failed. */
export interface NearMiss {
  ruleId: string;
  source: Rule['source'];
  /** The conditions that held, by name. */
  held: string[];
  failed: { condition: string; why: string };
}

/** Why a request got the answer it got: computed by the core, shown in the journal and the dashboard. */
export type Explanation =
  | { matched: true; ruleId: string; source: Rule['source']; conditions: string[] }
  | { matched: false; nearMisses: NearMiss[] };

// Bounded so a huge config cannot make one unmatched request slow.
const MAX_RULES_SCANNED = 10_000;

/** The rule's first text condition (prompt, contains or regex), if it has one. */
function textOf(rule: Rule): string | undefined {
  const m = rule.spec.match;
  return m.prompt ?? m.contains ?? m.regex;
}

/**
 * A copy that shares no memory with the request: a short quote sliced from a megabyte prompt would
 * otherwise keep the whole prompt alive for as long as the explanation is kept (the journal).
 */
const detached = (text: string): string => JSON.parse(JSON.stringify(text)) as string;

interface Scored {
  rule: Rule;
  held: string[];
  failed: NearMiss['failed'];
  score: number;
}

function score(rule: Rule, conversation: Conversation, target: string): Scored | undefined {
  const held: string[] = [];
  let failed: NearMiss['failed'] | undefined;
  for (const condition of rule.matcher.conditions) {
    if (condition.test(conversation)) held.push(condition.name);
    else failed ??= { condition: condition.name, why: detached(condition.why(conversation)) };
  }
  // A rule whose conditions all hold did not answer only because another one ranked above it.
  if (!failed) return undefined;
  const text = textOf(rule);
  const likeness = text === undefined ? 0 : similarity(target, promptKey(text, 'normalized'));
  return { rule, held, failed, score: held.length / rule.matcher.conditions.length + likeness };
}

/**
 * The rules that came closest to answering: ranked by the share of their conditions that held,
 * plus how alike their text is to the prompt (Dice over character bigrams).
 */
export function nearMisses(rules: RuleSet, conversation: Conversation, count = 3, withText = false): Scored[] {
  const target = promptKey(conversation.prompt, 'normalized');
  const scored: Scored[] = [];
  const scanned = rules.rules.length > MAX_RULES_SCANNED ? rules.rules.slice(0, MAX_RULES_SCANNED) : rules.rules;
  for (const rule of scanned) {
    if (withText && textOf(rule) === undefined) continue;
    const result = score(rule, conversation, target);
    if (result) scored.push(result);
  }
  return scored.sort((a, b) => b.score - a.score).slice(0, count);
}

/** The explanation of a decision: the conditions that held for the rule that answered, or the near misses. */
export function explain(rules: RuleSet, conversation: Conversation, rule: Rule | null): Explanation {
  if (rule) return { matched: true, ruleId: rule.id, source: rule.source, conditions: rule.matcher.conditions.map((c) => c.name) };
  return {
    matched: false,
    nearMisses: nearMisses(rules, conversation).map((s) => ({ ruleId: s.rule.id, source: s.rule.source, held: s.held, failed: s.failed })),
  };
}

/** Dice coefficient over character bigrams: cheap, and good enough to rank near misses. */
export function similarity(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length < 2 || b.length < 2) return 0;
  const grams = new Map<string, number>();
  for (let i = 0; i < a.length - 1; i++) {
    const gram = a.slice(i, i + 2);
    grams.set(gram, (grams.get(gram) ?? 0) + 1);
  }
  let shared = 0;
  for (let i = 0; i < b.length - 1; i++) {
    const gram = b.slice(i, i + 2);
    const left = grams.get(gram) ?? 0;
    if (left > 0) {
      shared++;
      grams.set(gram, left - 1);
    }
  }
  return (2 * shared) / (a.length + b.length - 2);
}
