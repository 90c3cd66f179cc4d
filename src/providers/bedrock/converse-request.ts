// Converse and ConverseStream request bodies (API-FORMATS §17 "Converse"): validated with the
// service's own wording ("1 validation error detected: Value … at '…' failed to satisfy
// constraint: …") and turned into the neutral conversation.
import type { Clock } from '../../engine/clock.ts';
import { withoutClientReminders, type Conversation, type ConversationMessage, type ToolResult } from '../../engine/conversation.ts';
import type { RequestInfo } from '../provider.ts';
import { converseStructure } from './structured.ts';
import { validation } from './errors.ts';

/** A content block: a union with exactly one member set. */
export interface ContentBlock {
  text?: string;
  toolUse?: { toolUseId?: string; name?: string; input?: unknown };
  toolResult?: { toolUseId?: string; content?: { text?: string; json?: unknown }[]; status?: string };
  [member: string]: unknown;
}

export interface ConverseMessage {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

export interface ConverseBody {
  messages: ConverseMessage[];
  system?: { text?: string }[];
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: { tools?: { toolSpec?: { name?: string } }[] };
}

export interface ConverseRequest {
  modelId: string;
  stream: boolean;
  /** When the request was read, for `metrics.latencyMs`. */
  startedAt: number;
  clock: Clock;
  /** Thinking is on (`additionalModelRequestFields.thinking`, Claude's): the answer opens with reasoning (converse-encode.ts). */
  thinking?: boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function constraint(value: unknown, at: string, rule: string): never {
  const shown = value === undefined || value === null ? 'null ' : typeof value === 'object' ? '' : `'${String(value)}' `;
  throw validation(`1 validation error detected: Value ${shown}at '${at}' failed to satisfy constraint: ${rule}`);
}

function checkRange(value: unknown, at: string, min: number, max: number, integer: boolean): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || (integer && !Number.isInteger(value))) constraint(value, at, `Member must be a ${integer ? 'integer' : 'number'}`);
  if (value < min) constraint(value, at, `Member must have value greater than or equal to ${min}`);
  if (value > max) constraint(value, at, `Member must have value less than or equal to ${max}`);
}

/** Validates a Converse body; throws ValidationException in the service's words. */
export function validateConverse(body: unknown, strict: boolean): ConverseBody {
  if (!isObject(body)) throw validation('Malformed input request: the request body must be a JSON object.');
  const { messages, system, inferenceConfig, toolConfig } = body;
  if (!Array.isArray(messages)) constraint(messages, 'messages', 'Member must not be null');
  messages.forEach((message: unknown, i) => {
    const at = `messages.${i + 1}.member`;
    if (!isObject(message)) constraint(message, at, 'Member must not be null');
    if (message.role !== 'user' && message.role !== 'assistant') constraint(message.role, `${at}.role`, 'Member must satisfy enum value set: [user, assistant]');
    if (!Array.isArray(message.content)) constraint(message.content, `${at}.content`, 'Member must not be null');
    message.content.forEach((block: unknown, j) => {
      if (!isObject(block)) constraint(block, `${at}.content.${j + 1}.member`, 'Member must not be null');
      if (block.text !== undefined && typeof block.text !== 'string') constraint(block.text, `${at}.content.${j + 1}.member.text`, 'Member must be a string');
      // The service takes exactly one member of the union; loose clients get the benefit of the doubt.
      if (strict && Object.keys(block).length !== 1) throw validation(`The content block at messages.${i}.content.${j} must set exactly one member.`);
    });
  });
  if (messages.length === 0 || (messages[0] as ConverseMessage).role !== 'user') {
    throw validation('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
  }
  if (system !== undefined && !Array.isArray(system)) constraint(system, 'system', 'Member must be a list');
  if (inferenceConfig !== undefined) {
    if (!isObject(inferenceConfig)) constraint(inferenceConfig, 'inferenceConfig', 'Member must be a structure');
    checkRange(inferenceConfig.maxTokens, 'inferenceConfig.maxTokens', 1, Number.MAX_SAFE_INTEGER, true);
    checkRange(inferenceConfig.temperature, 'inferenceConfig.temperature', 0, 1, false);
    checkRange(inferenceConfig.topP, 'inferenceConfig.topP', 0, 1, false);
    if (inferenceConfig.stopSequences !== undefined && !Array.isArray(inferenceConfig.stopSequences)) constraint(inferenceConfig.stopSequences, 'inferenceConfig.stopSequences', 'Member must be a list');
  }
  if (toolConfig !== undefined) {
    if (!isObject(toolConfig) || !Array.isArray(toolConfig.tools)) constraint(undefined, 'toolConfig.tools', 'Member must not be null');
    if (toolConfig.tools.length === 0) constraint(undefined, 'toolConfig.tools', 'Member must have length greater than or equal to 1');
    toolConfig.tools.forEach((tool: unknown, i) => {
      const spec = isObject(tool) ? tool.toolSpec : undefined;
      if (isObject(tool) && spec === undefined && !strict) return; // a cachePoint or another member
      if (!isObject(spec) || typeof spec.name !== 'string') constraint(undefined, `toolConfig.tools.${i + 1}.member.toolSpec.name`, 'Member must not be null');
    });
  }
  return body as unknown as ConverseBody;
}

const textOf = (blocks: readonly { text?: unknown }[] | undefined): string =>
  (blocks ?? [])
    .map((block) => block.text)
    .filter((text): text is string => typeof text === 'string')
    .join('\n');

function toolResultText(result: NonNullable<ContentBlock['toolResult']>): string {
  return (result.content ?? [])
    .map((part) => (typeof part.text === 'string' ? part.text : part.json !== undefined ? JSON.stringify(part.json) : ''))
    .filter((text) => text !== '')
    .join('\n');
}

const onlyToolResults = (message: ConverseMessage) => message.content.length > 0 && message.content.every((block) => block.toolResult !== undefined);

/** The last turn as a tool result, named by the assistant toolUse block it answers. */
function lastToolResult(messages: readonly ConverseMessage[]): ToolResult | undefined {
  const last = messages.at(-1);
  if (!last || last.role !== 'user') return undefined;
  const result = [...last.content].reverse().find((block) => block.toolResult !== undefined)?.toolResult;
  if (!result) return undefined;
  let name: string | undefined;
  for (const message of messages) for (const block of message.content) if (block.toolUse && block.toolUse.toolUseId === result.toolUseId) name = block.toolUse.name;
  return { name, content: toolResultText(result), ...(result.toolUseId !== undefined && { callId: result.toolUseId }) };
}

/** The neutral conversation of a Converse body. */
export function converseConversation(body: ConverseBody, modelId: string, endpoint: string, stream: boolean, info: RequestInfo): Conversation {
  const messages: ConversationMessage[] = body.messages.map((m) => ({
    role: m.role,
    text: onlyToolResults(m) ? m.content.map((b) => toolResultText(b.toolResult!)).join('\n') : textOf(m.content),
  }));
  // A user turn that only carries tool results is the tool talking: the prompt is the last turn the user wrote.
  const prompt = [...body.messages].reverse().find((m) => m.role === 'user' && !onlyToolResults(m));
  const structure = converseStructure(body, info.strict);
  if ('problem' in structure) throw validation(structure.problem);
  return {
    provider: 'bedrock',
    endpoint,
    model: modelId,
    system: textOf(body.system),
    messages,
    prompt: prompt ? withoutClientReminders(textOf(prompt.content)) : '',
    tools: (body.toolConfig?.tools ?? []).map((t) => t.toolSpec?.name).filter((name): name is string => typeof name === 'string'),
    toolResult: lastToolResult(body.messages),
    stream,
    header: info.header,
    ...structure,
  };
}
