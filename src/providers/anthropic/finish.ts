import type { AnthropicStopReason } from '../../config/schema.ts';
import type { Finish, FinishReason } from '../../engine/response.ts';

const STOP_REASON: Record<FinishReason, AnthropicStopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'refusal',
  stop_sequence: 'stop_sequence',
  pause_turn: 'pause_turn',
};

/** Anthropic's `stop_reason`: what the rule wrote as `stop_reason`, or the neutral reason in Anthropic's words. */
export function anthropicStopReason(finish: Finish): AnthropicStopReason {
  return finish.stopReason ?? STOP_REASON[finish.reason];
}
