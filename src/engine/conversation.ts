// The provider-neutral request the engine sees. Provider adapters build it; nothing here knows
// about HTTP or any provider's wire format.

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ConversationMessage {
  role: Role;
  /** The message's text: a plain string, or its text parts/blocks joined with newlines. */
  text: string;
  name?: string;
}

export interface ToolResult {
  /** The tool's name, when the conversation's earlier tool call names it. */
  name: string | undefined;
  content: string;
  /** The id of the call it answers (Anthropic `tool_use_id`, OpenAI `tool_call_id` / `call_id`, …), when sent. */
  callId?: string | undefined;
}

/** A JSON Schema a request asks the answer, or a tool's arguments, to follow. */
export interface RequestedSchema {
  /** The schema as sent. */
  schema: unknown;
  /** `openapi`: Gemini's OpenAPI-style Schema (upper-case type names, `nullable`, counts as strings). */
  dialect: 'json-schema' | 'openapi';
  /** Where the request put it, e.g. `response_format.json_schema.schema`: named in reports. */
  source: string;
  /**
   * The server validates strictly (`settings.strict`, `--strict`): a rule's literal JSON that fails
   * the schema is then sent as written, and reported, instead of being replaced (engine/structured-output.ts).
   */
  strict: boolean;
}

/** A tool the request declares, with the schema its arguments follow (for `arguments: auto`). */
export interface DeclaredTool {
  name: string;
  schema: unknown;
  dialect: 'json-schema' | 'openapi';
}

export interface Conversation {
  provider: string;
  /** The route template that received the request, e.g. `/v1/chat/completions`. */
  endpoint: string;
  model: string;
  /** System (and developer) instructions joined with newlines; empty when there are none. */
  system: string;
  messages: ConversationMessage[];
  /** Text of the last `user` message: what the rules are matched against by default. */
  prompt: string;
  /** Names of the tools the request offers. */
  tools: string[];
  /** Set when the conversation's last message is a tool result (the second step of an agent loop). */
  toolResult: ToolResult | undefined;
  stream: boolean;
  header(name: string): string | undefined;
  /**
   * Structured output: the schema the answer's JSON must follow (OpenAI `json_schema`, Anthropic
   * `output_config.format`, Gemini `responseSchema`, Ollama `format`, Bedrock `outputConfig`).
   */
  responseSchema?: RequestedSchema;
  /** The declared tools' argument schemas, when the request offers tools. */
  toolSchemas?: readonly DeclaredTool[];
  /**
   * The one tool the request forces (OpenAI `tool_choice: {function: {name}}`, Anthropic `{type:
   * "tool", name}`, Gemini mode ANY with one function, …): a text answer becomes a call to it, as
   * the real APIs always call it (LangChain's and the AI SDK's tool-based structured output).
   */
  forcedTool?: string;
}

// Turn-aware matching (README "Match conditions"): figures every provider's conversation yields
// alike, computed from the neutral messages so that no provider has to count them itself.

/**
 * How many assistant turns the conversation already holds: runs of consecutive assistant messages
 * count once, because one model response can arrive as several items (an OpenAI Responses
 * `message` and its `function_call`s; parallel calls), and resending it is still one turn.
 */
export function assistantTurns(conversation: Pick<Conversation, 'messages'>): number {
  let turns = 0;
  let previous: Role | undefined;
  for (const message of conversation.messages) {
    if (message.role === 'assistant' && previous !== 'assistant') turns++;
    // System messages between two assistant items do not split a turn (nor start one).
    if (message.role !== 'system') previous = message.role;
  }
  return turns;
}

/** The role of the conversation's last turn: `tool` when it carries tool results; system messages are not turns. */
export function lastRole(conversation: Pick<Conversation, 'messages' | 'toolResult'>): 'user' | 'assistant' | 'tool' | undefined {
  if (conversation.toolResult) return 'tool';
  for (let i = conversation.messages.length - 1; i >= 0; i--) {
    const role = conversation.messages[i]!.role;
    if (role !== 'system') return role;
  }
  return undefined;
}

const REMINDER_OPEN = '<system-reminder>';
const REMINDER_CLOSE = '</system-reminder>';

/**
 * The user's own text: `<system-reminder>…</system-reminder>` sections that stand on their own
 * lines are left out. Coding agents inject them as separate text blocks before (or after) what the
 * user typed (Claude Code: test/agents/captures/); parsers join a message's blocks with newlines,
 * so such a block is exactly such a section. A reminder inside a line of typed text stays. Returns
 * the text itself when it holds no reminder (one substring search on the request path).
 */
export function withoutClientReminders(text: string): string {
  if (!text.includes(REMINDER_OPEN)) return text;
  let out = '';
  let from = 0;
  let removed = false;
  let at = text.indexOf(REMINDER_OPEN);
  while (at >= 0) {
    const lineStart = text.lastIndexOf('\n', at - 1) + 1;
    const close = text.indexOf(REMINDER_CLOSE, at + REMINDER_OPEN.length);
    if (close < 0) break;
    let end = close + REMINDER_CLOSE.length;
    while (end < text.length && (text[end] === ' ' || text[end] === '\t' || text[end] === '\r')) end++;
    const ownLines = text.slice(lineStart, at).trim() === '' && (end === text.length || text[end] === '\n');
    if (ownLines && lineStart >= from) {
      out += text.slice(from, lineStart);
      from = end < text.length ? end + 1 : end;
      removed = true;
    }
    at = text.indexOf(REMINDER_OPEN, end);
  }
  if (!removed) return text;
  return (out + text.slice(from)).trim();
}
