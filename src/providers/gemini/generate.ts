// :generateContent, :streamGenerateContent and :countTokens, for one path prefix (a Gemini API
// version such as `/v1beta`, or a Vertex AI model collection). countTokens answers exactly the
// `promptTokenCount` generateContent reports for the same request, the figure a rule's usage fixes
// included (API-FORMATS §11).
import { JSON_ARRAY, SSE } from '../../http/framing.ts';
import type { Reply } from '../../engine/reply-plan.ts';
import { answerRoute } from '../answer-route.ts';
import type { Parsed, ProviderRoute, RouteRequest } from '../provider.ts';
import { renderGenerateContent, renderGenerateStream, renderGeminiStreamError, promptTokens } from './encode.ts';
import { invalidArgument } from './errors.ts';
import { conversationOf, modelIdOf, validateGenerateBody, type GenerateContentBody, type GenerateRequest } from './request.ts';
import { geminiPromptTokens } from './usage.ts';

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function parseGenerate(request: RouteRequest, endpoint: string, stream: boolean): Parsed<GenerateRequest> {
  const body = validateGenerateBody(request.body, request.strict);
  const model = modelIdOf(request.params.model!);
  const conversation = conversationOf(body, model, endpoint, stream, request);
  const generate: GenerateRequest = { body, model, sse: request.query.alt === 'sse', stream, promptTokens: geminiPromptTokens(body) };
  return { request: generate, conversation };
}

/**
 * countTokens takes `{contents}` (with `systemInstruction`, `tools` on Vertex AI) or a whole
 * `{generateContentRequest}` (https://ai.google.dev/api/tokens#method:-models.counttokens).
 */
function countBodyOf(body: unknown, strict: boolean): GenerateContentBody {
  if (!isObject(body)) return validateGenerateBody(body, strict, 'CountTokensRequest');
  const inner = body.generateContentRequest;
  if (inner !== undefined) {
    if (body.contents !== undefined) throw invalidArgument('* CountTokensRequest: Only one of contents or generate_content_request can be set.\n');
    return validateGenerateBody(inner, strict, 'CountTokensRequest.generate_content_request');
  }
  const { contents, systemInstruction, tools, generationConfig } = body;
  if (strict) {
    const extra = Object.keys(body).find((key) => !['contents', 'generateContentRequest', 'systemInstruction', 'tools', 'generationConfig', 'model', 'instances'].includes(key));
    if (extra !== undefined) throw invalidArgument(`Invalid JSON payload received. Unknown name "${extra}": Cannot find field.`);
  }
  return validateGenerateBody({ contents, systemInstruction, tools, generationConfig }, false, 'CountTokensRequest');
}

/** The three model methods under one prefix, e.g. `/v1beta/models` or `/v1/projects/{project}/…/models`. */
export function generateRoutes(prefix: string): ProviderRoute[] {
  const generate = `${prefix}/{model}:generateContent`;
  const streamGenerate = `${prefix}/{model}:streamGenerateContent`;
  const count = `${prefix}/{model}:countTokens`;
  const codec = {
    renderJson: renderGenerateContent,
    renderStream: renderGenerateStream,
    renderStreamError: renderGeminiStreamError,
    streams: (request: GenerateRequest) => request.stream,
    framing: (request: GenerateRequest) => (request.sse ? SSE : JSON_ARRAY),
  };
  return [
    answerRoute('POST', generate, { ...codec, parse: (request) => parseGenerate(request, generate, false) }),
    { ...answerRoute('POST', streamGenerate, { ...codec, parse: (request) => parseGenerate(request, streamGenerate, true) }), requestsStream: () => true },
    answerRoute('POST', count, {
      parse(request) {
        const body = countBodyOf(request.body, request.strict);
        const model = modelIdOf(request.params.model!);
        // Matched as the generateContent request it counts: the same rule, a sequence looked at, not advanced.
        const conversation = conversationOf(body, model, generate, false, request);
        return { request: { body, model, sse: false, stream: false, promptTokens: geminiPromptTokens(body) }, conversation, peek: true };
      },
      streams: () => false,
      renderJson: (reply: Reply | undefined, _conversation, request: GenerateRequest) => {
        const total = promptTokens(reply, request);
        return { totalTokens: total, promptTokensDetails: [{ modality: 'TEXT', tokenCount: total }] };
      },
    }),
  ];
}
