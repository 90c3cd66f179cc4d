import { PassThrough } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { AdminError } from './errors.ts';
import { entryJson } from './requests.ts';
import type { RequestJournal } from '../state/types.ts';

/** A comment line this often keeps proxies and the browser from timing out an idle stream. */
export const HEARTBEAT_MS = 15_000;
/**
 * A client that stops reading while requests keep coming would make the server buffer without
 * bound: past this much unsent, its stream ends, and on reconnecting (Last-Event-ID) it gets what
 * the journal still holds.
 */
const MAX_UNSENT_BYTES = 8 * 1024 * 1024;
/** The browser's reconnection delay (the SSE `retry:` field). */
const RETRY_MS = 1000;

function seqFrom(value: string | string[] | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new AdminError(400, 'invalid_query', `${name} must be a non-negative integer`, name);
  return Number(value);
}

/**
 * GET /admin/requests/stream: every new journal entry as a server-sent event (`id:` its seq, `event:
 * request`, `data:` the entry as GET /admin/requests lists it), oldest first. A client that comes back
 * with `Last-Event-ID` (or `?after=`) first gets what it missed, as far as the journal still holds it.
 * The stream ends when the server closes, so it never holds a shutdown.
 */
export function registerRequestStream(router: Router, journal: RequestJournal): void {
  router.get('/admin/requests/stream', async (ctx: Context) => {
    const subscribe = journal.subscribe?.bind(journal);
    if (!subscribe) throw new AdminError(404, 'not_found', 'This server\'s journal cannot push new entries; poll GET /admin/requests?after=<seq> instead.');
    const asked = seqFrom(ctx.get('last-event-id') || undefined, 'Last-Event-ID') ?? seqFrom(ctx.query.after, 'after');
    // The newest seq the journal holds (0 when empty). A client that saw a higher one was talking to an
    // earlier server (seqs restart with the process) or the journal was cleared: it starts over from
    // what is held now, and the `hello` event tells it so.
    const latestSeq = (await journal.list({ limit: 1 }))[0]?.seq ?? 0;
    let last = asked === undefined || asked > latestSeq ? latestSeq : asked;

    const out = new PassThrough();
    let reading = false;
    let again = false;
    let ended = false;
    let scheduled = false;
    // Entries are read from the journal, not carried by the notification: a burst costs one listing,
    // and a journal in another process (Redis) works the same way.
    const flush = async () => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          const entries = await journal.list({ after: last });
          for (const entry of entries.reverse()) {
            if (ended) return;
            if (out.writableLength > MAX_UNSENT_BYTES) return end();
            out.write(`id: ${entry.seq}\nevent: request\ndata: ${entryJson(entry)}\n\n`);
            last = entry.seq;
          }
        } while (again && !ended);
      } finally {
        reading = false;
      }
    };
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      unsubscribe();
      out.end();
    };
    const unsubscribe = subscribe({
      // Off the request's path (append runs as the request finishes), and one listing per burst.
      appended: () => {
        if (scheduled) return;
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          void flush().catch(end);
        });
      },
      closed: () => {
        end();
        // The response is complete; over HTTP/1.1 the connection would otherwise wait out keep-alive.
        if (ctx.req.httpVersionMajor === 1) ctx.res.once('finish', () => ctx.req.socket.end());
      },
    });
    const heartbeat = setInterval(() => out.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    // The response's close, not the request's: a GET's request side is done as soon as its headers are read.
    ctx.res.once('close', end);
    out.once('error', end);

    ctx.req.socket.setTimeout(0);
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('cache-control', 'no-cache, no-transform');
    ctx.set('x-accel-buffering', 'no');
    ctx.body = out;
    // The first bytes send the headers, so the client knows it is connected before any request comes.
    out.write(`retry: ${RETRY_MS}\nevent: hello\ndata: ${JSON.stringify({ latestSeq })}\n\n`);
    void flush().catch(end);
  });
}
