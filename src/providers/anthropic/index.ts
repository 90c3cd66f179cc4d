import { base58 } from '../../http/ids.ts';
import { answerRoute } from '../answer-route.ts';
import { modelsRoutes } from '../models.ts';
import { ANTHROPIC_MODELS, anthropicModelById, anthropicModelsPage } from './models.ts';
import { anthropicRecorder } from './recorder.ts';
import type { Provider } from '../provider.ts';
import { countTokensRoute } from './count-tokens.ts';
import { anthropicErrorBody, anthropicStreamError } from './errors.ts';
import { renderMessage, renderMessageStream } from './messages-encode.ts';
import { parseMessagesRequest } from './messages-request.ts';
import { anthropicCacheQuery } from './usage.ts';

const MESSAGES = '/v1/messages';
// A fixed organisation: the real API sends one on every answer and some clients log it.
const ORGANIZATION_ID = 'a0d5e5a8-3b8e-4f63-9d3c-6d6f636b6c6c';
const LIMITS = { requests: 4000, tokens: 2_000_000, 'input-tokens': 2_000_000, 'output-tokens': 400_000 };

// Generous, never-exhausted limits that reset a minute from now, as the real headers do. The reset
// time has a precision of one second, so the block is built once a second, not per answer (it was
// 3% of a non-stream answer's CPU, issue 17).
let rateLimitSecond = -1;
let rateLimitBlock: Record<string, string> = {};
function rateLimitHeaders(): Record<string, string> {
  const second = Math.floor(Date.now() / 1000);
  if (second === rateLimitSecond) return rateLimitBlock;
  const reset = new Date((second + 60) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const headers: Record<string, string> = {};
  for (const [name, limit] of Object.entries(LIMITS)) {
    headers[`anthropic-ratelimit-${name}-limit`] = String(limit);
    headers[`anthropic-ratelimit-${name}-remaining`] = String(limit - 1);
    headers[`anthropic-ratelimit-${name}-reset`] = reset;
  }
  rateLimitSecond = second;
  rateLimitBlock = headers;
  return headers;
}

export const anthropic: Provider = {
  name: 'anthropic',
  routes: [
    answerRoute('POST', MESSAGES, {
      parse: (request) => parseMessagesRequest(request.body, request, MESSAGES),
      renderJson: renderMessage,
      renderStream: renderMessageStream,
      renderStreamError: anthropicStreamError,
      streams: (request) => request.stream === true,
      promptCache: (request) => anthropicCacheQuery(request),
    }),
    countTokensRoute,
    ...modelsRoutes(anthropicModelsPage, anthropicModelById),
  ],
  claims: (path, header) => path.startsWith('/v1/messages') || header('anthropic-version') !== undefined,
  models: { defaults: ANTHROPIC_MODELS, owns: (id) => id.startsWith('claude') },
  requestHeaders: ['x-api-key', 'anthropic-version', 'anthropic-beta'],
  newRequestId: () => `req_011C${base58(20)}`,
  responseHeaders: (requestId) => ({ 'request-id': requestId, 'anthropic-organization-id': ORGANIZATION_ID, ...rateLimitHeaders() }),
  errorBody: anthropicErrorBody,
  malformedJsonMessage: 'There was an error parsing the body of your request: it is not valid JSON.',
  unknownRouteMessage: () => 'Not Found',
  recorder: anthropicRecorder,
};
