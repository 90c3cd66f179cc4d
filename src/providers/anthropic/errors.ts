import type { ApiError } from '../../http/errors.ts';

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** `{"type":"error","error":{"type","message"},"request_id"}`; the SDK maps the status to its class. */
export function anthropicErrorBody(error: ApiError, requestId: string): unknown {
  const type = error.type ?? TYPE_BY_STATUS[error.status] ?? (error.status >= 500 ? 'api_error' : 'invalid_request_error');
  return { type: 'error', error: { type, message: error.message }, request_id: requestId };
}

/** The in-stream failure frame: every Anthropic client surfaces `event: error`. */
export function anthropicStreamError(message: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message } })}\n\n`;
}
