// How OpenAI counts tokens: o200k_base (gpt-4o, 4.1, 5.x, o-series) with its chat framing.
import { countTextTokens } from '../../engine/tokens.ts';

export interface FramedMessage {
  role: string;
  text: string;
  name?: string;
}

/**
 * Prompt tokens of a chat request as OpenAI counts them: 3 per message, the role, the content,
 * 1 more with `name`, and 3 to prime the reply. One user message "hi" gives 8.
 */
export function chatPromptTokens(messages: readonly FramedMessage[]): number {
  let total = 3;
  for (const message of messages) {
    total += 3 + countTextTokens(message.role) + countTextTokens(message.text);
    if (message.name) total += 1 + countTextTokens(message.name);
  }
  return total;
}

export { outputTokens as completionTokens } from '../../engine/reply-plan.ts';
