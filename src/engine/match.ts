import type { Conversation } from './conversation.ts';
import { nearMisses } from './explain.ts';
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
  return nearMisses(rules, conversation, count, true).map((s) => s.rule);
}
