// Thinking (Anthropic extended thinking, OpenAI reasoning, Gemini thoughts) in no provider's words:
// the rule's thinking, or, when a request enables thinking and the rule has none, a short one the
// mock writes, as the real APIs think whenever thinking is on. Signatures are deterministic and
// verifiable, so strict mode can tell a thinking block the client edited from one sent back as given.
import { createHash } from 'node:crypto';
import type { Conversation } from './conversation.ts';
import type { Reply, ThinkingReply } from './reply-plan.ts';
import { TextReply } from './reply.ts';

const synthesized = new WeakMap<Reply, ThinkingReply>();
const PROMPT_SHOWN = 160;

/**
 * The thinking this reply shows: the rule's, else (when `enabled`) one the mock writes from the
 * request and the answer, the same for the same request every run.
 */
export function thinkingOf(reply: Reply, conversation: Conversation, enabled: boolean): ThinkingReply | undefined {
  if (reply.thinking) return reply.thinking;
  if (!enabled) return undefined;
  let thinking = synthesized.get(reply);
  if (!thinking) {
    thinking = { text: new TextReply(synthesizedText(reply, conversation)), redacted: false, synthesized: true };
    synthesized.set(reply, thinking);
  }
  return thinking;
}

function synthesizedText(reply: Reply, conversation: Conversation): string {
  const prompt = conversation.prompt.replace(/\s+/g, ' ').trim();
  const shown = prompt.length > PROMPT_SHOWN ? `${prompt.slice(0, PROMPT_SHOWN)}…` : prompt;
  const asked = conversation.toolResult
    ? `The ${conversation.toolResult.name ?? 'tool'} result is in.`
    : shown === '' ? 'The user is waiting for an answer.' : `The user asks: "${shown}".`;
  const names = reply.toolCalls.map(({ call }) => call.name);
  const plan = names.length > 0 ? `I should call ${names.join(' and ')}.` : 'I can answer that directly.';
  return `${asked} ${plan}`;
}

/** Reasoning tokens by the reference count (o200k), unless the rule fixes the figure. */
export function reasoningTokens(reply: Reply, thinking: ThinkingReply | undefined, count: (t: TextReply) => number = (t) => t.tokens): number {
  if (reply.delivery.usage?.reasoning !== undefined) return reply.delivery.usage.reasoning;
  return thinking ? count(thinking.text) : 0;
}

// Signatures and redacted data: base64 of a tag, a mode byte and a SHA-256 of the thinking. Not a
// secret (a mock signs nothing), only a check that a block came back as it was sent.
const TAG = Buffer.from('mockllm-thinking1');
const SHOWN = 0;
const OMITTED = 1;
const REDACTED = 2;

function digest(text: string): Buffer {
  return createHash('sha256').update('thinking\0').update(text).digest();
}

function sealed(mode: number, text: string): string {
  return Buffer.concat([TAG, Buffer.of(mode), digest(text)]).toString('base64');
}

/** The signature of a thinking block; `omitted` when the block is sent with empty text (Anthropic `display: "omitted"`). */
export function thinkingSignature(text: string, omitted = false): string {
  return sealed(omitted ? OMITTED : SHOWN, text);
}

/** The opaque `data` of a redacted thinking block (also OpenAI's `encrypted_content` and Bedrock's `redactedContent`). */
export function redactedThinkingData(text: string): string {
  return sealed(REDACTED, text);
}

/**
 * Whether a thinking block sent back is as the mock sent it: true or false for a signature the mock
 * made, undefined for any other (a real API's, which a mock cannot check).
 */
export function signatureHolds(signature: string, thinking: string): boolean | undefined {
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length !== TAG.length + 33 || !bytes.subarray(0, TAG.length).equals(TAG)) return undefined;
  const mode = bytes[TAG.length];
  if (mode === OMITTED) return thinking === '';
  if (mode !== SHOWN) return false;
  return bytes.subarray(TAG.length + 1).equals(digest(thinking));
}
