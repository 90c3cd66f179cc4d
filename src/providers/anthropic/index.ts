import { base58 } from '../../http/ids.ts';
import { chatRoute } from '../chat-route.ts';
import type { Provider } from '../provider.ts';
import { anthropicErrorBody } from './errors.ts';
import { renderMessage, renderMessageStream } from './messages-encode.ts';
import { parseMessagesRequest } from './messages-request.ts';

const MESSAGES = '/v1/messages';
// A fixed organisation: the real API sends one on every answer and some clients log it.
const ORGANIZATION_ID = 'a0d5e5a8-3b8e-4f63-9d3c-6d6f636b6c6c';

export const anthropic: Provider = {
  name: 'anthropic',
  routes: [
    chatRoute(MESSAGES, {
      parse: (body, info) => parseMessagesRequest(body, info, MESSAGES),
      renderJson: renderMessage,
      renderStream: renderMessageStream,
      streams: (request) => request.stream === true,
    }),
  ],
  claims: (path, header) => path.startsWith('/v1/messages') || header('anthropic-version') !== undefined,
  newRequestId: () => `req_011C${base58(20)}`,
  responseHeaders: (requestId) => ({ 'request-id': requestId, 'anthropic-organization-id': ORGANIZATION_ID }),
  errorBody: anthropicErrorBody,
  malformedJsonMessage: 'There was an error parsing the body of your request: it is not valid JSON.',
};
