import type { Conversation } from './conversation.ts';
import { promptKey } from './matcher.ts';
import type { Rule, RuleSet } from './rules.ts';

/**
 * Pure: the rule that answers a conversation, or null. Exact-prompt rules cost one map lookup; the
 * others are tested in precedence order, but only those that rank above the prompt hit, so a
 * config of 100,000 plain prompts answers as fast as one of ten.
 */
export function findRule(rules: RuleSet, conversation: Conversation): Rule | null {
  const hit = rules.byPrompt.get(promptKey(conversation.prompt, rules.settings.match)) ?? Infinity;
  for (const index of rules.tested) {
    if (index > hit) break;
    const rule = rules.rules[index]!;
    if (rule.matcher.test(conversation)) return rule;
  }
  return hit === Infinity ? null : rules.rules[hit]!;
}

/** The rules most like an unmatched prompt, for the error that `on_unmatched: error` sends. */
export function closestRules(rules: RuleSet, conversation: Conversation, count = 3): Rule[] {
  const target = promptKey(conversation.prompt, 'normalized');
  const scored: { rule: Rule; score: number }[] = [];
  // Bounded so a huge config cannot make one unmatched request slow.
  for (const rule of rules.rules.slice(0, 10_000)) {
    const text = rule.spec.match.prompt ?? rule.spec.match.contains ?? rule.spec.match.regex;
    if (text === undefined) continue;
    scored.push({ rule, score: similarity(target, promptKey(text, 'normalized')) });
  }
  return scored
    .sort((a, b) => b.score - a.score)
    .slice(0, count)
    .map((s) => s.rule);
}

/** Dice coefficient over character bigrams: cheap, and good enough to rank near misses. */
function similarity(a: string, b: string): number {
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
