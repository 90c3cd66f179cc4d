import type { OpenAiFinishReason } from '../../config/schema.ts';
import type { Finish } from '../../engine/response.ts';

/** OpenAI's `finish_reason`: what the rule wrote as `finish_reason`, or the neutral reason in OpenAI's words. */
export function openAiFinishReason(finish: Finish): OpenAiFinishReason {
  if (finish.finishReason) return finish.finishReason;
  return finish.reason === 'stop_sequence' || finish.reason === 'pause_turn' ? 'stop' : finish.reason;
}
