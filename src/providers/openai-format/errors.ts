import type { ApiError, ErrorKind } from '../../http/errors.ts';

const TYPE_OF: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'invalid_request_error',
  permission: 'invalid_request_error',
  not_found: 'invalid_request_error',
  request_too_large: 'invalid_request_error',
  rate_limit: 'requests',
  internal: 'server_error',
  unavailable: 'server_error',
  overloaded: 'server_error',
};

/** `{"error":{"message","type","param","code"}}`: the openai SDK picks its class by status and copies the rest. */
// What the real API puts in `code` when nothing more specific applies.
const DEFAULT_CODE: Partial<Record<ErrorKind, string>> = {
  rate_limit: 'rate_limit_exceeded',
  authentication: 'invalid_api_key',
};

export function openAiErrorBody(error: ApiError): unknown {
  return {
    error: {
      message: error.message,
      type: error.type ?? TYPE_OF[error.kind],
      param: error.param,
      code: error.code ?? DEFAULT_CODE[error.kind] ?? null,
    },
  };
}

/** What the API says of a request body that is not JSON. */
export const OPENAI_MALFORMED_JSON_MESSAGE =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. " +
  'The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)';

/** The in-stream failure frame: the openai SDK throws APIError on a chunk with an `error` key. */
export function openAiStreamError(message: string): string {
  return `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } })}\n\n`;
}
