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
}
