// Decodes Gemini's GenerateContentResponse into rule responses for `--record` (src/proxy/record.ts):
// generateContent's one object, and streamGenerateContent's chunks, as SSE frames (`alt=sse`) or
// the elements of one JSON array, each timed as it arrived (src/proxy/frames.ts jsonArraySplitter;
// https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse). A stream is whole
// once a chunk carries the candidate's finishReason.
import type { OpenAiFinishReason, ResponseObject, ToolCallSpec } from '../../config/schema.ts';
import type { ProviderRecorder, Recording, UpstreamAnswer } from '../provider.ts';
import { int, isObject, parseJson as parse, str } from '../recorded-json.ts';

// FinishReason (https://ai.google.dev/api/generate-content#FinishReason) in the rule's words;
// reasons with no counterpart (OTHER, MALFORMED_FUNCTION_CALL, …) leave the rule's default.
const SAFETY = ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY'];

/** The chunks (or the one response) reassembled: text parts (not thoughts), function calls, the last finish reason and usage. */
function decodeChunks(chunks: readonly { json: unknown; atMs: number }[]): Recording | undefined {
  let text: string | undefined;
  const calls: ToolCallSpec[] = [];
  let finish: string | undefined;
  let input: number | undefined;
  let output: number | undefined;
  const contentAtMs: number[] = [];
  for (const { json, atMs } of chunks) {
    if (!isObject(json)) return undefined;
    if (json.error !== undefined) return undefined;
    if (isObject(json.usageMetadata)) {
      input = int(json.usageMetadata.promptTokenCount) ?? input;
      output = int(json.usageMetadata.candidatesTokenCount) ?? output;
    }
    const candidate = Array.isArray(json.candidates) ? (json.candidates[0] as unknown) : undefined;
    if (!isObject(candidate)) continue;
    finish = str(candidate.finishReason) ?? finish;
    const parts = isObject(candidate.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : [];
    for (const part of parts) {
      if (!isObject(part) || part.thought === true) continue;
      if (typeof part.text === 'string') {
        text = (text ?? '') + part.text;
        if (part.text !== '') contentAtMs.push(atMs);
      } else if (isObject(part.functionCall) && str(part.functionCall.name)) {
        const call = part.functionCall;
        calls.push({ name: str(call.name)!, arguments: isObject(call.args) ? call.args : {}, ...(str(call.id) && { id: str(call.id) }) });
        contentAtMs.push(atMs);
      }
    }
  }
  if (finish === undefined) return undefined;
  const response: ResponseObject = {};
  if (text !== undefined && (text !== '' || calls.length === 0)) response.text = text;
  else if (calls.length === 0) response.text = '';
  if (calls.length > 0) response.tool_calls = calls;
  const reason: OpenAiFinishReason | undefined =
    finish === 'STOP' ? (calls.length > 0 ? 'tool_calls' : 'stop') : finish === 'MAX_TOKENS' ? 'length' : SAFETY.includes(finish) ? 'content_filter' : undefined;
  if (reason) response.finish_reason = reason;
  if (input !== undefined || output !== undefined) response.usage = { ...(input !== undefined && { input_tokens: input }), ...(output !== undefined && { output_tokens: output }) };
  return { response, contentAtMs };
}

export const geminiRecorder: ProviderRecorder = {
  decode(answer: UpstreamAnswer): Recording | undefined {
    if (!/:(stream)?generateContent$/i.test(answer.endpoint)) return undefined;
    if (answer.frames !== undefined) return decodeChunks(answer.frames.map((frame) => ({ json: parse(frame.data), atMs: frame.atMs })));
    const body = parse(answer.body);
    // A JSON array the proxy did not split as it arrived (a request not marked as a stream): the chunks, untimed.
    if (Array.isArray(body)) {
      const decoded = decodeChunks(body.map((json) => ({ json, atMs: 0 })));
      return decoded && { response: decoded.response };
    }
    const decoded = decodeChunks([{ json: body, atMs: 0 }]);
    return decoded && { response: decoded.response };
  },
};
