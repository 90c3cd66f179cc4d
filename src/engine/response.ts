import type {
  AnthropicStopReason,
  Chunking,
  OpenAiFinishReason,
  ResponseObject,
  ResponseSpec,
  Settings,
  ToolCallSpec,
} from '../config/schema.ts';
import type { Conversation } from './conversation.ts';
import { compilePacing, type Pacing } from './pacing.ts';
import { TextReply } from './reply.ts';

/** Why an answer ended, in no provider's words: each provider names it in its own (its finish reason). */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'stop_sequence' | 'pause_turn';

/**
 * One finish. A rule may name it in the config's two vocabularies, `finish_reason` (OpenAI's words)
 * and `stop_reason` (Anthropic's); a provider whose own words those are uses what the rule wrote,
 * every other provider translates `reason`.
 */
export interface Finish {
  reason: FinishReason;
  finishReason?: OpenAiFinishReason;
  stopReason?: AnthropicStopReason;
}

const FROM_STOP_REASON: Record<AnthropicStopReason, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop_sequence',
  pause_turn: 'pause_turn',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

export interface Fault {
  afterChunks: number;
  mode: 'error_event' | 'disconnect';
  message: string;
}

export interface UsageOverride {
  /** The prompt's total, cached part included (what count_tokens reports). */
  input?: number;
  output?: number;
  /** Fixed cache figures, within `input` when it is given (engine/prompt-cache.ts promptFigures). */
  cacheRead?: number;
  cacheCreation?: number;
  /** Reasoning tokens, within `output` when it is given. */
  reasoning?: number;
}

/** What the model thought before answering, in no provider's words. */
export interface ThinkingAnswer {
  text: TextSource;
  /** Shown as opaque data only (Anthropic `redacted_thinking`); its tokens still count. */
  redacted: boolean;
}

/** How an answer is delivered: chunking, timing, faults, and any figures that override the counted ones. */
export interface Delivery {
  chunking: Chunking;
  pacing: Pacing | undefined;
  fault: Fault | undefined;
  usage: UsageOverride | undefined;
  finish: Finish;
}

/** Text known at load, or a template (`{{prompt}}`, `{{model}}`, …) rendered per request. */
export type TextSource = TextReply | TextTemplate;

export interface CompiledToolCall {
  name: string;
  /** The arguments as the JSON text OpenAI sends. */
  argumentsJson: string;
  /** The arguments as the object Anthropic sends. */
  input: Record<string, unknown>;
  id: string | undefined;
  /** `arguments: auto`: generated per request from the tool's declared schema (engine/structured-output.ts). */
  auto?: boolean;
}

export interface TextAnswer {
  kind: 'text';
  text: TextSource;
  /** `json: auto`: JSON generated per request from the schema the request asks for (engine/structured-output.ts). */
  json?: 'auto';
  thinking?: ThinkingAnswer;
  delivery: Delivery;
}

export interface ToolCallsAnswer {
  kind: 'tool_calls';
  /** Text said before the calls, if any. */
  text: TextSource | undefined;
  calls: CompiledToolCall[];
  thinking?: ThinkingAnswer;
  delivery: Delivery;
}

export interface ErrorAnswer {
  kind: 'error';
  status: number;
  message: string | undefined;
  type: string | undefined;
  code: string | undefined;
  retryAfterSeconds: number | undefined;
}

export type Answer = TextAnswer | ToolCallsAnswer | ErrorAnswer;

export interface SequenceResponse {
  kind: 'sequence';
  steps: Answer[];
  then: 'loop' | 'repeat_last';
}

export type CompiledResponse = Answer | SequenceResponse;

// Not global: a shared global regex carries lastIndex from one call into the next (matchAll copies it).
const PLACEHOLDER = /\{\{\s*(prompt|model|provider|endpoint|system)\s*\}\}/;
type Variable = 'prompt' | 'model' | 'provider' | 'endpoint' | 'system';

export class TextTemplate {
  readonly source: string;
  readonly #parts: (string | { variable: Variable })[];

  constructor(source: string) {
    this.source = source;
    this.#parts = [];
    let last = 0;
    for (const match of source.matchAll(new RegExp(PLACEHOLDER, 'g'))) {
      this.#parts.push(source.slice(last, match.index), { variable: match[1] as Variable });
      last = match.index + match[0].length;
    }
    this.#parts.push(source.slice(last));
  }

  render(conversation: Conversation): TextReply {
    return new TextReply(this.#parts.map((part) => (typeof part === 'string' ? part : conversation[part.variable])).join(''));
  }
}

export function compileText(text: string): TextSource {
  return PLACEHOLDER.test(text) ? new TextTemplate(text) : new TextReply(text);
}

/** The text for this request: a constant's own object (its caches shared), or a fresh rendering. */
export function resolveText(source: TextSource, conversation: Conversation): TextReply {
  return source instanceof TextTemplate ? source.render(conversation) : source;
}

function compileFinish(spec: ResponseObject, fallback: FinishReason): Finish {
  const reason = spec.finish_reason ?? (spec.stop_reason ? FROM_STOP_REASON[spec.stop_reason] : fallback);
  return {
    reason,
    ...(spec.finish_reason && { finishReason: spec.finish_reason }),
    ...(spec.stop_reason && { stopReason: spec.stop_reason }),
  };
}

/**
 * The rule's figures. `input_tokens` is Anthropic's word (the prompt outside the cache) and
 * `prompt_tokens` OpenAI's (the whole prompt, cached part included): without cache figures they are
 * the same number; with them, `input` is always the whole prompt.
 */
function compileUsage(spec: NonNullable<ResponseObject['usage']>): UsageOverride {
  const { cache_read_input_tokens: cacheRead, cache_creation_input_tokens: cacheCreation, reasoning_tokens: reasoning } = spec;
  const cached = (cacheRead ?? 0) + (cacheCreation ?? 0);
  const input = spec.input_tokens !== undefined ? spec.input_tokens + cached : spec.prompt_tokens;
  const output = spec.output_tokens ?? spec.completion_tokens;
  return {
    ...(input !== undefined && { input }),
    ...(output !== undefined && { output }),
    ...(cacheRead !== undefined && { cacheRead }),
    ...(cacheCreation !== undefined && { cacheCreation }),
    ...(reasoning !== undefined && { reasoning }),
  };
}

function compileThinking(spec: ResponseObject): ThinkingAnswer | undefined {
  return spec.thinking === undefined ? undefined : { text: compileText(spec.thinking), redacted: spec.redacted === true };
}

function compileDelivery(spec: ResponseObject, settings: Settings, fallback: FinishReason): Delivery {
  const usage = spec.usage && compileUsage(spec.usage);
  return {
    chunking: spec.chunking ?? settings.chunking ?? 'char',
    pacing: compilePacing(spec.latency, settings.latency),
    fault: spec.fault && {
      afterChunks: spec.fault.fail_after_chunks,
      mode: spec.fault.mode ?? 'error_event',
      message: spec.fault.message ?? 'Overloaded',
    },
    usage,
    finish: compileFinish(spec, fallback),
  };
}

function compileToolCall(spec: ToolCallSpec): CompiledToolCall {
  const args = spec.arguments ?? {};
  if (args === 'auto') return { name: spec.name, argumentsJson: '{}', input: {}, id: spec.id, auto: true };
  return typeof args === 'string'
    ? { name: spec.name, argumentsJson: args, input: JSON.parse(args) as Record<string, unknown>, id: spec.id }
    : { name: spec.name, argumentsJson: JSON.stringify(args), input: args, id: spec.id };
}

function compileAnswer(spec: ResponseSpec, settings: Settings): Answer {
  if (typeof spec === 'string') return { kind: 'text', text: compileText(spec), delivery: compileDelivery({}, settings, 'stop') };
  if (spec.error) {
    const { status, message, type, code, retry_after } = spec.error;
    return { kind: 'error', status, message, type, code, retryAfterSeconds: retry_after };
  }
  // `json:` is an answer's JSON as a value (sent as its text), or `auto` to have it generated.
  if (spec.json !== undefined) {
    const json = spec.json === 'auto' ? { text: compileText(''), json: 'auto' as const } : { text: compileText(JSON.stringify(spec.json)) };
    return { kind: 'text', ...json, ...(spec.thinking !== undefined && { thinking: compileThinking(spec) }), delivery: compileDelivery(spec, settings, 'stop') };
  }
  if (spec.tool_calls) {
    return {
      kind: 'tool_calls',
      text: spec.text === undefined ? undefined : compileText(spec.text),
      calls: spec.tool_calls.map(compileToolCall),
      ...(spec.thinking !== undefined && { thinking: compileThinking(spec) }),
      delivery: compileDelivery(spec, settings, 'tool_calls'),
    };
  }
  return {
    kind: 'text',
    text: compileText(spec.text ?? ''),
    ...(spec.thinking !== undefined && { thinking: compileThinking(spec) }),
    delivery: compileDelivery(spec, settings, 'stop'),
  };
}

/** Compiles a validated response once, at load: templates parsed, tool arguments serialised, defaults merged. */
export function compileResponse(spec: ResponseSpec, settings: Settings): CompiledResponse {
  if (typeof spec === 'object' && spec.sequence) {
    return { kind: 'sequence', steps: spec.sequence.map((step) => compileAnswer(step, settings)), then: spec.then ?? 'repeat_last' };
  }
  return compileAnswer(spec, settings);
}

/** Which step of a sequence the n-th matching call (0-based) gets. */
export function sequenceStep(response: SequenceResponse, call: number): number {
  const length = response.steps.length;
  return response.then === 'loop' ? call % length : Math.min(call, length - 1);
}
