// InvokeModel and InvokeModelWithResponseStream for Anthropic models (API-FORMATS §17): the body is
// Anthropic's Messages body with `anthropic_version: "bedrock-2023-05-31"` and without `model` and
// `stream`; the answer is Anthropic's Message JSON, or its stream events (§8) as bare JSON, each
// base64-encoded in the `bytes` of an event-stream `chunk` event. Bedrock's own code: providers do
// not import each other, and this body is Bedrock's contract (its version string, its error words,
// its invocation metrics), only shaped like Anthropic's.
import type { Clock } from '../../engine/clock.ts';
import { withoutClientReminders, type Conversation, type ConversationMessage, type ToolResult } from '../../engine/conversation.ts';
import type { Reply } from '../../engine/reply-plan.ts';
import { base58 } from '../../http/ids.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../http/stream-writer.ts';
import type { RequestInfo } from '../provider.ts';
import { anthropicStructure } from '../structured-fields.ts';
import { validation } from './errors.ts';
import { eventFrame } from './eventstream.ts';
import { anthropicStopReason } from './finish.ts';
import { bedrockInputTokens, bedrockOutputTokens } from './usage.ts';

export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

interface Block {
  type?: string;
  text?: string;
  id?: string;
  name?: string;
  tool_use_id?: string;
  content?: string | Block[];
}

interface Message {
  role: 'user' | 'assistant';
  content: string | Block[];
}

export interface InvokeBody {
  anthropic_version?: string;
  messages: Message[];
  system?: string | Block[];
  max_tokens?: number;
  tools?: { name?: string }[];
}

export interface InvokeRequest {
  modelId: string;
  stream: boolean;
  startedAt: number;
  clock: Clock;
}

// What Anthropic's Messages API on Bedrock takes (docs: "Anthropic Claude Messages API" in the
// Bedrock user guide); strict mode refuses anything else, `model` and `stream` included.
const FIELDS = new Set([
  'anthropic_version', 'anthropic_beta', 'messages', 'system', 'max_tokens', 'stop_sequences', 'temperature', 'top_p', 'top_k',
  'tools', 'tool_choice', 'thinking', 'metadata', 'output_config', 'context_management',
]);

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
// The service validates the model's body against its JSON schema and reports in that validator's words.
const malformed = (detail: string) => validation(`Malformed input request: ${detail}, please reformat your input and try again.`);

/** Whether InvokeModel on this id takes Anthropic's body: `anthropic.…`, an inference profile `us.anthropic.…`, or such an ARN. */
export function isAnthropicModel(modelId: string): boolean {
  const id = modelId.slice(modelId.lastIndexOf('/') + 1);
  return /^(?:[a-z-]+\.)?anthropic\./.test(id);
}

/** `us.anthropic.claude-sonnet-4-5-20250929-v1:0` → `claude-sonnet-4-5-20250929`: the `model` Bedrock's Anthropic answers name. */
export function anthropicModelName(modelId: string): string {
  const id = modelId.slice(modelId.lastIndexOf('/') + 1);
  return id.replace(/^(?:[a-z-]+\.)?anthropic\./, '').replace(/-v\d+(?::\d+)?$/, '');
}

function textOf(content: string | Block[] | undefined): string {
  if (typeof content === 'string') return content;
  return (content ?? [])
    .filter((block) => block.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text)
    .join('\n');
}

const isToolResult = (block: Block) => block.type === 'tool_result';
const onlyToolResults = (message: Message) => typeof message.content !== 'string' && message.content.length > 0 && message.content.every(isToolResult);

function lastToolResult(messages: readonly Message[]): ToolResult | undefined {
  const last = messages.at(-1);
  if (!last || last.role !== 'user' || typeof last.content === 'string') return undefined;
  const result = [...last.content].reverse().find(isToolResult);
  if (!result) return undefined;
  let name: string | undefined;
  for (const message of messages) {
    if (typeof message.content === 'string') continue;
    for (const block of message.content) if (block.type === 'tool_use' && block.id === result.tool_use_id) name = block.name;
  }
  return { name, content: textOf(result.content), ...(result.tool_use_id !== undefined && { callId: result.tool_use_id }) };
}

/** Validates an Anthropic-on-Bedrock body (ValidationException in the service's words). */
export function validateInvoke(body: unknown, strict: boolean): InvokeBody {
  if (!isObject(body)) throw malformed('#: expected type: JSONObject');
  if (strict) {
    const extra = Object.keys(body).find((key) => !FIELDS.has(key));
    if (extra !== undefined) throw malformed(`#: extraneous key [${extra}] is not permitted`);
    for (const key of ['anthropic_version', 'max_tokens']) if (!(key in body)) throw malformed(`#: required key [${key}] not found`);
  }
  if (body.anthropic_version !== undefined && body.anthropic_version !== BEDROCK_ANTHROPIC_VERSION) {
    throw validation(`Invalid API version: ${String(body.anthropic_version)}; this model takes anthropic_version "${BEDROCK_ANTHROPIC_VERSION}".`);
  }
  if (!('messages' in body)) throw malformed('#: required key [messages] not found');
  if (!Array.isArray(body.messages)) throw malformed('#/messages: expected type: JSONArray');
  if (body.messages.length === 0) throw malformed('#/messages: expected minimum item count: 1, found: 0');
  body.messages.forEach((message: unknown, i) => {
    if (!isObject(message)) throw malformed(`#/messages/${i}: expected type: JSONObject`);
    if (message.role !== 'user' && message.role !== 'assistant') throw malformed(`#/messages/${i}/role: ${JSON.stringify(message.role ?? null)} is not a valid enum value`);
    if (typeof message.content !== 'string' && !Array.isArray(message.content)) throw malformed(`#/messages/${i}/content: expected type: JSONArray or String`);
  });
  if (body.max_tokens !== undefined && (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1)) throw malformed('#/max_tokens: must be an integer of at least 1');
  if (body.system !== undefined && typeof body.system !== 'string' && !Array.isArray(body.system)) throw malformed('#/system: expected type: JSONArray or String');
  if (body.tools !== undefined && !Array.isArray(body.tools)) throw malformed('#/tools: expected type: JSONArray');
  return body as unknown as InvokeBody;
}

export function invokeConversation(body: InvokeBody, modelId: string, endpoint: string, stream: boolean, info: RequestInfo): Conversation {
  const messages: ConversationMessage[] = body.messages.map((m) => ({ role: m.role, text: textOf(m.content) }));
  const prompt = [...body.messages].reverse().find((m) => m.role === 'user' && !onlyToolResults(m));
  return {
    provider: 'bedrock',
    endpoint,
    model: modelId,
    system: textOf(body.system),
    messages,
    prompt: prompt ? withoutClientReminders(textOf(prompt.content)) : '',
    tools: (body.tools ?? []).map((t) => t.name).filter((name): name is string => typeof name === 'string'),
    toolResult: lastToolResult(body.messages),
    stream,
    header: info.header,
    ...anthropicStructure(body, info.strict),
  };
}

const messageId = () => `msg_bdrk_01${base58(22)}`;
const toolUseId = () => `toolu_bdrk_01${base58(22)}`;
const showsText = (reply: Reply) => reply.text !== undefined && (reply.text.text !== '' || reply.toolCalls.length === 0);

export function renderInvoke(reply: Reply | undefined, conversation: Conversation, request: InvokeRequest): unknown {
  if (!reply) return {};
  const content: unknown[] = [];
  if (showsText(reply)) content.push({ type: 'text', text: reply.text!.text });
  for (const { call } of reply.toolCalls) content.push({ type: 'tool_use', id: call.id ?? toolUseId(), name: call.name, input: call.input });
  return {
    id: messageId(),
    type: 'message',
    role: 'assistant',
    model: anthropicModelName(request.modelId),
    content,
    stop_reason: anthropicStopReason(reply.delivery.finish),
    stop_sequence: null,
    usage: {
      input_tokens: bedrockInputTokens(reply, conversation),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: bedrockOutputTokens(reply),
    },
  };
}

/** One Anthropic stream event as Bedrock carries it: a `chunk` event whose `bytes` are the event's JSON, base64-encoded. */
const chunk = (eventJson: string) => eventFrame('chunk', `{"bytes":"${Buffer.from(eventJson, 'utf8').toString('base64')}"}`);

export function* renderInvokeStream(reply: Reply, conversation: Conversation, request: InvokeRequest): Generator<StreamItem> {
  const inputTokens = bedrockInputTokens(reply, conversation);
  const outputTokens = bedrockOutputTokens(reply);
  const start = {
    type: 'message_start',
    message: {
      id: messageId(),
      type: 'message',
      role: 'assistant',
      model: anthropicModelName(request.modelId),
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
    },
  };
  yield chunk(JSON.stringify(start));
  let index = 0;
  let firstByteLatency: number | undefined;
  const sinceStart = () => Math.max(1, Math.round(request.clock.now() - request.startedAt));
  if (showsText(reply)) {
    yield chunk(`{"type":"content_block_start","index":${index},"content_block":{"type":"text","text":""}}`);
    const open = `{"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":`;
    for (const piece of reply.textChunksJson) {
      yield CONTENT_CHUNK;
      firstByteLatency ??= sinceStart();
      yield chunk(`${open}${piece}}}`);
    }
    yield chunk(`{"type":"content_block_stop","index":${index}}`);
    index++;
  }
  for (const { call, fragmentsJson } of reply.toolCalls) {
    const block = { type: 'tool_use', id: call.id ?? toolUseId(), name: call.name, input: {} };
    yield chunk(`{"type":"content_block_start","index":${index},"content_block":${JSON.stringify(block)}}`);
    const open = `{"type":"content_block_delta","index":${index},"delta":{"type":"input_json_delta","partial_json":`;
    yield chunk(`${open}""}}`);
    for (const fragment of fragmentsJson) {
      yield CONTENT_CHUNK;
      firstByteLatency ??= sinceStart();
      yield chunk(`${open}${fragment}}}`);
    }
    yield chunk(`{"type":"content_block_stop","index":${index}}`);
    index++;
  }
  yield chunk(`{"type":"message_delta","delta":{"stop_reason":"${anthropicStopReason(reply.delivery.finish)}","stop_sequence":null},"usage":{"output_tokens":${outputTokens}}}`);
  const metrics = { inputTokenCount: inputTokens, outputTokenCount: outputTokens, invocationLatency: sinceStart(), firstByteLatency: firstByteLatency ?? sinceStart() };
  yield chunk(JSON.stringify({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': metrics }));
}
