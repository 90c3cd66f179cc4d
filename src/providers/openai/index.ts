import { hex } from '../../http/ids.ts';
import { answerRoute } from '../answer-route.ts';
import { modelsRoutes } from '../models.ts';
import { OPENAI_MODELS, openAiModelById, openAiModelsPage } from './models.ts';
import type { Provider } from '../provider.ts';
import { renderChatCompletion, renderChatStream } from './chat-encode.ts';
import { parseChatRequest } from './chat-request.ts';
import { completionsRoute } from './completions.ts';
import { embeddingsRoute } from './embeddings.ts';
import { openAiErrorBody, openAiStreamError } from './errors.ts';
import { renderResponse, renderResponseStream, renderResponsesStreamError } from './responses-encode.ts';
import { parseResponsesRequest } from './responses-request.ts';

const CHAT_COMPLETIONS = '/v1/chat/completions';
const RESPONSES = '/v1/responses';

// Generous, never-exhausted limits: clients that read them (gateways, LangChain) see a healthy account.
const RESPONSE_HEADERS = {
  'openai-version': '2020-10-01',
  'openai-organization': 'mockllm',
  'openai-project': 'proj_mockllm',
  'x-ratelimit-limit-requests': '10000',
  'x-ratelimit-remaining-requests': '9999',
  'x-ratelimit-reset-requests': '6ms',
  'x-ratelimit-limit-tokens': '30000000',
  'x-ratelimit-remaining-tokens': '29999990',
  'x-ratelimit-reset-tokens': '0s',
};

export const openai: Provider = {
  name: 'openai',
  routes: [
    answerRoute('POST', CHAT_COMPLETIONS, {
      parse: (request) => parseChatRequest(request.body, request, CHAT_COMPLETIONS),
      renderJson: renderChatCompletion,
      renderStream: renderChatStream,
      renderStreamError: openAiStreamError,
      streams: (request) => request.stream === true,
    }),
    answerRoute('POST', RESPONSES, {
      parse: (request, deps) => parseResponsesRequest(request.body, request, RESPONSES, deps.responses),
      renderJson: renderResponse,
      renderStream: renderResponseStream,
      renderStreamError: renderResponsesStreamError,
      streams: (request) => request.body.stream === true,
    }),
    completionsRoute,
    embeddingsRoute,
    ...modelsRoutes(openAiModelsPage, openAiModelById),
  ],
  // Claims every path: OpenAI's error shape is the default for a path nobody serves.
  claims: () => true,
  models: { defaults: OPENAI_MODELS, owns: (id) => !id.startsWith('claude') },
  requestHeaders: ['authorization', 'openai-organization', 'openai-project', 'x-stainless-retry-count'],
  newRequestId: () => `req_${hex(32)}`,
  responseHeaders: () => RESPONSE_HEADERS,
  timingHeader: 'openai-processing-ms',
  errorBody: openAiErrorBody,
  malformedJsonMessage:
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. " +
    'The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)',
  unknownRouteMessage: (method, path) => `Invalid URL (${method} ${path})`,
};
