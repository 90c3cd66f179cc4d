// Azure's content-filter annotations (API-FORMATS §16): `prompt_filter_results` for the request and
// `content_filter_results` per choice, added to OpenAI's chat and completions answers. Every
// category is `safe` unless the rule's finish reason is `content_filter`, which marks the answer
// as filtered the way Azure's default policy does (violence, severity medium).
import type { Reply } from '../../engine/reply-plan.ts';
import type { StreamItem } from '../../http/stream-writer.ts';

const SAFE = { filtered: false, severity: 'safe' };

const PROMPT_RESULTS = {
  hate: SAFE,
  jailbreak: { filtered: false, detected: false },
  self_harm: SAFE,
  sexual: SAFE,
  violence: SAFE,
};

const SAFE_ANSWER = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE, protected_material_text: { filtered: false, detected: false } };
const FILTERED_ANSWER = { ...SAFE_ANSWER, violence: { filtered: true, severity: 'medium' } };

function answerResults(reply: Reply | undefined): object {
  return reply?.delivery.finish.reason === 'content_filter' ? FILTERED_ANSWER : SAFE_ANSWER;
}

/** One entry per prompt: chat has one; legacy completions one per prompt. */
function promptFilterResults(prompts: number) {
  return Array.from({ length: prompts }, (_, index) => ({ prompt_index: index, content_filter_results: PROMPT_RESULTS }));
}

interface Choices {
  choices: Record<string, unknown>[];
}

/**
 * OpenAI's JSON answer with Azure's annotations: each choice's results (by the reply that gave it;
 * `replies[i]` answers the i-th prompt, `choicesPerPrompt` choices each) and the prompts' results.
 */
export function withContentFilters<Body extends Choices>(body: Body, replies: readonly (Reply | undefined)[], choicesPerPrompt: number): Body & { prompt_filter_results: unknown } {
  const choices = body.choices.map((choice, i) => ({ ...choice, content_filter_results: answerResults(replies[Math.floor(i / choicesPerPrompt)]) }));
  return { ...body, choices, prompt_filter_results: promptFilterResults(replies.length) };
}

/**
 * The chunk an Azure stream opens with, before OpenAI's own: no id, object or model, no choices,
 * only the prompt's filter results. The openai SDK and the AI SDK accept a chunk with no choices.
 */
export function* withPromptFilterChunk(frames: Iterator<StreamItem>, prompts: number): Generator<StreamItem> {
  yield `data: ${JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: promptFilterResults(prompts) })}\n\n`;
  for (let item = frames.next(); !item.done; item = frames.next()) yield item.value;
}
