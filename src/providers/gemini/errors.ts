// Gemini's error body (API-FORMATS §11 "Errors"): google.rpc.Status as JSON,
// `{"error":{"code":400,"message":"…","status":"INVALID_ARGUMENT","details":[…]}}`, the status
// string named by the HTTP code (https://cloud.google.com/apis/design/errors#handling_errors).
import { ApiError } from '../../http/errors.ts';

const STATUS_BY_CODE: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** The canonical status for an HTTP code; codes without one fall back by class. */
export function statusOfCode(code: number): string {
  return STATUS_BY_CODE[code] ?? (code >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
}

// A rule's `error.type` written as a google.rpc status (`FAILED_PRECONDITION`) is used as written.
const RPC_STATUS = /^[A-Z][A-Z_]*$/;

/**
 * The retry hint of a 429: google.rpc.RetryInfo's `retryDelay` (a protobuf Duration, "30s"), what
 * Google's client libraries read, next to the `retry-after` header generic HTTP clients honour.
 */
function retryDetails(error: ApiError): unknown[] {
  const ms = error.headers['retry-after-ms'];
  if (ms === undefined) return [];
  const seconds = Number(ms) / 1000;
  return [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3)}s` }];
}

function quotaDetails(error: ApiError): unknown[] {
  if (error.status !== 429) return [];
  return [
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' }],
    },
    { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] },
  ];
}

export function geminiError(error: ApiError): { code: number; message: string; status: string; details?: unknown[] } {
  const status = error.type !== undefined && RPC_STATUS.test(error.type) ? error.type : statusOfCode(error.status);
  const details = [...quotaDetails(error), ...retryDetails(error)];
  return { code: error.status, message: error.message, status, ...(details.length > 0 && { details }) };
}

export function geminiErrorBody(error: ApiError): unknown {
  return { error: geminiError(error) };
}

/** A 400 INVALID_ARGUMENT in the API's words. */
export function invalidArgument(message: string): ApiError {
  return new ApiError({ status: 400, kind: 'invalid_request', message });
}

/**
 * A request value as an error message shows it: a scalar as JSON (long strings cut), a list or an
 * object by its kind. Never the value itself: a deeply nested one would overflow the stack.
 */
export function shown(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return JSON.stringify(value) ?? typeof value;
}

export function notFound(message: string): ApiError {
  return new ApiError({ status: 404, kind: 'not_found', message });
}

/** The in-stream failure of a rule's fault: a 500 INTERNAL status as the next streamed element. */
export function streamErrorJson(message: string): string {
  return JSON.stringify({ error: { code: 500, message, status: 'INTERNAL' } });
}
