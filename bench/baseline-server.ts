// The yardstick: a bare node:http server with no framework, no parsing, no logging, no metrics.
// It answers each known request body with the bytes mockllm sent for it (captured by the
// orchestrator: same status, same headers, same body length), and writes streams as the same SSE
// frames, corked, honouring socket backpressure, with the same pacing when the stream has one.
//   node bench/baseline-server.ts <canned.json>
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
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

const [file] = process.argv.slice(2);
if (!file) throw new Error('usage: baseline-server.ts <canned.json>');
const answers = new Map(Object.entries((JSON.parse(readFileSync(file, 'utf8')) as CannedFile).answers));

async function writeStream(res: ServerResponse, canned: Canned): Promise<void> {
  const frames = canned.frames!;
  const interval = canned.intervalMs ?? 0;
  let due = performance.now();
  let first = true;
  res.cork();
  for (let i = 0; i < frames.length; i++) {
    if (res.destroyed) return;
    if (interval > 0 && canned.content![i]) {
      if (!first) {
        due += interval;
        const wait = due - performance.now();
        if (wait > 0) {
          res.uncork();
          await sleep(wait);
          res.cork();
        }
      }
      first = false;
    }
    if (!res.write(frames[i]!)) {
      res.uncork();
      const socket = res.socket;
      if (socket?.writableNeedDrain) await new Promise((resolve) => socket.once('drain', resolve));
      res.cork();
    }
  }
  res.uncork();
  res.end();
}

const server = createServer((req, res) => {
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
      void writeStream(res, canned);
    } else {
      res.writeHead(canned.status, [...canned.headers.flat(), 'content-length', String(Buffer.byteLength(canned.body!))]);
      res.end(canned.body);
    }
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveStats(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}`, pid: process.pid });
});
