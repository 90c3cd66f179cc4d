import type Router from '@koa/router';
import { AdminError } from './errors.ts';
import type { JournalEntry, JournalFilter } from '../state/journal.ts';
import type { RequestJournal } from '../state/types.ts';

function integerParam(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new AdminError(400, 'invalid_query', `${name} must be a non-negative integer`, name);
  return Number(value);
}

function booleanParam(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new AdminError(400, 'invalid_query', `${name} must be true or false`, name);
}

function stringParam(value: unknown, name: string): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  throw new AdminError(400, 'invalid_query', `${name} may be given once`, name);
}

/**
 * One entry as JSON. A journaled body is the client's JSON as parsed, and JSON.parse accepts nesting
 * far deeper than JSON.stringify can write back (its recursion overflows the stack at a few thousand
 * levels): one such request, well under the 64 KiB body bound, made every listing of the journal a
 * 500 until it rotated out. Its entry is listed with the body omitted instead.
 */
export function entryJson(entry: JournalEntry): string {
  try {
    return JSON.stringify(entry);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return JSON.stringify({ ...entry, request: { headers: entry.request.headers, body: null, bodyOmitted: { reason: 'nested too deeply to show' } } });
  }
}

export function registerRequestRoutes(router: Router, journal: RequestJournal): void {
  router.get('/admin/requests', async (ctx) => {
    const q = ctx.query;
    const filter: JournalFilter = {};
    const provider = stringParam(q.provider, 'provider');
    const model = stringParam(q.model, 'model');
    const endpoint = stringParam(q.endpoint, 'endpoint');
    const matched = booleanParam(q.matched, 'matched');
    const limit = integerParam(q.limit, 'limit');
    const after = integerParam(q.after, 'after');
    if (provider !== undefined) filter.provider = provider;
    if (model !== undefined) filter.model = model;
    if (endpoint !== undefined) filter.endpoint = endpoint;
    if (matched !== undefined) filter.matched = matched;
    if (limit !== undefined) filter.limit = limit;
    if (after !== undefined) filter.after = after;
    // Serialised here, entry by entry, so that one entry that cannot be written does not fail the listing.
    const requests = (await journal.list(filter)).map(entryJson);
    ctx.type = 'application/json';
    ctx.body = `{"requests":[${requests.join(',')}],"size":${await journal.size()},"capacity":${journal.capacity}}`;
  });

  router.delete('/admin/requests', async (ctx) => {
    await journal.clear();
    ctx.status = 204;
  });
}
