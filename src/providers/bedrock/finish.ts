import type { AnthropicStopReason } from '../../config/schema.ts';
import type { Finish, FinishReason } from '../../engine/response.ts';

// Converse's `stopReason` (API-FORMATS §17); Bedrock has no pause_turn.
const CONVERSE: Record<FinishReason, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'content_filtered',
  stop_sequence: 'stop_sequence',
  pause_turn: 'end_turn',
};

export function converseStopReason(finish: Finish): string {
  return CONVERSE[finish.reason];
}

const ANTHROPIC: Record<FinishReason, AnthropicStopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'refusal',
  stop_sequence: 'stop_sequence',
  pause_turn: 'pause_turn',
};

/** InvokeModel's Anthropic body: what the rule wrote as `stop_reason`, or the neutral reason in Anthropic's words. */
export function anthropicStopReason(finish: Finish): AnthropicStopReason {
  return finish.stopReason ?? ANTHROPIC[finish.reason];
}
