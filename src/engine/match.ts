import type { Conversation } from './conversation.ts';
import type { TextReply } from './reply.ts';
import { promptKey, type Rule, type RuleSet } from './rules.ts';

export interface Match {
  /** The rule that answered, or null when the default answer was used. */
  rule: Rule | null;
  reply: TextReply;
}

/** Pure: picks the answer for a conversation from a rule set. One map lookup, no scan. */
export function matchConversation(rules: RuleSet, conversation: Conversation): Match {
  const rule = rules.byPrompt.get(promptKey(conversation.prompt, rules.settings.match));
  return rule ? { rule, reply: rule.reply } : { rule: null, reply: rules.unknown };
}
