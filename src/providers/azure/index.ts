// Azure OpenAI (API-FORMATS §16): OpenAI's wire format on Azure's paths. The deployments surface
// (`/openai/deployments/{deployment}/…?api-version=…`, what `AzureOpenAI` from `openai` calls, and
// `@ai-sdk/azure` with useDeploymentBasedUrls) takes the deployment name as the model and needs an
// api-version; the v1 surface (`/openai/v1/…`, the plain `OpenAI` client and `@ai-sdk/azure` by
// default) is OpenAI's paths under `/openai`. The codecs are the shared OpenAI-format ones; this
// folder adds Azure's paths, content-filter annotations, headers and error bodies.
import { randomUUID } from 'node:crypto';
import type { Reply } from '../../engine/reply-plan.ts';
import { answerRoute } from '../answer-route.ts';
import { modelsRoutes } from '../models.ts';
import { chatCacheQuery, renderChatCompletion, renderChatStream } from '../openai-format/chat-encode.ts';
import { parseChatRequest, type ChatRequest } from '../openai-format/chat-request.ts';
import { completionsAdapter, type CompletionsRequest } from '../openai-format/completions.ts';
import { embeddingsAdapter } from '../openai-format/embeddings.ts';
import { OPENAI_MALFORMED_JSON_MESSAGE, openAiStreamError } from '../openai-format/errors.ts';
import { renderResponse, renderResponseStream, renderResponsesStreamError, responsesCacheQuery } from '../openai-format/responses-encode.ts';
import { parseResponsesRequest } from '../openai-format/responses-request.ts';
import { openAiRecorder } from '../openai-format/recorder.ts';
import type { AnswerAdapter, Provider, ProviderRoute } from '../provider.ts';
import { withContentFilters, withPromptFilterChunk } from './content-filter.ts';
import { azureErrorBody, RESOURCE_NOT_FOUND, resourceNotFound } from './errors.ts';
import { AZURE_MODELS, azureModelById, azureModelsPage } from './models.ts';

const PROVIDER = 'azure';
const DEPLOYMENT = '/openai/deployments/{deployment}';
const V1 = '/openai/v1';

type Choices = { choices: Record<string, unknown>[] };

const isObject = (body: unknown): body is Record<string, unknown> => body !== null && typeof body === 'object' && !Array.isArray(body);

// Chat fields Azure takes and OpenAI does not (On Your Data sources, Defender for Cloud's user
// context): accepted, and set aside before OpenAI's validation, which refuses them in strict mode.
const AZURE_CHAT_FIELDS = ['data_sources', 'user_security_context'];

function withoutAzureFields(body: unknown): unknown {
  if (!isObject(body) || !AZURE_CHAT_FIELDS.some((field) => field in body)) return body;
  const copy = { ...body };
  for (const field of AZURE_CHAT_FIELDS) delete copy[field];
  return copy;
}

function chatAdapter(endpoint: string): AnswerAdapter<ChatRequest> {
  return {
    parse: (request) => parseChatRequest(withoutAzureFields(request.body), request, endpoint, PROVIDER),
    renderJson: (reply, conversation, request) => withContentFilters(renderChatCompletion(reply!, conversation, request) as Choices, [reply], request.n ?? 1),
    renderStream: (reply, conversation, request) => withPromptFilterChunk(renderChatStream(reply, conversation, request), 1),
    renderStreamError: openAiStreamError,
    streams: (request) => request.stream === true,
    promptCache: chatCacheQuery,
  };
}

function completionsWithFilters(endpoint: string): AnswerAdapter<CompletionsRequest> {
  const shared = completionsAdapter(endpoint, PROVIDER);
  const replies = (reply: Reply | undefined, more: readonly { reply: Reply }[]) => [reply, ...more.map((m) => m.reply)];
  return {
    ...shared,
    renderJson: (reply, conversation, request, more) => withContentFilters(shared.renderJson(reply, conversation, request, more) as Choices, replies(reply, more), request.body.n ?? 1),
    renderStream: (reply, conversation, request, more) => withPromptFilterChunk(shared.renderStream!(reply, conversation, request, more), request.prompts.length),
  };
}

function responsesAdapter(endpoint: string): AnswerAdapter<Awaited<ReturnType<typeof parseResponsesRequest>>['request']> {
  return {
    parse: (request, deps) => parseResponsesRequest(request.body, request, endpoint, deps.responses, PROVIDER),
    renderJson: (reply, conversation, request) => renderResponse(reply!, conversation, request),
    renderStream: renderResponseStream,
    renderStreamError: renderResponsesStreamError,
    streams: (request) => request.body.stream === true,
    promptCache: responsesCacheQuery,
    settled: (request) => Promise.all(request.writes),
  };
}

/** On a deployments path the deployment is the model, whatever the body says (or when it says nothing). */
function onDeployment<Request>(adapter: AnswerAdapter<Request>): AnswerAdapter<Request> {
  return {
    ...adapter,
    parse: (request, deps) => adapter.parse({ ...request, body: isObject(request.body) ? { ...request.body, model: request.params.deployment } : request.body }, deps),
  };
}

// API versions Azure serves: dated GA and preview versions, and the v1 surface's names.
const API_VERSION = /^(\d{4}-\d{2}-\d{2}(-preview)?|v1|preview|latest)$/;

/** The deployments surface answers nothing without a known `api-version`: 404 `Resource not found`, as Azure does. */
function needsApiVersion(route: ProviderRoute): ProviderRoute {
  return {
    ...route,
    handle(ctx, request, deps) {
      const version = request.query['api-version'];
      if (typeof version !== 'string' || !API_VERSION.test(version)) throw resourceNotFound();
      return route.handle(ctx, request, deps);
    },
  };
}

const on = <Request>(path: string, adapter: (endpoint: string) => AnswerAdapter<Request>) => answerRoute('POST', path, adapter(path));

const deploymentRoutes: ProviderRoute[] = [
  answerRoute('POST', `${DEPLOYMENT}/chat/completions`, onDeployment(chatAdapter(`${DEPLOYMENT}/chat/completions`))),
  answerRoute('POST', `${DEPLOYMENT}/completions`, onDeployment(completionsWithFilters(`${DEPLOYMENT}/completions`))),
  answerRoute('POST', `${DEPLOYMENT}/embeddings`, onDeployment(embeddingsAdapter(`${DEPLOYMENT}/embeddings`, PROVIDER))),
  // AzureOpenAI sends Responses and model listings without a deployment segment, the model in the body.
  on('/openai/responses', responsesAdapter),
  ...modelsRoutes(azureModelsPage, azureModelById, '/openai/models'),
].map(needsApiVersion);

const v1Routes: ProviderRoute[] = [
  on(`${V1}/chat/completions`, chatAdapter),
  on(`${V1}/completions`, completionsWithFilters),
  on(`${V1}/embeddings`, (endpoint) => embeddingsAdapter(endpoint, PROVIDER)),
  on(`${V1}/responses`, responsesAdapter),
  ...modelsRoutes(azureModelsPage, azureModelById, `${V1}/models`),
];

// Azure's usual answer headers; the limits are generous and never exhausted.
const RESPONSE_HEADERS = {
  'x-ms-region': 'East US',
  'x-ratelimit-limit-requests': '1000',
  'x-ratelimit-remaining-requests': '999',
  'x-ratelimit-limit-tokens': '1000000',
  'x-ratelimit-remaining-tokens': '999990',
  'x-content-type-options': 'nosniff',
};

export const azure: Provider = {
  name: PROVIDER,
  routes: [...deploymentRoutes, ...v1Routes],
  claims: (path) => path.startsWith('/openai/'),
  // Deployment names are the user's own: a `models:` entry is Azure's only when it says `provider: azure`.
  models: { defaults: AZURE_MODELS, owns: () => false },
  requestHeaders: ['api-key', 'authorization', 'x-ms-client-request-id'],
  newRequestId: () => randomUUID(),
  responseHeaders: (requestId) => ({ ...RESPONSE_HEADERS, 'apim-request-id': requestId }),
  errorBody: azureErrorBody,
  // Azure answers in OpenAI's format: one decoder records both.
  recorder: openAiRecorder,
  malformedJsonMessage: OPENAI_MALFORMED_JSON_MESSAGE,
  unknownRouteMessage: () => RESOURCE_NOT_FOUND,
};
