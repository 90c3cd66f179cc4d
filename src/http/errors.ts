// The error catalogue: every failure the server reports is an ApiError, raised anywhere and
// rendered once, by the provider that owns the request, in that provider's own body shape.

export type ErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'request_too_large'
  | 'rate_limit'
  | 'internal'
  | 'unavailable'
  | 'overloaded';

export interface ApiErrorInit {
  status: number;
  kind: ErrorKind;
  message: string;
  /** OpenAI's `param`: the offending field, when there is one. */
  param?: string | null;
  /** OpenAI's `code`, e.g. `missing_required_parameter`. */
  code?: string | null;
  /** Replaces the provider's error type for the status (a rule may ask for `insufficient_quota`). */
  type?: string;
  headers?: Record<string, string>;
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly kind: ErrorKind;
  readonly param: string | null;
  readonly code: string | null;
  readonly type: string | undefined;
  readonly headers: Record<string, string>;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.status = init.status;
    this.kind = init.kind;
    this.param = init.param ?? null;
    this.code = init.code ?? null;
    this.type = init.type;
    this.headers = init.headers ?? {};
  }
}

export function invalidRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError({ status: 400, kind: 'invalid_request', message, param, code });
}

export function kindOfStatus(status: number): ErrorKind {
  switch (status) {
    case 400: return 'invalid_request';
    case 401: return 'authentication';
    case 403: return 'permission';
    case 404: return 'not_found';
    case 413: return 'request_too_large';
    case 429: return 'rate_limit';
    case 503: return 'unavailable';
    case 529: return 'overloaded';
    default: return status >= 500 ? 'internal' : 'invalid_request';
  }
}

const DEFAULT_MESSAGES: Record<ErrorKind, string> = {
  invalid_request: 'Invalid request.',
  authentication: 'Incorrect API key provided.',
  permission: 'You do not have permission to perform this request.',
  not_found: 'The requested resource was not found.',
  request_too_large: 'Request body too large.',
  rate_limit: 'Rate limit reached for requests. Please try again later.',
  internal: 'The server had an error while processing your request. Sorry about that!',
  unavailable: 'The engine is currently overloaded, please try again later.',
  overloaded: 'Overloaded',
};

/** An error a rule asked for, with `retry-after` (and the SDKs' preferred `retry-after-ms`) when set. */
export function configuredError(spec: { status: number; message?: string; type?: string; code?: string; retryAfterSeconds?: number }): ApiError {
  const kind = kindOfStatus(spec.status);
  const headers: Record<string, string> = {};
  if (spec.retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(Math.ceil(spec.retryAfterSeconds));
    headers['retry-after-ms'] = String(Math.round(spec.retryAfterSeconds * 1000));
  }
  return new ApiError({
    status: spec.status,
    kind,
    message: spec.message ?? DEFAULT_MESSAGES[kind],
    code: spec.code ?? null,
    ...(spec.type !== undefined && { type: spec.type }),
    headers,
  });
}

export function internalError(): ApiError {
  return new ApiError({
    status: 500,
    kind: 'internal',
    message: 'The server had an error while processing your request. Sorry about that!',
  });
}

/**
 * Turns what koa-bodyparser (and http-errors) throw into catalogue errors, with the owning
 * provider's wording for a body that is not JSON; null for anything else.
 */
export function fromBodyParserError(error: unknown, malformedJsonMessage: string): ApiError | null {
  if (error === null || typeof error !== 'object') return null;
  const { status, type } = error as { status?: number; type?: string };
  if (status === 413 || type === 'entity.too.large') {
    const limit = (error as { limit?: number }).limit;
    return new ApiError({
      status: 413,
      kind: 'request_too_large',
      message: `Request body too large${limit ? `: the limit is ${limit} bytes` : ''}.`,
      code: 'request_too_large',
    });
  }
  if (status === 400 || status === 415 || type === 'entity.parse.failed' || type === 'encoding.unsupported' || isDecompressionError(error)) {
    return new ApiError({ status: 400, kind: 'invalid_request', message: malformedJsonMessage });
  }
  return null;
}

/**
 * A body sent with `content-encoding: gzip`, `deflate` or `br` that does not decompress reaches the
 * body parser as zlib's own error, which has no HTTP status: without this it became a 500, though
 * the fault is the client's body. zlib names its errors Z_* (Z_DATA_ERROR, Z_BUF_ERROR) and brotli
 * ERR__* (ERR__ERROR_FORMAT_PADDING_1), both with a numeric errno.
 */
export function isDecompressionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { errno, code } = error as NodeJS.ErrnoException;
  return typeof errno === 'number' && typeof code === 'string' && /^(Z_|ERR__)/.test(code);
}
