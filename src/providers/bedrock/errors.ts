// Bedrock Runtime's errors (API-FORMATS §17 "Errors"): the status, the exception's name in the
// `x-amzn-errortype` header (the SDK keeps the part before `:`) and `{"message": …}` as the body.
// The SDK raises its typed exception (ThrottlingException, ValidationException, …) by that name.
import { ApiError } from '../../http/errors.ts';
import { exceptionFrame } from './eventstream.ts';

const BY_STATUS: Record<number, string> = {
  400: 'ValidationException',
  401: 'AccessDeniedException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  409: 'ConflictException',
  413: 'ValidationException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
  529: 'ServiceUnavailableException',
};

// Names the SDK models, with the status each comes with: a rule's `type:` may name any of them
// (`type: ModelNotReadyException` with `status: 429`).
const KNOWN = new Set([
  'AccessDeniedException', 'ConflictException', 'InternalServerException', 'ModelErrorException', 'ModelNotReadyException',
  'ModelStreamErrorException', 'ModelTimeoutException', 'ResourceNotFoundException', 'ServiceQuotaExceededException',
  'ServiceUnavailableException', 'ThrottlingException', 'ValidationException',
]);

/** The exception a status (or a rule's `type:` naming one) becomes. */
export function exceptionName(error: ApiError): string {
  if (error.type !== undefined && KNOWN.has(error.type)) return error.type;
  return BY_STATUS[error.status] ?? (error.status >= 500 ? 'InternalServerException' : 'ValidationException');
}

export function bedrockErrorBody(error: ApiError): unknown {
  return { message: error.message };
}

/**
 * Bedrock's error headers: `x-amzn-errortype`, and the retry hint in `x-amz-retry-after`
 * (milliseconds), which the SDK's standard retry strategy reads beside `retry-after` (seconds).
 */
export function bedrockErrorHeaders(error: ApiError): Record<string, string> {
  // The SDK reads the first of the two hints it finds, so the precise one (ms) goes first.
  const { 'retry-after-ms': retryAfterMs, ...rest } = error.headers;
  return {
    ...(retryAfterMs !== undefined && { 'x-amz-retry-after': retryAfterMs }),
    ...rest,
    'x-amzn-errortype': `${exceptionName(error)}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  };
}

export function validation(message: string): ApiError {
  return new ApiError({ status: 400, kind: 'invalid_request', message, type: 'ValidationException' });
}

/**
 * A rule's mid-stream fault as the event stream's modelled exception: the model's stream broke
 * (`modelStreamErrorException`, a member of both ConverseStream's and InvokeModelWithResponseStream's
 * output unions).
 */
export function bedrockStreamError(message: string): Uint8Array {
  return exceptionFrame('modelStreamErrorException', message);
}
