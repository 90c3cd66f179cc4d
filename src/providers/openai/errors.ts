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
export function openAiErrorBody(error: ApiError): unknown {
  return { error: { message: error.message, type: TYPE_OF[error.kind], param: error.param, code: error.code } };
}
