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
  headers?: Record<string, string>;
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly kind: ErrorKind;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.status = init.status;
    this.kind = init.kind;
    this.param = init.param ?? null;
    this.code = init.code ?? null;
    this.headers = init.headers ?? {};
  }
}

export function invalidRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError({ status: 400, kind: 'invalid_request', message, param, code });
}

export function routeNotFound(method: string, path: string): ApiError {
  return new ApiError({ status: 404, kind: 'not_found', message: `Invalid URL (${method} ${path})` });
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
  if (status === 400 || status === 415 || type === 'entity.parse.failed' || type === 'encoding.unsupported') {
    return new ApiError({ status: 400, kind: 'invalid_request', message: malformedJsonMessage });
  }
  return null;
}
