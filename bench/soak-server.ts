// The server under soak: startServer from src/server.ts in a child process, reporting its own
// health over IPC once a second: memory, active handles, event-loop delay p99 and the number of
// error log lines it wrote. bench/soak.ts forks it.
//   node bench/soak-server.ts <config.yml>
import { Writable } from 'node:stream';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createLogger } from '../src/observability/logger.ts';
import { startServer } from '../src/server.ts';

const [configPath] = process.argv.slice(2);
if (!configPath || !process.send) throw new Error('usage: fork bench/soak-server.ts <config.yml> (needs an IPC channel)');

// Warnings and errors go to stdout (the driver points it at a log file) and are counted. The soak
// breaks the config file on purpose: a failed reload is logged at error level by design, and is
// counted apart from every other error line (which fails the soak).
const EXPECTED = 'config reload failed; the last good config keeps serving';
let errorLines = 0;
let reloadFailures = 0;
const sink = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    const text = chunk.toString('utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const parsed = JSON.parse(line) as { level?: number; msg?: string };
        if (parsed.level! >= 50) {
          if (parsed.msg === EXPECTED) reloadFailures++;
          else errorLines++;
        }
      } catch {
        errorLines++;
      }
    }
    process.stdout.write(chunk, () => callback());
  },
});

const server = await startServer({
  configPath,
  port: 0,
  host: '127.0.0.1',
  logger: createLogger('warn', sink),
  shutdownGraceMs: 2000,
  // The soak rewrites the config through the directory watcher; the safety poll stays as shipped.
});

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const started = performance.now();

const sample = () => {
  const memory = process.memoryUsage();
  const p99 = loop.percentile(99) / 1e6;
  const max = loop.max / 1e6;
  loop.reset();
  process.send!({
    type: 'sample',
    elapsedMs: Math.round(performance.now() - started),
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    handles: process.getActiveResourcesInfo().length,
    eventLoopP99Ms: Number.isFinite(p99) ? p99 : 0,
    eventLoopMaxMs: Number.isFinite(max) ? max : 0,
    errorLines,
    reloadFailures,
  });
};
const timer = setInterval(sample, 1000);

process.on('message', (message: { type: string }) => {
  if (message.type !== 'stop') return;
  clearInterval(timer);
  loop.disable();
  void server.close().then(() => {
    process.send!({ type: 'stopped', errorLines }, () => process.exit(0));
  });
});
process.on('disconnect', () => process.exit(1));

process.send({ type: 'ready', url: server.url, pid: process.pid });
