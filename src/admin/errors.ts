import type { Context } from 'koa';

export type AdminErrorCode =
  | 'invalid_json'
  | 'invalid_body'
  | 'invalid_query'
  | 'unauthorized'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'too_large'
  | 'unavailable'
  | 'internal';

/** The admin API's one error shape: `{"error": {"code", "message", "field"?}}`. */
export class AdminError extends Error {
  override name = 'AdminError';
  readonly status: number;
  readonly code: AdminErrorCode;
  readonly field: string | undefined;

  constructor(status: number, code: AdminErrorCode, message: string, field?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export function sendAdminError(ctx: Context, error: AdminError): void {
  ctx.status = error.status;
  ctx.body = { error: { code: error.code, message: error.message, ...(error.field !== undefined && { field: error.field }) } };
}
