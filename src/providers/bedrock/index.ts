// AWS Bedrock Runtime (API-FORMATS §17): Converse, ConverseStream, InvokeModel and
// InvokeModelWithResponseStream for Anthropic models, CountTokens, and the control plane's model
// listing. SigV4 (or bearer) authorization is accepted without checking. The SDK's default handler
// speaks cleartext HTTP/2, which the server accepts beside HTTP/1.1 (src/http/h2c.ts).
import { randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import { ApiError } from '../../http/errors.ts';
import type { Framing } from '../../http/framing.ts';
import { EVENT_STREAM } from '../../http/framing.ts';
import type { RequestState } from '../../http/state.ts';
import { elapsedMs } from '../../http/timing.ts';
import { answerRoute } from '../answer-route.ts';
import { modelsRoutes } from '../models.ts';
import type { Parsed, Provider, ProviderDeps, ProviderRoute, RouteRequest } from '../provider.ts';
import { renderConverse, renderConverseStream } from './converse-encode.ts';
import { converseConversation, validateConverse, type ConverseRequest } from './converse-request.ts';
import { converseThinking } from './converse-encode.ts';
import { bedrockErrorBody, bedrockErrorHeaders, bedrockStreamError, validation } from './errors.ts';
import { invokeConversation, isAnthropicModel, renderInvoke, renderInvokeStream, validateInvoke, type InvokeRequest } from './invoke.ts';
import { BEDROCK_MODELS, bedrockModelById, bedrockModelsPage, ownsBedrockModel } from './models.ts';
import { bedrockRecorder } from './recorder.ts';
import { bedrockInputTokens } from './usage.ts';

const MODEL = '/model/{modelId}';
const CONVERSE = `${MODEL}/converse`;
const CONVERSE_STREAM = `${MODEL}/converse-stream`;
const INVOKE = `${MODEL}/invoke`;
const INVOKE_STREAM = `${MODEL}/invoke-with-response-stream`;
const COUNT_TOKENS = `${MODEL}/count-tokens`;

// InvokeModelWithResponseStream names the payload's type in a header of its own (the SDK's `contentType`).
const INVOKE_EVENT_STREAM: Framing = { name: EVENT_STREAM.name, headers: { ...EVENT_STREAM.headers, 'x-amzn-bedrock-content-type': 'application/json' } };

function converseParser(endpoint: string, stream: boolean) {
  return (request: RouteRequest, deps: ProviderDeps): Parsed<ConverseRequest> => {
    const modelId = request.params.modelId!;
    const body = validateConverse(request.body, request.strict);
    return {
      request: { modelId, stream, startedAt: deps.clock.now(), clock: deps.clock, thinking: converseThinking(body) },
      conversation: converseConversation(body, modelId, endpoint, stream, request),
    };
  };
}

/** Anthropic's body on an `anthropic.*` model (or any body that says `anthropic_version`). */
function parseAnthropicBody(body: unknown, modelId: string, strict: boolean) {
  const saysAnthropic = body !== null && typeof body === 'object' && 'anthropic_version' in body;
  if (!isAnthropicModel(modelId) && !saysAnthropic) {
    throw validation(`mockllm answers InvokeModel with Anthropic's body (anthropic.* models, anthropic_version "bedrock-2023-05-31"); use Converse for ${modelId}.`);
  }
  return validateInvoke(body, strict);
}

function invokeParser(endpoint: string, stream: boolean) {
  return (request: RouteRequest, deps: ProviderDeps): Parsed<InvokeRequest> => {
    const modelId = request.params.modelId!;
    const body = parseAnthropicBody(request.body, modelId, request.strict);
    return {
      request: { modelId, stream, startedAt: deps.clock.now(), clock: deps.clock },
      conversation: invokeConversation(body, modelId, endpoint, stream, request),
    };
  };
}

/** InvokeModel's usage and latency headers, which the real service adds to the model's own body. */
function withInvocationHeaders(route: ProviderRoute): ProviderRoute {
  return {
    ...route,
    async handle(ctx: Context, request, deps) {
      await route.handle(ctx, request, deps);
      const usage = (ctx.body as { usage?: { input_tokens?: number; output_tokens?: number } } | undefined)?.usage;
      if (ctx.status !== 200 || !usage || ctx.res.headersSent) return;
      // The model's own media type, as the service sends it (the SDK's `contentType`), without a charset.
      ctx.set('content-type', 'application/json');
      ctx.set('x-amzn-bedrock-input-token-count', String(usage.input_tokens));
      ctx.set('x-amzn-bedrock-output-token-count', String(usage.output_tokens));
      ctx.set('x-amzn-bedrock-invocation-latency', String(Math.max(1, Math.round(elapsedMs(ctx.state as RequestState)))));
    },
  };
}

interface CountRequest {
  fallback: number;
}

/** CountTokens: `{"input":{"converse":{…}}}` or `{"input":{"invokeModel":{"body":"<base64>"}}}` → `{"inputTokens": N}`, N as the answer's usage reports it. */
function parseCountTokens(request: RouteRequest): Parsed<CountRequest> {
  const modelId = request.params.modelId!;
  const input = (request.body as { input?: { converse?: unknown; invokeModel?: { body?: unknown } } } | null)?.input;
  let conversation;
  if (input?.converse !== undefined) {
    const body = validateConverse(input.converse, request.strict);
    conversation = converseConversation(body, modelId, CONVERSE, false, request);
  } else if (input?.invokeModel !== undefined) {
    const encoded = input.invokeModel.body;
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(String(encoded), 'base64').toString('utf8'));
    } catch {
      throw validation('Malformed input request: input.invokeModel.body is not base64-encoded JSON, please reformat your input and try again.');
    }
    conversation = invokeConversation(parseAnthropicBody(decoded, modelId, request.strict), modelId, INVOKE, false, request);
  } else {
    throw validation("1 validation error detected: Value null at 'input' failed to satisfy constraint: Member must not be null");
  }
  return { request: { fallback: bedrockInputTokens(undefined, conversation) }, conversation, peek: true };
}

/** Any other operation under /model/: the service's answer to a path it does not serve. */
function unknownOperation(method: 'GET' | 'POST'): ProviderRoute {
  return {
    method,
    path: `${MODEL}/{operation}`,
    async handle(ctx) {
      throw new ApiError({ status: 404, kind: 'not_found', message: `The operation ${ctx.method} ${ctx.path} is not served by Bedrock Runtime.`, type: 'ResourceNotFoundException' });
    },
  };
}

const routes: ProviderRoute[] = [
  answerRoute('POST', CONVERSE, { parse: converseParser(CONVERSE, false), streams: () => false, renderJson: renderConverse }),
  {
    ...answerRoute('POST', CONVERSE_STREAM, {
      parse: converseParser(CONVERSE_STREAM, true),
      streams: () => true,
      renderJson: renderConverse,
      renderStream: renderConverseStream,
      renderStreamError: bedrockStreamError,
      framing: () => EVENT_STREAM,
    }),
    requestsStream: () => true,
  },
  withInvocationHeaders(answerRoute('POST', INVOKE, { parse: invokeParser(INVOKE, false), streams: () => false, renderJson: renderInvoke })),
  {
    ...answerRoute('POST', INVOKE_STREAM, {
      parse: invokeParser(INVOKE_STREAM, true),
      streams: () => true,
      renderJson: renderInvoke,
      renderStream: renderInvokeStream,
      renderStreamError: bedrockStreamError,
      framing: () => INVOKE_EVENT_STREAM,
    }),
    requestsStream: () => true,
  },
  answerRoute('POST', COUNT_TOKENS, {
    parse: parseCountTokens,
    streams: () => false,
    renderJson: (reply, _conversation, request) => ({ inputTokens: reply?.delivery.usage?.input ?? request.fallback }),
  }),
  ...modelsRoutes(bedrockModelsPage, bedrockModelById, '/foundation-models'),
  unknownOperation('POST'),
  unknownOperation('GET'),
];

// SigV4's credential scope names the service: `…/us-east-1/bedrock/aws4_request`.
const SIGNED_FOR_BEDROCK = /^AWS4-HMAC-SHA256 .*\/bedrock\/aws4_request/;

export const bedrock: Provider = {
  name: 'bedrock',
  routes,
  claims: (path, header) => path.startsWith('/model/') || path.startsWith('/foundation-models') || SIGNED_FOR_BEDROCK.test(header('authorization') ?? ''),
  models: { defaults: BEDROCK_MODELS, owns: ownsBedrockModel },
  requestHeaders: ['authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token', 'x-amz-user-agent', 'amz-sdk-invocation-id', 'amz-sdk-request', 'x-amzn-bedrock-accept'],
  newRequestId: () => randomUUID(),
  responseHeaders: (requestId) => ({ 'x-amzn-requestid': requestId }),
  errorBody: bedrockErrorBody,
  errorHeaders: bedrockErrorHeaders,
  malformedJsonMessage: 'Malformed input request: the request body is not valid JSON, please reformat your input and try again.',
  unknownRouteMessage: () => 'The requested operation is not recognized by the service.',
  recorder: bedrockRecorder,
};
