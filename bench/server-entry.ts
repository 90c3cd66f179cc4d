// The mockllm server as the benchmark runs it: startServer from src/server.ts, exactly as the CLI
// calls it (the CLI's logger at the given level, writing to this process's stdout, which the
// orchestrator points at a file or /dev/null), plus the IPC stats of child-stats.ts.
//   node bench/server-entry.ts <config.yml> [logLevel]
import { startServer } from '../src/server.ts';
import { createLogger, LogSink } from '../src/observability/logger.ts';
import { serveStats } from './child-stats.ts';

const [configPath, logLevel = 'info'] = process.argv.slice(2);
if (!configPath) throw new Error('usage: server-entry.ts <config.yml> [logLevel]');

const server = await startServer({
  configPath,
  port: 0,
  host: '127.0.0.1',
  logLevel: logLevel as 'info',
  // The CLI's logger: JSON lines through its LogSink (stdout is a file or /dev/null here).
  logger: createLogger(logLevel as 'info', new LogSink({ format: 'json' })),
  // The benchmark writes the config file itself and measures reload from the write: a fast poll
  // is not needed, the directory watcher is what a user relies on.
  shutdownGraceMs: 1000,
});
serveStats(() => server.close());
process.send!({ type: 'ready', url: server.url, pid: process.pid });
