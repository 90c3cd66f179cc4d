// The captured agent requests (test/agents/captures/README.md) and how the agent tests send them.
import { readFileSync } from 'node:fs';
import { parseMessagesRequest } from '../../src/providers/anthropic/messages-request.ts';
import { parseResponsesRequest } from '../../src/providers/openai-format/responses-request.ts';
import { MemoryResponseHistory } from '../../src/state/response-history.ts';
import type { Conversation } from '../../src/engine/conversation.ts';

export interface CapturedRequest {
  method: string;
  /** As the agent sent it, query included (`/v1/messages?beta=true`). */
  path: string;
  headers: Record<string, string>;
  body: Record<string, any>;
}

export type CaptureName = 'claude-code-ping' | 'claude-code-tool-loop' | 'codex-ping' | 'codex-tool-loop';

export function capture(name: CaptureName): CapturedRequest[] {
  return JSON.parse(readFileSync(new URL(`./captures/${name}.json`, import.meta.url), 'utf8')) as CapturedRequest[];
}

export const ALL_CAPTURES: CaptureName[] = ['claude-code-ping', 'claude-code-tool-loop', 'codex-ping', 'codex-tool-loop'];

export interface Sent {
  status: number;
  /** `x-mockllm-match`: the rule that answered, or `none`. */
  match: string | null;
  text: string;
}

/** Sends a captured request as the agent did: same method, path, headers and body. */
export async function replay(baseUrl: string, request: CapturedRequest, body: unknown = request.body): Promise<Sent> {
  const response = await fetch(`${baseUrl}${request.path}`, { method: request.method, headers: request.headers, body: JSON.stringify(body) });
  return { status: response.status, match: response.headers.get('x-mockllm-match'), text: await response.text() };
}

/** The text an SSE answer carried: Anthropic `text_delta`s or OpenAI Responses `output_text.delta`s, joined. */
export function streamedText(sse: string): string {
  let text = '';
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const event = JSON.parse(line.slice(6)) as Record<string, any>;
    if (event.type === 'content_block_delta' && event.delta?.type === 'text_delta') text += event.delta.text;
    if (event.type === 'response.output_text.delta') text += event.delta;
  }
  return text;
}

/** The neutral conversation a captured request becomes, parsed as the server parses it (strict). */
export async function conversationOf(request: CapturedRequest): Promise<Conversation> {
  const header = (name: string) => request.headers[name.toLowerCase()];
  const info = { strict: true, header } as Parameters<typeof parseMessagesRequest>[1];
  if (request.path.startsWith('/v1/messages')) return parseMessagesRequest(request.body, info, '/v1/messages').conversation;
  return (await parseResponsesRequest(request.body, info, '/v1/responses', new MemoryResponseHistory(), 'openai')).conversation;
}
