// What every Ollama endpoint shares (API-FORMATS §15): the `{"error": "…"}` body, Go's JSON
// decoding words for a body of the wrong shape, `created_at` timestamps, token counts and the
// nanosecond durations of the final `done` object.
import type { Conversation } from '../../engine/conversation.ts';
import { Pacer } from '../../engine/pacing.ts';
import { contentChunkCount, outputTokens, type Reply } from '../../engine/reply-plan.ts';
import { countTextTokens } from '../../engine/tokens.ts';
import { ApiError, invalidRequest } from '../../http/errors.ts';

/** Ollama answers every failure as `{"error": "<message>"}`; the `ollama` client's ResponseError shows that string. */
export function ollamaErrorBody(error: ApiError): unknown {
  return { error: error.message };
}

/** A failure after the stream began: one more NDJSON line with `error` and no `done` (the client throws it). */
export function ollamaStreamError(message: string): string {
  return `${JSON.stringify({ error: message })}\n`;
}

/** The real server's `model is required` (chat, embed) for a missing or empty model. */
export const modelRequired = () => invalidRequest('model is required');

/** `model 'x' not found` with 404, what Ollama says of a model it does not have. */
export const modelNotFound = (model: string) => new ApiError({ status: 404, kind: 'not_found', message: `model '${model}' not found` });

type GoKind = 'string' | 'bool' | 'number' | 'array' | 'object';

function goKindOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

const GO_TYPE: Record<GoKind, string> = { string: 'string', bool: 'bool', number: 'int', array: '[]', object: 'map[string]interface {}' };

/**
 * Go's encoding/json words for a field of the wrong type, which the server returns as its 400:
 * `json: cannot unmarshal number into Go struct field ChatRequest.model of type string`.
 */
export function wrongType(struct: string, field: string, value: unknown, expected: GoKind | string): ApiError {
  const type = (GO_TYPE as Record<string, string>)[expected] ?? expected;
  return invalidRequest(`json: cannot unmarshal ${goKindOf(value)} into Go struct field ${struct}.${field} of type ${type}`);
}

/** The body as an object, or Go's words for a body that is not one (`… into Go value of type api.ChatRequest`). */
export function bodyObject(body: unknown, struct: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest(`json: cannot unmarshal ${goKindOf(body)} into Go value of type api.${struct}`);
  }
  return body as Record<string, unknown>;
}

/** Checks optional scalar fields: absent and null are fine (Go leaves the zero value). */
export function checkFields(body: Record<string, unknown>, struct: string, kinds: Record<string, GoKind | readonly GoKind[]>): void {
  for (const [field, kind] of Object.entries(kinds)) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    const allowed = typeof kind === 'string' ? [kind] : kind;
    const actual = Array.isArray(value) ? 'array' : typeof value === 'boolean' ? 'bool' : typeof value;
    if (!allowed.includes(actual as GoKind)) throw wrongType(struct, field, value, allowed[0]!);
  }
}

/**
 * RFC 3339 with sub-second digits, in UTC, as Go's time.Time marshals it. Taken when each line is
 * written (the encoders are lazy), so a stream's lines carry the times they were sent.
 */
export function createdAt(): string {
  return new Date().toISOString();
}

/**
 * Prompt tokens as a Llama-3-style chat template frames them: a begin-of-text token; per message a
 * header (start, role, end, blank line) and an end-of-turn token around the content; the assistant
 * header that primes the reply; plus the offered tools' definitions, which the template injects.
 * An estimate on o200k_base, deterministic: one user message "hi" gives 11.
 */
export function ollamaPromptTokens(messages: Conversation['messages'], toolsJson: string | undefined): number {
  let total = 1 + 4;
  for (const message of messages) total += 4 + countTextTokens(message.role) + countTextTokens(message.text);
  if (toolsJson) total += countTextTokens(toolsJson);
  return total;
}

// Nominal rates for a stream with no latency configured, so every duration is positive (clients
// divide counts by them to show tokens/s): a model already in memory, 4,000 prompt tokens/s, 100
// tokens/s generated.
const LOAD_NS = 5_000_000;
const PROMPT_NS_PER_TOKEN = 250_000;
const EVAL_NS_PER_TOKEN = 10_000_000;
const NS_PER_MS = 1_000_000;

export interface OllamaStats {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

/**
 * The `done` object's figures. Counts: the rule's usage override, else the estimates (prompt as
 * above, output o200k_base). Durations, in integer nanoseconds, follow the rule's latency when it
 * has some (prompt evaluation = the time to the first chunk, evaluation = the rest of the stream,
 * jitter included: the seeded pacer gives the same figures every run), else the nominal rates.
 */
export function ollamaStats(reply: Reply, promptTokens: number): OllamaStats {
  const promptCount = reply.delivery.usage?.input ?? promptTokens;
  const evalCount = reply.delivery.usage?.output ?? outputTokens(reply);
  let promptNs = Math.max(1, promptCount) * PROMPT_NS_PER_TOKEN;
  let evalNs = Math.max(1, evalCount) * EVAL_NS_PER_TOKEN;
  const pacing = reply.delivery.pacing;
  if (pacing) {
    const chunks = contentChunkCount(reply);
    const pacer = new Pacer(pacing, chunks, outputTokens(reply));
    const first = pacer.next();
    let rest = 0;
    for (let i = 1; i < chunks; i++) rest += pacer.next();
    if (first > 0) promptNs = Math.round(first * NS_PER_MS);
    if (rest > 0) evalNs = Math.round(rest * NS_PER_MS);
  }
  return {
    total_duration: LOAD_NS + promptNs + evalNs,
    load_duration: LOAD_NS,
    prompt_eval_count: promptCount,
    prompt_eval_duration: promptNs,
    eval_count: evalCount,
    eval_duration: evalNs,
  };
}

/** `done_reason`: `length` when the answer was cut (num_predict), else `stop` (tool calls included). */
export function doneReason(reply: Reply): 'stop' | 'length' {
  return reply.delivery.finish.reason === 'length' ? 'length' : 'stop';
}

/** The stats spliced after `"done":true` (no braces), ready to close a line. */
export function statsJson(stats: OllamaStats): string {
  return (
    `"total_duration":${stats.total_duration},"load_duration":${stats.load_duration},` +
    `"prompt_eval_count":${stats.prompt_eval_count},"prompt_eval_duration":${stats.prompt_eval_duration},` +
    `"eval_count":${stats.eval_count},"eval_duration":${stats.eval_duration}`
  );
}
