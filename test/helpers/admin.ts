// Admin API calls for every test folder: one call through fetch with the body parsed, the rule
// listing, and the admin error shape (README.md, "Admin API").
import assert from 'node:assert/strict';

export interface AdminReply<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty body (204). */
  body: T;
  text: string;
}

export interface AdminCallOptions {
  token?: string;
  headers?: Record<string, string>;
  /** Sent as-is when a string (for malformed JSON), JSON-encoded otherwise. */
  body?: unknown;
  /** Fails the call (an AbortError) when no answer has arrived by then. */
  timeoutMs?: number;
}

/** One admin API call through fetch, with the body parsed when there is one. */
export async function admin<T = any>(server: { url: string }, method: string, path: string, options: AdminCallOptions = {}): Promise<AdminReply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const signal = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
  const res = await fetch(`${server.url}${path}`, { method, headers, body, signal });
  const text = await res.text();
  const json = text !== '' && /^application\/json\b/.test(res.headers.get('content-type') ?? '');
  return { status: res.status, headers: res.headers, body: (json ? JSON.parse(text) : undefined) as T, text };
}

export interface PresentedRule {
  id: string;
  source: 'file' | 'admin';
  match: { prompt: string };
  response: string | { text: string };
}

/** A rule as defined (id, source, match, response), without its use counts, which every request moves. */
export function definitionOf(rule: PresentedRule & { hits?: number; lastHitAt?: string | null }): PresentedRule {
  const { hits: _hits, lastHitAt: _lastHitAt, ...definition } = rule;
  return definition;
}

export async function listRules(server: { url: string }, token?: string): Promise<PresentedRule[]> {
  const res = await admin<{ responses: PresentedRule[] }>(server, 'GET', '/admin/responses', { token });
  assert.equal(res.status, 200, res.text);
  return res.body.responses.map(definitionOf);
}

/** Asserts the admin error shape and returns it. */
export function assertAdminError(res: AdminReply, status: number, code: string, field?: string): { code: string; message: string; field?: string } {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = res.body as { error: { code: string; message: string; field?: string } };
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, code, res.text);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  const allowed = new Set(['code', 'message', 'field']);
  for (const key of Object.keys(body.error)) assert.ok(allowed.has(key), `unexpected key ${key} in ${res.text}`);
  if (field === undefined) assert.equal(body.error.field, undefined, res.text);
  else assert.equal(body.error.field, field, res.text);
  return body.error;
}

