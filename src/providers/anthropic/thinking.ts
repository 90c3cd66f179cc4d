// Extended thinking on /v1/messages (API-FORMATS §18): what the request asks for, and, in strict
// mode, what the real API refuses around it. The messages are the API's own wording where it is
// known (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking).
import { signatureHolds } from '../../engine/thinking.ts';
import { invalidRequest } from '../../http/errors.ts';

type Block = Record<string, unknown>;
const isBlock = (value: unknown): value is Block => value !== null && typeof value === 'object' && !Array.isArray(value);

export interface ThinkingRequest {
  /** Thinking is on (`enabled`, or `adaptive`, where the mock always thinks). */
  enabled: boolean;
  /** `display: "omitted"`: thinking blocks come with empty text but a real signature. */
  omitted: boolean;
}

/** What a /v1/messages body asks of thinking. */
export function thinkingRequest(body: { thinking?: unknown }): ThinkingRequest {
  const thinking = body.thinking;
  if (!isBlock(thinking)) return { enabled: false, omitted: false };
  const enabled = thinking.type === 'enabled' || thinking.type === 'adaptive';
  return { enabled, omitted: enabled && thinking.display === 'omitted' };
}

const MIN_BUDGET = 1024;
const MAX_BREAKPOINTS = 4;
const DOCS = 'https://docs.claude.com/en/docs/build-with-claude/extended-thinking';

/**
 * Strict mode: what the real API answers 400 to around thinking and caching.
 * - `budget_tokens` under 1,024, or not below `max_tokens`;
 * - a forced tool (`tool_choice` `any` or `tool`) or a `temperature` other than 1 with thinking on;
 * - thinking blocks without a signature, or sent back edited (a signature the mock made that no
 *   longer matches the text; another's signature is taken as it is);
 * - with thinking `enabled` (not `adaptive`), a tool-result continuation whose assistant turn (with
 *   the tool_use) does not start with its thinking block;
 * - more than 4 `cache_control` breakpoints.
 */
export function checkThinking(body: Block): void {
  const thinking = body.thinking;
  const { enabled } = thinkingRequest(body);
  if (isBlock(thinking) && thinking.type === 'enabled') {
    const budget = thinking.budget_tokens;
    if (budget === undefined) throw invalidRequest('thinking.enabled.budget_tokens: Field required');
    if (typeof budget !== 'number' || !Number.isInteger(budget)) throw invalidRequest('thinking.enabled.budget_tokens: Input should be a valid integer');
    if (budget < MIN_BUDGET) throw invalidRequest(`thinking.enabled.budget_tokens: Input should be greater than or equal to ${MIN_BUDGET}`);
    if (typeof body.max_tokens === 'number' && budget >= body.max_tokens) {
      throw invalidRequest(`\`max_tokens\` must be greater than \`thinking.budget_tokens\`. Please consult our documentation at ${DOCS}#max-tokens-and-context-window-size`);
    }
  }
  if (enabled) {
    const choice = body.tool_choice;
    if (isBlock(choice) && (choice.type === 'any' || choice.type === 'tool')) throw invalidRequest('Thinking may not be enabled when tool_choice forces tool use.');
    if (typeof body.temperature === 'number' && body.temperature !== 1) {
      throw invalidRequest('`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at ' + DOCS);
    }
  }
  const messages = Array.isArray(body.messages) ? body.messages : [];
  messages.forEach((message, i) => {
    if (!isBlock(message) || message.role !== 'assistant' || !Array.isArray(message.content)) return;
    message.content.forEach((block, j) => {
      if (!isBlock(block)) return;
      const at = `messages.${i}.content.${j}`;
      if (block.type === 'thinking') {
        if (typeof block.thinking !== 'string') throw invalidRequest(`${at}.thinking.thinking: Field required`);
        if (typeof block.signature !== 'string') throw invalidRequest(`${at}.thinking.signature: Field required`);
        if (signatureHolds(block.signature, block.thinking) === false) throw invalidRequest(`${at}: Invalid \`signature\` in \`thinking\` block`);
      } else if (block.type === 'redacted_thinking' && typeof block.data !== 'string') {
        throw invalidRequest(`${at}.redacted_thinking.data: Field required`);
      }
    });
  });
  // Under `adaptive` the model may skip thinking on a turn, and such a turn carries no thinking block
  // ("Steering thinking", https://docs.claude.com/en/docs/build-with-claude/adaptive-thinking), so
  // only a fixed `enabled` budget makes the continuation rule hold.
  if (isBlock(thinking) && thinking.type === 'enabled') checkContinuation(messages);
  checkBreakpoints(body);
}

/** The assistant turn a tool result answers must keep its thinking first, as it was sent. */
function checkContinuation(messages: unknown[]): void {
  const last = messages.at(-1);
  if (!isBlock(last) || last.role !== 'user' || !Array.isArray(last.content) || !last.content.some((b) => isBlock(b) && b.type === 'tool_result')) return;
  const index = messages.length - 2;
  const turn = messages[index];
  if (!isBlock(turn) || turn.role !== 'assistant' || !Array.isArray(turn.content)) return;
  if (!turn.content.some((b) => isBlock(b) && b.type === 'tool_use')) return;
  const first = turn.content[0];
  const type = isBlock(first) ? first.type : undefined;
  if (type === 'thinking' || type === 'redacted_thinking') return;
  throw invalidRequest(
    `messages.${index}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(type)}\`. ` +
      'When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). ' +
      'We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. ' +
      `Please consult our documentation at ${DOCS}`,
  );
}

function checkBreakpoints(body: Block): void {
  let count = isBlock(body.cache_control) ? 1 : 0;
  const visit = (blocks: unknown) => {
    if (!Array.isArray(blocks)) return;
    for (const block of blocks) if (isBlock(block) && isBlock(block.cache_control)) count++;
  };
  visit(body.tools);
  visit(body.system);
  if (Array.isArray(body.messages)) for (const message of body.messages) if (isBlock(message)) visit(message.content);
  if (count > MAX_BREAKPOINTS) throw invalidRequest(`A maximum of ${MAX_BREAKPOINTS} blocks with cache_control may be provided. Found ${count}.`);
}
