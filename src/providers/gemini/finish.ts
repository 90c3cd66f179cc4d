import type { FinishReason } from '../../engine/response.ts';

// Gemini's FinishReason enum (https://ai.google.dev/api/generate-content#FinishReason). A function
// call ends with STOP too: clients tell a tool call by the functionCall part (API-FORMATS §11).
const FINISH_REASON: Record<FinishReason, string> = {
  stop: 'STOP',
  length: 'MAX_TOKENS',
  tool_calls: 'STOP',
  content_filter: 'SAFETY',
  stop_sequence: 'STOP',
  pause_turn: 'STOP',
};

/** The candidate's `finishReason` for the neutral reason a rule's answer ends with. */
export function geminiFinishReason(reason: FinishReason): string {
  return FINISH_REASON[reason];
}
