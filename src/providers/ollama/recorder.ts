// Decodes Ollama's answers into rule responses for `--record` (src/proxy/record.ts): /api/chat
// and /api/generate, one object (`stream: false`) or NDJSON lines, whole once a line says
// `done: true` (https://github.com/ollama/ollama/blob/main/docs/api.md).
import type { OpenAiFinishReason, ResponseObject, ToolCallSpec } from '../../config/schema.ts';
import type { ProviderRecorder, Recording, UpstreamAnswer } from '../provider.ts';
import { int, isObject, parseJsonObject as parse, str, type Json } from '../recorded-json.ts';

function decodeLines(lines: readonly { json: Json | undefined; atMs: number }[]): Recording | undefined {
  let text: string | undefined;
  const calls: ToolCallSpec[] = [];
  let done: Json | undefined;
  const contentAtMs: number[] = [];
  for (const { json, atMs } of lines) {
    if (!json || json.error !== undefined) return undefined;
    // /api/chat carries `message`; /api/generate carries `response`.
    const message = isObject(json.message) ? json.message : undefined;
    const piece = message ? str(message.content) : str(json.response);
    if (piece !== undefined) {
      text = (text ?? '') + piece;
      if (piece !== '') contentAtMs.push(atMs);
    }
    for (const call of message && Array.isArray(message.tool_calls) ? message.tool_calls : []) {
      if (!isObject(call) || !isObject(call.function) || !str(call.function.name)) continue;
      const args = call.function.arguments;
      calls.push({ name: str(call.function.name)!, arguments: isObject(args) ? args : typeof args === 'string' && parse(args) ? args : {}, ...(str(call.id) && { id: str(call.id) }) });
      contentAtMs.push(atMs);
    }
    if (json.done === true) {
      done = json;
      break;
    }
  }
  if (!done) return undefined;
  const response: ResponseObject = {};
  if (text !== undefined && (text !== '' || calls.length === 0)) response.text = text;
  else if (calls.length === 0) response.text = '';
  if (calls.length > 0) response.tool_calls = calls;
  const reason = str(done.done_reason);
  const finish: OpenAiFinishReason | undefined = reason === 'length' ? 'length' : reason === 'stop' ? (calls.length > 0 ? 'tool_calls' : 'stop') : undefined;
  if (finish) response.finish_reason = finish;
  const input = int(done.prompt_eval_count);
  const output = int(done.eval_count);
  if (input !== undefined || output !== undefined) response.usage = { ...(input !== undefined && { input_tokens: input }), ...(output !== undefined && { output_tokens: output }) };
  return { response, contentAtMs };
}

export const ollamaRecorder: ProviderRecorder = {
  decode(answer: UpstreamAnswer): Recording | undefined {
    if (answer.endpoint !== '/api/chat' && answer.endpoint !== '/api/generate') return undefined;
    if (answer.frames !== undefined) return decodeLines(answer.frames.map((frame) => ({ json: parse(frame.data), atMs: frame.atMs })));
    // One object (stream: false), or NDJSON under another content type: split it here.
    const lines = answer.body.split('\n').filter((line) => line.trim() !== '');
    const decoded = decodeLines(lines.map((line) => ({ json: parse(line), atMs: 0 })));
    return decoded && (lines.length > 1 ? decoded : { response: decoded.response });
  },
};
