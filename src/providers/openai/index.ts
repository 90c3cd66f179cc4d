import { hex } from '../../http/ids.ts';
import { answerRoute } from '../answer-route.ts';
import { modelsRoutes } from '../models.ts';
import { OPENAI_MODELS, openAiModelById, openAiModelsPage } from './models.ts';
import { openAiRecorder } from '../openai-format/recorder.ts';
import type { Provider } from '../provider.ts';
// The codecs of OpenAI's wire format live in openai-format/, shared with Azure OpenAI, which speaks it too.
import { chatCacheQuery, renderChatCompletion, renderChatStream } from '../openai-format/chat-encode.ts';
import { parseChatRequest } from '../openai-format/chat-request.ts';
import { completionsAdapter } from '../openai-format/completions.ts';
import { embeddingsAdapter } from '../openai-format/embeddings.ts';
import { OPENAI_MALFORMED_JSON_MESSAGE, openAiErrorBody, openAiStreamError } from '../openai-format/errors.ts';
import { conversationRoutes } from './conversations.ts';
import { responsesAdapter, storedResponseRoutes } from './responses-routes.ts';
import { responsesWebSocketRoute } from './responses-ws.ts';

const PROVIDER = 'openai';
const CHAT_COMPLETIONS = '/v1/chat/completions';
const RESPONSES = '/v1/responses';
const COMPLETIONS = '/v1/completions';
const EMBEDDINGS = '/v1/embeddings';

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
  name: PROVIDER,
  routes: [
    answerRoute('POST', CHAT_COMPLETIONS, {
      parse: (request) => parseChatRequest(request.body, request, CHAT_COMPLETIONS, PROVIDER),
      renderJson: renderChatCompletion,
      renderStream: renderChatStream,
      renderStreamError: openAiStreamError,
      streams: (request) => request.stream === true,
      promptCache: chatCacheQuery,
    }),
    answerRoute('POST', RESPONSES, responsesAdapter(RESPONSES, PROVIDER)),
    responsesWebSocketRoute(RESPONSES, RESPONSES, PROVIDER),
    ...storedResponseRoutes(RESPONSES),
    ...conversationRoutes,
    answerRoute('POST', COMPLETIONS, completionsAdapter(COMPLETIONS, PROVIDER)),
    answerRoute('POST', EMBEDDINGS, embeddingsAdapter(EMBEDDINGS, PROVIDER)),
    ...modelsRoutes(openAiModelsPage, openAiModelById),
  ],
  // Claims every path: OpenAI's error shape is the default for a path nobody serves.
  claims: () => true,
  models: { defaults: OPENAI_MODELS, owns: (id) => !id.startsWith('claude') },
  requestHeaders: ['authorization', 'openai-organization', 'openai-project', 'x-stainless-retry-count'],
  newRequestId: () => `req_${hex(32)}`,
  responseHeaders: () => RESPONSE_HEADERS,
  timingHeader: 'openai-processing-ms',
  recorder: openAiRecorder,
  errorBody: openAiErrorBody,
  malformedJsonMessage: OPENAI_MALFORMED_JSON_MESSAGE,
  unknownRouteMessage: (method, path) => `Invalid URL (${method} ${path})`,
};
