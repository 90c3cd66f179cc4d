// The Ollama native API (API-FORMATS §15), as the `ollama` npm client and @langchain/ollama call it:
// chat and generate streamed as NDJSON by default, embeddings, and the model routes. Every error is
// `{"error": "…"}` with the real server's status.
import { NDJSON } from '../../http/framing.ts';
import { hex } from '../../http/ids.ts';
import { answerRoute } from '../answer-route.ts';
import type { Provider, ProviderRoute } from '../provider.ts';
import { CHAT, loadAnswer, parseChat, renderChat, renderChatStream } from './chat.ts';
import { embedRoutes } from './embed.ts';
import { GENERATE, loadGenerateAnswer, parseGenerate, renderGenerate, renderGenerateStream } from './generate.ts';
import { modelRoutes, OLLAMA_MODELS, ownsOllamaModel } from './models.ts';
import { ollamaErrorBody, ollamaStreamError } from './wire.ts';
import { ollamaRecorder } from './recorder.ts';

const isObject = (body: unknown): body is Record<string, unknown> => body !== null && typeof body === 'object' && !Array.isArray(body);

/**
 * A route that first answers the real server's load-only requests (a chat with no messages, a
 * generate with an empty prompt: `done_reason: load`) without consulting the rules.
 */
function withLoadRequests(route: ProviderRoute, isLoad: (body: Record<string, unknown>) => boolean, answer: (body: unknown) => unknown): ProviderRoute {
  return {
    ...route,
    async handle(ctx, request, deps) {
      const body = request.body;
      if (isObject(body) && typeof body.model === 'string' && body.model !== '' && isLoad(body)) {
        ctx.set('x-mockllm-match', 'none');
        ctx.body = answer(body);
        return;
      }
      return route.handle(ctx, request, deps);
    },
  };
}

// Ollama streams unless the body says `"stream": false` (for the journal of a refused request).
const streamsUnlessFalse = (body: unknown) => (body as { stream?: unknown } | null)?.stream !== false;

const chatRoute = {
  ...answerRoute('POST', CHAT, {
    parse: parseChat,
    renderJson: renderChat,
    renderStream: renderChatStream,
    renderStreamError: ollamaStreamError,
    streams: (request) => request.stream,
    framing: () => NDJSON,
  }),
  requestsStream: streamsUnlessFalse,
};

const generateRoute = {
  ...answerRoute('POST', GENERATE, {
    parse: parseGenerate,
    renderJson: renderGenerate,
    renderStream: renderGenerateStream,
    renderStreamError: ollamaStreamError,
    streams: (request) => request.stream,
    framing: () => NDJSON,
  }),
  requestsStream: streamsUnlessFalse,
};

export const ollama: Provider = {
  name: 'ollama',
  routes: [
    withLoadRequests(chatRoute, (body) => body.messages === undefined || body.messages === null || (Array.isArray(body.messages) && body.messages.length === 0), loadAnswer),
    withLoadRequests(generateRoute, (body) => body.prompt === undefined || body.prompt === null || body.prompt === '', loadGenerateAnswer),
    ...embedRoutes,
    ...modelRoutes,
  ],
  claims: (path) => path.startsWith('/api/'),
  models: { defaults: OLLAMA_MODELS, owns: ownsOllamaModel },
  // Ollama sends no request id of its own; the server's x-request-id is enough.
  newRequestId: () => hex(32),
  responseHeaders: () => ({}),
  errorBody: ollamaErrorBody,
  recorder: ollamaRecorder,
  // What Go's encoding/json says of a body that does not parse.
  malformedJsonMessage: 'invalid character looking for beginning of value',
  // Gin's words for a path it has no route for.
  unknownRouteMessage: () => '404 page not found',
};
