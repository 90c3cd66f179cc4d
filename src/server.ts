import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LevelWithSilent } from 'pino';
import { createApp } from './app.ts';
import { ConfigSource } from './config/source.ts';
import { baselineFromConfig } from './engine/rules.ts';
import { RuleStore } from './engine/store.ts';
import { createLogger, type Logger } from './observability/logger.ts';

export interface ServerOptions {
  configPath: string;
  port: number;
  host: string;
  logLevel?: LevelWithSilent;
  logger?: Logger;
  strict?: boolean;
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
  config: ConfigSource;
  logger: Logger;
  close(): Promise<void>;
}

/** Loads the config (throwing a ConfigError if it is unusable), starts listening and watching. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info');
  let store: RuleStore | undefined;
  const config = new ConfigSource({
    path: options.configPath,
    logger,
    debounceMs: options.reloadDebounceMs,
    pollMs: options.reloadPollMs,
    onLoad: (loaded) => {
      const baseline = baselineFromConfig(loaded.doc);
      if (store) store.replaceBaseline(baseline);
      else store = new RuleStore(baseline);
    },
  });
  config.loadInitial();
  const rules = store!;
  logger.info({ path: config.path, entries: rules.current.rules.length }, 'config loaded');

  const app = createApp({ store: rules, logger, strictOverride: options.strict });
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
      await config.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs ?? 10_000);
      await closed;
      clearTimeout(grace);
      logger.info('mockllm stopped');
    })());

  return { url, port, server, store: rules, config, logger, close };
}
