// Shared by the reliability tests: a raw HTTP client with a deadline (so a hang fails the test
// instead of stalling it), the three documented error shapes, and metric scraping.
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { parsePrometheus, type Exposition } from '../admin/support.ts';
import { startCli } from '../helpers/cli.ts';

/** fast-check runs per property: small in `npm test`, large under `npm run fuzz`. */
// 40 cases per property and route in `npm test` (six providers' routes: ~40 s); fast-check draws a
// new seed every run, so runs add up; `npm run fuzz` runs 2,000 for depth.
export const FUZZ_RUNS = Math.max(1, Number(process.env.MOCKLLM_FUZZ_RUNS ?? 40) || 40);

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** The whole exchange must finish within this many ms, or the request fails as a hang. */
  deadlineMs?: number;
}

/**
 * One request on a fresh connection (no pooling: a fuzz case cannot leave a poisoned socket for the
 * next), with the body as raw bytes. Rejects when no complete answer arrives before the deadline.
 */
export function rawRequest(baseUrl: string, options: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const deadlineMs = options.deadlineMs ?? 10_000;
  const headers = { ...options.headers };
  // node:http sends no length for a DELETE or OPTIONS body unless told: the server would see a malformed request.
  if (options.body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-length')) {
    headers['content-length'] = String(Buffer.byteLength(options.body));
  }
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: options.method ?? 'GET', path: options.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no complete answer to ${options.method ?? 'GET'} ${options.path.slice(0, 80)} within ${deadlineMs} ms (a hang)`));
    }, deadlineMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(options.body);
  });
}

export type ErrorFamily = 'openai' | 'anthropic' | 'gemini' | 'admin';

const isJsonType = (headers: IncomingHttpHeaders) => /^application\/json\b/.test(headers['content-type'] ?? '');

/** Parses a JSON answer, failing with the raw text when it is not JSON. */
export function jsonOf(res: RawResponse, what: string): unknown {
  assert.ok(isJsonType(res.headers), `${what}: content-type ${res.headers['content-type']} is not JSON; body ${res.text.slice(0, 200)}`);
  try {
    return JSON.parse(res.text);
  } catch {
    assert.fail(`${what}: the body is not JSON: ${res.text.slice(0, 200)}`);
  }
}

const isNullableString = (value: unknown) => value === null || typeof value === 'string';

/** Asserts the error body has exactly the family's documented shape. */
export function assertErrorShape(family: ErrorFamily, res: RawResponse, what: string): void {
  const body = jsonOf(res, what) as Record<string, any>;
  const shown = `${what}: ${res.status} ${res.text.slice(0, 300)}`;
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), shown);
  switch (family) {
    case 'openai':
      assert.deepEqual(Object.keys(body), ['error'], shown);
      assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type'], shown);
      assert.equal(typeof body.error.message, 'string', shown);
      assert.ok(body.error.message.length > 0, shown);
      assert.equal(typeof body.error.type, 'string', shown);
      assert.ok(isNullableString(body.error.param), shown);
      assert.ok(isNullableString(body.error.code), shown);
      break;
    case 'anthropic':
      assert.deepEqual(Object.keys(body).sort(), ['error', 'request_id', 'type'], shown);
      assert.equal(body.type, 'error', shown);
      assert.deepEqual(Object.keys(body.error).sort(), ['message', 'type'], shown);
      assert.equal(typeof body.error.type, 'string', shown);
      assert.equal(typeof body.error.message, 'string', shown);
      assert.equal(typeof body.request_id, 'string', shown);
      break;
    case 'gemini':
      // google.rpc.Status: {"error": {"code", "message", "status", "details"?}}.
      assert.deepEqual(Object.keys(body), ['error'], shown);
      assert.ok(Object.keys(body.error).every((k) => ['code', 'message', 'status', 'details'].includes(k)), shown);
      assert.equal(body.error.code, res.status, shown);
      assert.equal(typeof body.error.message, 'string', shown);
      assert.match(body.error.status, /^[A-Z_]+$/, shown);
      break;
    case 'admin': {
      assert.deepEqual(Object.keys(body), ['error'], shown);
      const keys = Object.keys(body.error);
      assert.ok(keys.includes('code') && keys.includes('message') && keys.every((k) => ['code', 'message', 'field'].includes(k)), shown);
      assert.equal(typeof body.error.code, 'string', shown);
      assert.equal(typeof body.error.message, 'string', shown);
      if ('field' in body.error) assert.equal(typeof body.error.field, 'string', shown);
      break;
    }
  }
}

/** Own keys of the shared prototypes, to show that no request added one. */
export function prototypeSnapshot(): string {
  return JSON.stringify([Object.prototype, Array.prototype, Function.prototype, String.prototype].map((p) => Reflect.ownKeys(p).map(String).sort()));
}

export function assertPrototypesUntouched(before: string): void {
  assert.equal(prototypeSnapshot(), before, 'a request added a key to a shared prototype');
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype.polluted exists');
  assert.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype.isAdmin exists');
}

/** /metrics on a connection of its own, closed after: a pooled one would count as an open socket. */
export async function scrapeText(baseUrl: string): Promise<string> {
  const res = await rawRequest(baseUrl, { path: '/metrics' });
  assert.equal(res.status, 200);
  return res.text;
}

export async function scrapeMetrics(baseUrl: string): Promise<Exposition> {
  return parsePrometheus(await scrapeText(baseUrl));
}

/** The value of an unlabelled sample, e.g. mockllm_active_streams. */
export function gauge(exposition: Exposition, name: string): number {
  const sample = exposition.samples.find((s) => s.name === name && Object.keys(s.labels).length === 0);
  assert.ok(sample, `no sample ${name}`);
  return sample.value;
}

/** Counts of the process's active resources by type (Timeout, TCPSocketWrap, …). */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/**
 * The real CLI in a child process, for checks that may freeze a server's event loop: the test's
 * own process (and its deadline) stays responsive, and stop() kills the child whatever state it is in.
 */
export async function startCliChild(configText: string): Promise<{ url: string; stop(): Promise<void> }> {
  const cli = await startCli(configText);
  return { url: cli.url, stop: cli.cleanup };
}
