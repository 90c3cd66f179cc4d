import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LevelWithSilent } from 'pino';
import { Journal } from './admin/journal.ts';
import { createApp } from './app.ts';
import { ConfigSource } from './config/source.ts';
import { baselineFromConfig } from './engine/rules.ts';
import { RuleStore } from './engine/store.ts';
import type { Lifecycle } from './observability/health.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';

export interface ServerOptions {
  configPath: string;
  port: number;
  host: string;
  logLevel?: LevelWithSilent;
  logger?: Logger;
  strict?: boolean;
  /** Bearer token for /admin (MOCKLLM_ADMIN_TOKEN, --admin-token); overrides `settings.admin.token`. */
  adminToken?: string;
  /** Remove the admin API entirely (--no-admin). */
  adminDisabled?: boolean;
  /** How long in-flight requests may run after close() before their sockets are cut. */
  shutdownGraceMs?: number;
  /** Config watcher timings (tests shorten the safety poll). */
  reloadDebounceMs?: number;
  reloadPollMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  store: RuleStore;
  journal: Journal;
  metrics: Metrics;
  lifecycle: Lifecycle;
  config: ConfigSource;
  logger: Logger;
  close(): Promise<void>;
}

/** Loads the config (throwing a ConfigError if it is unusable), starts listening and watching. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info');
  let store: RuleStore | undefined;
  let journal: Journal | undefined;
  const metrics = new Metrics({ ruleCounts: () => store!.counts() });
  const config = new ConfigSource({
    path: options.configPath,
    logger,
    debounceMs: options.reloadDebounceMs,
    pollMs: options.reloadPollMs,
    onLoad: (loaded) => {
      const baseline = baselineFromConfig(loaded.doc);
      if (store) store.replaceBaseline(baseline);
      else store = new RuleStore(baseline);
      if (journal) journal.resize(baseline.settings.journalSize);
      else journal = new Journal(baseline.settings.journalSize);
      metrics.configLoaded(new Date());
    },
    onReloadResult: (result) => metrics.configReloads.inc({ result }),
  });
  config.loadInitial();
  const rules = store!;
  logger.info({ path: config.path, entries: rules.current.rules.length }, 'config loaded');

  const adminDisabled = options.adminDisabled === true || !rules.current.settings.adminEnabled;
  if (!adminDisabled && options.adminToken === undefined && rules.current.settings.adminToken === undefined) {
    logger.warn('the admin API (/admin/*) is open to anyone who can reach this port: set MOCKLLM_ADMIN_TOKEN to require a token');
  }
  const lifecycle: Lifecycle = { ready: true };
  const app = createApp({
    store: rules,
    logger,
    journal: journal!,
    metrics,
    lifecycle,
    config,
    strictOverride: options.strict,
    adminToken: options.adminToken,
    adminDisabled: options.adminDisabled,
  });
  const server = createServer(app.callback());
  // Clients that keep connections alive (every SDK) would otherwise hold close() open.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await config.watch();
  const { port } = server.address() as AddressInfo;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${hostForUrl === '0.0.0.0' ? '127.0.0.1' : hostForUrl}:${port}`;
  logger.info({ url, host: options.host, port }, 'mockllm listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      lifecycle.ready = false;
      await config.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs ?? 10_000);
      await closed;
      clearTimeout(grace);
      logger.info('mockllm stopped');
    })());

  return { url, port, server, store: rules, journal: journal!, metrics, lifecycle, config, logger, close };
}
