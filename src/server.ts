import { createServer, STATUS_CODES, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { LevelWithSilent } from 'pino';
import { isAdminPath } from './admin/paths.ts';
import { createApp } from './app.ts';
import { ConfigSource } from './config/source.ts';
import type { Clock } from './engine/clock.ts';
import { baselineFromConfig } from './engine/rules.ts';
import { RuleStore } from './engine/store.ts';
import { ApiError, kindOfStatus } from './http/errors.ts';
import { acceptH2c } from './http/h2c.ts';
import { listenOnPort, type Listening } from './http/listen.ts';
import type { Lifecycle } from './observability/health.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { PROVIDERS } from './providers/index.ts';
import { createMemoryState } from './state/memory.ts';
import type { RequestJournal, StateStores } from './state/types.ts';

export interface MockServerOptions {
  /**
   * The config: a path to a YAML file, or an object of exactly the file's shape (validated with the
   * file's messages, named `<inline config>`). `configPath` is the older spelling of a path; one of
   * the two is required.
   */
  config?: string | object;
  configPath?: string;
  /** Follow the file: reload on change, with a safety poll (default true; an inline config never watches). */
  watch?: boolean;
  logLevel?: LevelWithSilent;
  logger?: Logger;
  strict?: boolean;
  /** Bearer token for /admin (MOCKLLM_ADMIN_TOKEN, --admin-token); overrides `settings.admin.token`. */
  adminToken?: string;
  /** Remove the admin API entirely (--no-admin). */
  adminDisabled?: boolean;
  /** Warn at start-up when the admin API needs no token (default true; the library turns it off on loopback). */
  warnOpenAdmin?: boolean;
  /** Config watcher timings (tests shorten the safety poll). */
  reloadDebounceMs?: number;
  reloadPollMs?: number;
  /** How long a reload that read an unfinished-looking file waits before reading it again (default 100). */
  reloadSettleMs?: number;
  /**
   * Where the overlay, sequence counters, journal and stored responses live (default: this server's
   * memory). Given the journal size the config asks for.
   */
  state?: (journalSize: number) => StateStores | Promise<StateStores>;
  /** Time for pacing and timing (tests inject a virtual clock). */
  clock?: Clock;
  /** Proxy on a miss (`--upstream PROVIDER=URL`): provider name → the real API's base URL. */
  upstreams?: Readonly<Record<string, string>>;
  /** Record proxied exchanges as rules into this YAML file (`--record FILE`). */
  record?: string;
  /** Record upstream 4xx/5xx answers as error rules too (`--record-errors`). */
  recordErrors?: boolean;
  /** How long an upstream may stay silent before the request fails with 504 (default 600000). */
  upstreamTimeoutMs?: number;
}

export interface ServerOptions extends MockServerOptions {
  port: number;
  host: string;
  /** How long in-flight requests may run after close() before their sockets are cut. */
  shutdownGraceMs?: number;
}

/** Everything a server needs, except the listening socket: a request listener for any HTTP server. */
export interface MockServer {
  /** A request listener for node:http (or any framework that hands over Node's req and res). */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * For node:http's 'upgrade' event (Responses over WebSocket): the request goes through the same
   * middleware and route table as any other; a route that serves upgrades takes the socket over,
   * anything else (an error, a 404) is answered over HTTP and the connection closed.
   */
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  store: RuleStore;
  /** The server's state: admin overlay, sequence counters, journal, stored responses. */
  state: StateStores;
  journal: RequestJournal;
  metrics: Metrics;
  lifecycle: Lifecycle;
  config: ConfigSource;
  logger: Logger;
  /** Stops the config watcher (idempotent). Sockets belong to whoever listens. */
  close(): Promise<void>;
}

export interface RunningServer extends MockServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Loads the config (throwing a ConfigError if it is unusable) and starts watching it; does not listen. */
export async function createMockServer(options: MockServerOptions): Promise<MockServer> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info');
  const given = options.config ?? options.configPath;
  if (given === undefined) throw new TypeError('startServer needs a config: a path or an object');
  let store: RuleStore | undefined;
  let state: StateStores | undefined;
  let pending: ReturnType<typeof baselineFromConfig> | undefined;
  const metrics = new Metrics({ ruleCounts: () => store!.counts(), stateBackend: () => state?.backend?.status() });
  const config = new ConfigSource({
    ...(typeof given === 'string' ? { path: given } : { inline: given }),
    logger,
    debounceMs: options.reloadDebounceMs,
    pollMs: options.reloadPollMs,
    settleMs: options.reloadSettleMs,
    onLoad: (loaded) => {
      const baseline = baselineFromConfig(loaded.doc);
      if (store) store.replaceBaseline(baseline);
      else pending = baseline;
      state?.journal.resize(baseline.settings.journalSize);
      metrics.configLoaded(new Date());
    },
    onReloadResult: (result) => metrics.configReloads.inc({ result }),
  });
  config.loadInitial();
  const baseline = pending!;
  state = await (options.state ?? ((journalSize) => createMemoryState({ journalSize })))(baseline.settings.journalSize);
  const stores = state;
  store = new RuleStore(baseline, stores.overlay, stores.sequences);
  const rules = store;
  logger.info({ path: config.path, entries: rules.current.rules.length }, 'config loaded');

  const adminDisabled = options.adminDisabled === true || !rules.current.settings.adminEnabled;
  if (options.warnOpenAdmin !== false && !adminDisabled && options.adminToken === undefined && rules.current.settings.adminToken === undefined) {
    logger.warn('the admin API (/admin/*) is open to anyone who can reach this port: set MOCKLLM_ADMIN_TOKEN to require a token');
  }
  const lifecycle: Lifecycle = { ready: true };
  // The proxy and recorder (node:https, zlib, …) are loaded only when an upstream is configured.
  const proxy = options.upstreams && Object.keys(options.upstreams).length > 0
    ? await Promise.all([import('./proxy/upstream.ts'), import('./proxy/record.ts')])
    : undefined;
  const upstream = proxy
    ? proxy[0].createUpstream({ upstreams: options.upstreams!, providers: PROVIDERS, logger, record: options.record, recordErrors: options.recordErrors, timeoutMs: options.upstreamTimeoutMs })
    : undefined;
  if (options.record !== undefined && !upstream) logger.warn({ path: options.record }, '--record has nothing to record without --upstream');
  if (proxy && upstream) logger.info({ upstreams: Object.fromEntries(Object.entries(options.upstreams!).map(([p, url]) => [p, proxy[1].originOf(url)])), record: options.record ?? null }, 'requests no rule matches go to the upstream');
  const app = createApp({
    store: rules,
    state: stores,
    logger,
    metrics,
    lifecycle,
    config,
    strictOverride: options.strict,
    adminToken: options.adminToken,
    adminDisabled: options.adminDisabled,
    ...(options.clock && { clock: options.clock }),
    ...(upstream && { upstream: upstream.hook }),
  });
  if (options.watch !== false) await config.watch();
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      lifecycle.ready = false;
      await config.close();
      await upstream?.settled();
      rules.close();
      await stores.close();
    })());
  const handler = app.callback();
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Bytes read past the request head belong to the new protocol: back into the socket for its reader.
    if (head.length > 0) socket.unshift(head);
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    res.once('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    handler(req, res);
  };
  return { handler, upgrade, store: rules, state: stores, journal: stores.journal, metrics, lifecycle, config, logger, close };
}

/** Loads the config (throwing a ConfigError if it is unusable), starts listening and watching. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  // The config watcher (chokidar's set-up: ~50 ms of CPU) starts once the port is open, so the
  // first requests are answered while it sets up; 'mockllm listening' is logged when it is ready,
  // so whoever waits for that line can edit the config and be sure the edit is seen.
  const core = await createMockServer({ ...options, watch: false });
  const { logger, lifecycle } = core;
  const server = createServer(core.handler);
  // Clients that keep connections alive (every SDK) would otherwise hold close() open.
  server.keepAliveTimeout = 5000;
  server.on('clientError', answerClientError);
  // Upgraded connections (WebSocket) leave the HTTP server's bookkeeping: kept here to end them on close.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    core.upgrade(req, socket, head);
  });
  // h2c beside HTTP/1.1 on the same port (the AWS SDK's default handler speaks cleartext HTTP/2):
  // see src/http/h2c.ts. HTTP/2 requests reach the same handler through the server's 'request' event.
  const h2c = acceptH2c(server, {
    idleTimeoutMs: server.keepAliveTimeout,
    onSessionError: (error) => logger.debug({ err: error }, 'HTTP/2 connection failed'),
  });
  let listening: Listening;
  try {
    listening = await listenOnPort(server, options.port, options.host);
  } catch (error) {
    await core.close();
    throw error;
  }
  if (options.watch !== false) {
    try {
      await core.config.watch();
    } catch (error) {
      await core.close();
      await listening.close();
      throw error;
    }
  }
  const { port } = listening;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${hostForUrl === '0.0.0.0' ? '127.0.0.1' : hostForUrl}:${port}`;
  logger.info({ url, host: options.host, port }, 'mockllm listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      lifecycle.ready = false;
      await core.close();
      const closed = listening.close();
      server.closeIdleConnections();
      h2c.closeIdle(); // HTTP/2 connections: GOAWAY; they close once their streams end
      for (const socket of upgraded) socket.end();
      const grace = setTimeout(() => {
        server.closeAllConnections();
        h2c.destroyAll();
        for (const socket of upgraded) socket.destroy();
      }, options.shutdownGraceMs ?? 10_000);
      await closed;
      clearTimeout(grace);
      logger.info('mockllm stopped');
    })());

  return { ...core, url, port, server, close };
}

/**
 * Requests Node's HTTP parser rejects never reach the app: a header block over its 16 KB limit, a
 * malformed request line or chunk. Node's own answer to them has no body; this one has the same
 * status (431, 400, 408) with a JSON body in the shape of the API the request was for (guessed
 * from what was read of it), so a client's SDK reports it like any other error.
 */
function answerClientError(error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket): void {
  const inProgress = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message =
    status === 431
      ? 'Request header fields too large: the headers exceed the server limit.'
      : status === 408
        ? 'Request timeout: the request was not received in time.'
        : 'Bad request: the request is not valid HTTP.';
  const head = error.rawPacket?.toString('latin1', 0, 4096) ?? '';
  const path = /^[A-Z]+ (\S+) HTTP\//.exec(head)?.[1] ?? '';
  let body: unknown;
  if (isAdminPath(path)) body = { error: { code: status === 431 ? 'too_large' : 'invalid_body', message } };
  else {
    const apiError = new ApiError({ status, kind: kindOfStatus(status), message });
    const headers = new Map<string, string>();
    for (const [, name, value] of head.matchAll(/\r\n([^:\r\n]+):[ \t]*([^\r\n]*)/g)) headers.set(name!.toLowerCase(), value!);
    const provider = PROVIDERS.find((p) => p.claims(path, (name) => headers.get(name))) ?? PROVIDERS.at(-1)!;
    body = provider.errorBody(apiError, provider.newRequestId());
  }
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
  );
}
