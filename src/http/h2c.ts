// HTTP/2 without TLS (h2c, "prior knowledge") beside HTTP/1.1 on one port.
//
// The AWS SDK's default request handler opens cleartext HTTP/2 straight away on an `http://`
// endpoint (no Upgrade, no ALPN: RFC 9113 §3.3), while every other client speaks HTTP/1.1. Node's
// `http2.createServer({ allowHTTP1: true })` only falls back to HTTP/1.1 after a TLS handshake's ALPN,
// so without TLS the protocol is told apart here by the client connection preface (RFC 9113 §3.4):
// an HTTP/2 client's first 24 bytes are `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, which no HTTP/1.1
// request line can be.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { constants, createServer as createHttp2Server, Http2ServerRequest, Http2ServerResponse, type Http2Session, type OutgoingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

// Connection-specific headers are forbidden in HTTP/2 (RFC 9113 §8.2.2); Node's compat API drops
// them with a process warning. The SSE framing's `connection: keep-alive` is one.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** Node's HTTP/2 compat response, minus HTTP/1.1's hop-by-hop headers. */
class H2Response extends Http2ServerResponse {
  override setHeader(name: string, value: number | string | readonly string[]): void {
    if (!HOP_BY_HOP.has(name.toLowerCase())) super.setHeader(name, value);
  }

  /** An answer abandoned half-way (a stream that failed after its headers): an error reset, not a clean end. */
  override destroy(): this {
    this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    return this;
  }

  override writeHead(statusCode: number, ...rest: unknown[]): this {
    const headers = rest.at(-1);
    if (headers && typeof headers === 'object' && !Array.isArray(headers)) {
      const kept: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) if (!HOP_BY_HOP.has(name.toLowerCase())) kept[name] = value;
      rest[rest.length - 1] = kept;
    }
    return (super.writeHead as (status: number, ...args: unknown[]) => this)(statusCode, ...rest);
  }
}

/**
 * Node's compat request, except that destroying its socket resets only this request's stream with
 * an error code. On HTTP/1.1 `req.socket.destroy()` (a rule's disconnect fault) cuts the connection
 * the client is waiting on; the compat proxy's `destroy` resets the stream with NO_ERROR, which reads
 * as a clean if empty ending. INTERNAL_ERROR is the HTTP/2 way to say the answer broke (RFC 9113 §7).
 */
class H2Request extends Http2ServerRequest {}
// The typings call `socket` a property; it is the compat class's getter, wrapped here.
const compatSocket = Object.getOwnPropertyDescriptor(Http2ServerRequest.prototype, 'socket')!.get!;
Object.defineProperty(H2Request.prototype, 'socket', {
  configurable: true,
  get(this: H2Request) {
    const stream = this.stream;
    const socket: unknown = compatSocket.call(this);
    if (socket === null || typeof socket !== 'object') return socket;
    return new Proxy(socket, {
      get: (target, property) => (property === 'destroy' ? () => stream.close(constants.NGHTTP2_INTERNAL_ERROR) : Reflect.get(target, property)),
    });
  },
});

export interface H2cOptions {
  /** An HTTP/2 connection with no open stream is closed (GOAWAY) after this long, as HTTP/1.1 keep-alive is. */
  idleTimeoutMs?: number;
  /** Told about an HTTP/2 connection that failed (a protocol error); the connection is already gone. */
  onSessionError?: (error: Error) => void;
}

export interface H2cControl {
  /** Stops new streams: idle HTTP/2 connections close now, busy ones once their streams end (GOAWAY). */
  closeIdle(): void;
  /** Cuts every HTTP/2 connection and every connection that has not yet said which protocol it speaks. */
  destroyAll(): void;
}

/**
 * Makes a listening (or about to listen) `http.Server` also accept h2c: each new connection is read
 * until its first bytes show the HTTP/2 preface or not, then handed to an HTTP/2 server or to the
 * HTTP/1.1 server's own connection handling. HTTP/2 requests are emitted as the HTTP/1.1 server's
 * `request` event (Node's compat request/response), so one handler (the Koa app) serves both, and
 * the server's `connection` event, connection count and close() still cover every socket.
 */
export function acceptH2c(server: Server, options: H2cOptions = {}): H2cControl {
  const idleTimeoutMs = options.idleTimeoutMs ?? 5000;
  // node:http installs exactly one 'connection' listener (the HTTP/1.1 parser set-up); it is called
  // for the connections that turn out to be HTTP/1.1.
  const http1Connection = server.listeners('connection')[0] as ((socket: Socket) => void) | undefined;
  if (server.listenerCount('connection') !== 1 || !http1Connection) throw new Error('acceptH2c needs a fresh http.Server');
  server.off('connection', http1Connection);

  const http2 = createHttp2Server({ Http2ServerRequest: H2Request, Http2ServerResponse: H2Response });
  http2.on('request', (req, res) => server.emit('request', req as unknown as IncomingMessage, res as unknown as ServerResponse));
  http2.on('sessionError', (error) => options.onSessionError?.(error));
  const sessions = new Set<Http2Session>();
  const undecided = new Set<Socket>();
  /** The sockets of HTTP/2 connections, until they close. */
  const connections = new Set<Socket>();
  let closing = false;

  http2.on('session', (session) => {
    sessions.add(session);
    let open = 0;
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      idle = setTimeout(() => session.close(), idleTimeoutMs);
      idle.unref();
    };
    session.on('stream', (stream) => {
      open++;
      clearTimeout(idle);
      stream.once('close', () => {
        if (--open === 0 && !session.closed) arm();
      });
    });
    session.once('close', () => {
      clearTimeout(idle);
      sessions.delete(session);
    });
    if (closing) session.close();
    else arm();
  });

  server.on('connection', (socket: Socket) => {
    undecided.add(socket);
    let head: Buffer = Buffer.alloc(0);
    const forget = () => {
      undecided.delete(socket);
      socket.off('data', onData);
      socket.off('error', onGone);
      socket.off('end', onGone);
      socket.off('timeout', onGone);
      socket.off('close', forget);
      socket.setTimeout(0);
    };
    // A connection that fails, hangs up (the server's sockets allow half-open ones, so an end alone
    // would leave it open) or stays silent before it says anything has nobody else to answer it.
    const onGone = () => socket.destroy();
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const compared = Math.min(head.length, PREFACE.length);
      const isHttp2 = head.subarray(0, compared).equals(PREFACE.subarray(0, compared));
      if (isHttp2 && head.length < PREFACE.length) return; // a prefix of the preface so far: read on
      forget();
      socket.pause();
      socket.unshift(head);
      if (isHttp2) {
        connections.add(socket);
        socket.once('close', () => connections.delete(socket));
        http2.emit('connection', socket);
      }
      else {
        http1Connection.call(server, socket);
        // The HTTP/1.1 parser reads from a flowing socket; the pause above would otherwise stall it.
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', onGone);
    socket.on('end', onGone);
    socket.on('close', forget);
    socket.setTimeout(server.headersTimeout, onGone);
  });

  return {
    closeIdle() {
      closing = true;
      for (const session of sessions) session.close();
      for (const socket of undecided) socket.destroy();
    },
    destroyAll() {
      for (const session of sessions) session.destroy();
      // A session that ended leaves its socket half-open (node:http servers allow that) until the
      // client closes its side; a client whose streams were cancelled may never do so, and the
      // server's close() would wait for that socket for ever.
      for (const socket of connections) socket.destroy();
      for (const socket of undecided) socket.destroy();
    },
  };
}
