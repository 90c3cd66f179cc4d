import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Context, Middleware, Next } from 'koa';
import type bodyParserType from 'koa-bodyparser';
import type { RuleStore } from '../engine/store.ts';
import type { RequestState } from './state.ts';

/**
 * JSON bodies for the provider routes. The body is parsed as JSON whatever its content-type, as the
 * real APIs do (a bare `curl -d` sends form encoding). The size limit comes from the live config,
 * so a parser per distinct limit is kept rather than one built per request. A body without a
 * content-encoding (every SDK's) is read by readJsonBody; a compressed one by koa-bodyparser, which
 * inflates it.
 */
export function jsonBody(store: RuleStore): Middleware {
  const read = bodyReader(store);
  return async (ctx: Context, next: Next) => {
    await read(ctx);
    return next();
  };
}

const NOTHING_NEXT = async () => {};

// koa-bodyparser and what it brings (co-body, raw-body, iconv-lite, qs: ~100 ms of start-up CPU,
// docs/benchmarks.md S5) is only needed for a compressed body: loaded with the first one.
const requireHere = createRequire(import.meta.url);
export const loadBodyParser = (): typeof bodyParserType => requireHere('koa-bodyparser') as typeof bodyParserType;

/**
 * The JSON body step as a plain function (see jsonBody), for the provider routes' one-function
 * request path (app.ts): sets `ctx.request.body` and `rawBody` for a POST to a served route.
 */
export function bodyReader(store: RuleStore): (ctx: Context) => Promise<void> | undefined {
  const parsers = new Map<number, Middleware>();
  const parserFor = (limit: number) => {
    let parser = parsers.get(limit);
    if (!parser) {
      parser = loadBodyParser()({ enableTypes: ['json'], jsonLimit: `${limit}b`, strict: true, detectJSON: () => true }) as unknown as Middleware;
      parsers.set(limit, parser);
    }
    return parser;
  };
  return (ctx: Context) => {
    const request = ctx.request as { body?: unknown; rawBody?: string };
    if (ctx.method !== 'POST' || !(ctx.state as RequestState).route || request.body !== undefined) return undefined;
    const limit = store.current.settings.bodyLimitBytes;
    if (ctx.req.headers['content-encoding'] !== undefined) return parserFor(limit)(ctx, NOTHING_NEXT) as Promise<void>;
    return readJsonBody(ctx.req, limit).then(({ raw, parsed }) => {
      request.rawBody = raw;
      request.body = parsed;
    });
  };
}

const STRICT_JSON_START = /^[\x20\x09\x0a\x0d]*[[{]/;
// A "__proto__" key, possibly spelt with escapes: only then is the parsed body scanned for one.
const PROTO_KEY = /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/;

function bodyError(status: number, message: string, type: string, extra: { limit?: number; length?: number | null } = {}): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true, type, ...extra });
}

/**
 * Reads, bounds, decodes and parses a request body in one step, the way koa-bodyparser (co-body,
 * raw-body, @hapi/bourne) does: UTF-8 with a leading BOM dropped; an empty body is {}; only an
 * object or an array may be at the top; an own `__proto__` key anywhere is refused. Its errors
 * carry the same status and type (413 entity.too.large, 400 request.size.invalid / request.aborted
 * / a SyntaxError), so errorResponder answers them alike. The body-parser chain (promises,
 * iconv, option cloning) was ~10% of a non-stream request's CPU.
 */
function readJsonBody(req: IncomingMessage, limit: number): Promise<{ raw: string; parsed: unknown }> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'];
    const length = declared === undefined ? null : Number(declared);
    if (length !== null && length > limit) {
      req.pause();
      reject(bodyError(413, 'request entity too large', 'entity.too.large', { limit, length }));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const settle = (error: unknown, value?: { raw: string; parsed: unknown }) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onError);
      if (error) reject(error);
      else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        req.pause();
        settle(bodyError(413, 'request entity too large', 'entity.too.large', { limit, length: received }));
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      if (length !== null && received !== length) return settle(bodyError(400, 'request size did not match content length', 'request.size.invalid'));
      // Most bodies arrive in one chunk: decoded from it, without a concatenated copy.
      let raw = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)).toString('utf8');
      if (raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
      let parsed: unknown;
      try {
        parsed = parseStrictJson(raw);
      } catch (error) {
        return settle(Object.assign(error as Error, { status: 400, body: raw }));
      }
      settle(null, { raw, parsed });
    };
    const onAborted = () => settle(bodyError(400, 'request aborted', 'request.aborted'));
    const onError = (error: NodeJS.ErrnoException) => settle(error.code === 'ECONNRESET' ? bodyError(400, 'request aborted', 'request.aborted') : error);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onError);
  });
}

function parseStrictJson(text: string): unknown {
  if (text === '') return {};
  if (!STRICT_JSON_START.test(text)) throw new SyntaxError('invalid JSON, only supports object and array');
  const parsed = JSON.parse(text) as unknown;
  // The key, plain or escaped, holds `__proto__` or `\u00`: a substring search (fast) before the
  // regex (a scan of the whole body from every quote, ~2% of a non-stream request's CPU).
  if ((text.includes('__proto__') || text.includes('\\u00')) && PROTO_KEY.test(text)) refuseProtoKeys(parsed);
  return parsed;
}

function refuseProtoKeys(root: unknown): void {
  let level = [root];
  while (level.length > 0) {
    const next: unknown[] = [];
    for (const node of level) {
      if (Object.prototype.hasOwnProperty.call(node, '__proto__')) throw new SyntaxError('Object contains forbidden prototype property');
      for (const key in node as Record<string, unknown>) {
        const value = (node as Record<string, unknown>)[key];
        if (value && typeof value === 'object') next.push(value);
      }
    }
    level = next;
  }
}
