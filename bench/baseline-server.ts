// The yardstick: a bare node:http server with no framework, no parsing, no logging, no metrics.
// It answers each known request body with the bytes mockllm sent for it (captured by the
// orchestrator: same status, same headers, same body length), and writes streams as the same SSE
// frames, one res.write per frame as a bare server would, honouring backpressure, with the same
// pacing when the stream has one.
//   node bench/baseline-server.ts <canned.json> [--join | --koa | --koa-mock]
// With --join the frames due at the same moment are joined into one string and written with one
// res.write (up to 16 KiB): a reference for what batching frames per write gains.
// With --koa the same answers go through a Koa app of one middleware (Koa's context, its respond(),
// the body read as mockllm reads it): the floor the framework mockllm is built on sets, before any
// of a mock's own work (issue 17 keeps Koa).
// With --koa-mock, the least any mock on Koa does for a non-stream answer at the default log level:
// Koa's context, the body read and parsed as JSON, an answer object built for this request (its
// own id, time and model) and serialised, the captured headers set, and one access line with
// mockllm's fields to stdout, written the cheapest way (one write per event-loop turn). No
// routing, validation, matching, token counting, journal or metrics: the ceiling for S1 before
// any of mockllm's own features.
//
// Not res.cork()/res.uncork() around the frames: Node's OutgoingMessage.uncork() uncorks the socket
// first and then sends each buffered piece of its chunked body, so every frame becomes a write(2)
// of its own (1,012 syscalls for a 1,003-frame answer, against ~10 for plain writes): a baseline
// written that way would be slowed by the same cost it is meant to expose.
import { readFileSync, writeSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { serveStats } from './child-stats.ts';

/** One canned answer, keyed by the exact request body that gets it. */
export interface Canned {
  status: number;
  /** Header name/value pairs as mockllm sent them (minus date, connection and framing headers). */
  headers: [string, string][];
  /** Non-stream: the body. */
  body?: string;
  /** Stream: the frames, each ending in "\n\n". */
  frames?: string[];
  /** Stream: which frames are content chunks (paced), as the mock's encoder marks them. */
  content?: boolean[];
  /** Stream: delay before each content chunk but the first, in ms (0: none). */
  intervalMs?: number;
}

export interface CannedFile {
  answers: Record<string, Canned>;
}

const [file, flag] = process.argv.slice(2);
if (!file) throw new Error('usage: baseline-server.ts <canned.json> [--join | --koa | --koa-mock]');
const join = flag === '--join';
const viaKoa = flag === '--koa';
const koaMock = flag === '--koa-mock';
const JOIN_LIMIT = 16 * 1024;
const answers = new Map(Object.entries((JSON.parse(readFileSync(file, 'utf8')) as CannedFile).answers));

/** Frames joined per write: each group ends where a paced frame waits, or at JOIN_LIMIT. */
function joinedGroups(canned: Canned): { text: string; paced: boolean }[] {
  const groups: { text: string; paced: boolean }[] = [];
  let text = '';
  let first = true;
  canned.frames!.forEach((frame, i) => {
    const paced = (canned.intervalMs ?? 0) > 0 && canned.content![i]! && !first;
    if (canned.content![i]) first = false;
    if (text && (paced || text.length + frame.length > JOIN_LIMIT)) {
      groups.push({ text, paced: false });
      text = '';
    }
    if (paced) groups.push({ text: '', paced: true });
    text += frame;
  });
  if (text) groups.push({ text, paced: false });
  return groups;
}

async function writeJoined(res: ServerResponse, canned: Canned & { groups?: { text: string; paced: boolean }[] }): Promise<void> {
  canned.groups ??= joinedGroups(canned);
  let due = performance.now();
  for (const group of canned.groups) {
    if (res.destroyed) return;
    if (group.paced) {
      due += canned.intervalMs!;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      continue;
    }
    if (!res.write(group.text)) await drain(res);
  }
  res.end();
}

/** Resolves when the response can take more, or at once if the client is gone. */
function drain(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function writeStream(res: ServerResponse, canned: Canned): Promise<void> {
  const frames = canned.frames!;
  const interval = canned.intervalMs ?? 0;
  let due = performance.now();
  let first = true;
  for (let i = 0; i < frames.length; i++) {
    if (res.destroyed) return;
    if (interval > 0 && canned.content![i]) {
      if (!first) {
        due += interval;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
      first = false;
    }
    if (!res.write(frames[i]!)) await drain(res);
  }
  res.end();
}

const bare = (req: IncomingMessage, res: ServerResponse) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    const canned = answers.get(body);
    if (!canned) {
      res.writeHead(404).end();
      return;
    }
    if (canned.frames) {
      res.writeHead(canned.status, canned.headers.flat());
      void (join ? writeJoined(res, canned) : writeStream(res, canned));
    } else {
      res.writeHead(canned.status, [...canned.headers.flat(), 'content-length', String(Buffer.byteLength(canned.body!))]);
      res.end(canned.body);
    }
  });
};

/** A request's body as text, for the Koa apps. */
function bodyText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
  });
}

/** The same answers as one Koa middleware would give them (--koa). */
function koaApp(): (req: IncomingMessage, res: ServerResponse) => void {
  const app = new Koa();
  app.use(async (ctx) => {
    const body = await bodyText(ctx.req);
    const canned = answers.get(body);
    if (!canned) {
      ctx.status = 404;
      return;
    }
    ctx.status = canned.status;
    for (const [name, value] of canned.headers) ctx.res.setHeader(name, value);
    if (canned.frames) {
      ctx.respond = false;
      ctx.res.writeHead(canned.status);
      await writeStream(ctx.res, canned);
    } else ctx.body = canned.body;
  });
  return app.callback();
}

/** The least a mock on Koa does per non-stream request, with its access line (--koa-mock). */
function koaMockApp(): (req: IncomingMessage, res: ServerResponse) => void {
  const app = new Koa();
  // The access line at its cheapest: the fields serialised once, and the lines of one event-loop
  // turn written to stdout together at its end (as mockllm's own sink does).
  let waiting = '';
  const writeWaiting = () => {
    const text = waiting;
    waiting = '';
    writeSync(1, text);
  };
  const logLine = (fields: Record<string, unknown>) => {
    if (waiting === '') setImmediate(writeWaiting);
    waiting += `{"level":30,"time":"${new Date().toISOString()}",${JSON.stringify(fields).slice(1, -1)},"msg":"request"}\n`;
  };
  const templates = new Map<string, Record<string, unknown>>();
  for (const [key, canned] of answers) if (canned.body) templates.set(key, JSON.parse(canned.body) as Record<string, unknown>);
  let sequence = 0;
  app.use(async (ctx) => {
    const started = performance.now();
    const raw = await bodyText(ctx.req);
    const request = JSON.parse(raw) as { model?: string; stream?: boolean };
    const canned = answers.get(raw);
    const template = templates.get(raw);
    if (!canned || !template) {
      ctx.status = 404;
      return;
    }
    // Unique per answer, from a counter: cheaper than any random draw.
    const requestId = `req_${(++sequence).toString(16).padStart(24, '0')}`;
    ctx.status = canned.status;
    for (const [name, value] of canned.headers) ctx.res.setHeader(name, value);
    ctx.res.setHeader('x-request-id', requestId);
    ctx.body = { ...template, id: `chatcmpl-${sequence.toString(36)}`, created: Math.floor(Date.now() / 1000), model: request.model };
    logLine({ requestId, method: ctx.method, route: ctx.path, status: ctx.status, durationMs: performance.now() - started, provider: 'bench', model: request.model, stream: request.stream === true, matched: true, ruleId: 'r1' });
  });
  return app.callback();
}

const server = createServer(viaKoa ? koaApp() : koaMock ? koaMockApp() : bare);
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveStats(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}`, pid: process.pid });
});
