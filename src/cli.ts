#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from './config/load.ts';
import { startServer, type RunningServer } from './server.ts';

const USAGE = `Usage: mockllm [--config PATH] [--port N] [--host H] [--log-level L]

  --config PATH     YAML config file (env MOCKLLM_CONFIG; default config/responses.yml)
  --port N          port to listen on (env PORT; default 8000; 0 picks a free port)
  --host H          address to bind (env HOST; default 127.0.0.1)
  --log-level L     fatal|error|warn|info|debug|trace|silent (env LOG_LEVEL; default info)
  --strict          reject what the real APIs reject (env MOCKLLM_STRICT=1)
  --admin-token T   require "Authorization: Bearer T" on /admin/* (env MOCKLLM_ADMIN_TOKEN)
  --no-admin        remove the admin API entirely
  --shutdown-grace-ms N
                    on SIGTERM, how long in-flight requests may finish (env MOCKLLM_SHUTDOWN_GRACE_MS; default 10000)
  -h, --help        show this help
`;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type Level = (typeof LEVELS)[number];

function fail(message: string, code = 2): never {
  process.stderr.write(`mockllm: ${message}\n`);
  process.exit(code);
}

function parseFlag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  return fail(`MOCKLLM_STRICT must be 1 or 0, got "${value}"`);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'log-level': { type: 'string' },
        strict: { type: 'boolean' },
        'admin-token': { type: 'string' },
        'no-admin': { type: 'boolean' },
        'shutdown-grace-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  // An empty variable counts as unset (as MOCKLLM_STRICT and MOCKLLM_ADMIN_TOKEN already do):
  // compose files and Helm templates pass `PORT=` when the value is not given.
  const env = Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== '')) as NodeJS.ProcessEnv;
  const portText = values.port ?? env.PORT ?? '8000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) fail(`invalid port "${portText}"`);
  const logLevel = (values['log-level'] ?? env.LOG_LEVEL ?? 'info') as Level;
  if (!LEVELS.includes(logLevel)) fail(`invalid log level "${logLevel}"; use one of ${LEVELS.join(', ')}`);
  const graceText = values['shutdown-grace-ms'] ?? env.MOCKLLM_SHUTDOWN_GRACE_MS ?? '10000';
  if (!/^\d+$/.test(graceText)) fail(`invalid shutdown grace "${graceText}": give milliseconds`);

  // Signal handlers go in before start-up: the server answers HTTP (and logs 'mockllm listening')
  // before startServer returns, and a SIGTERM with no handler yet would kill the process outright
  // instead of exiting 0. A signal during start-up is acted on once the server is up.
  let running: RunningServer | undefined;
  let pending: NodeJS.Signals | undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      running?.logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(130);
    }
    stopping = true;
    if (!running) {
      pending = signal;
      return;
    }
    const server = running;
    server.logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  try {
    running = await startServer({
      configPath: values.config ?? env.MOCKLLM_CONFIG ?? 'config/responses.yml',
      port,
      host: values.host ?? env.HOST ?? '127.0.0.1',
      logLevel,
      strict: values.strict ? true : parseFlag(env.MOCKLLM_STRICT),
      adminToken: values['admin-token'] ?? (env.MOCKLLM_ADMIN_TOKEN || undefined),
      adminDisabled: values['no-admin'] === true,
      shutdownGraceMs: Number(graceText),
    });
  } catch (error) {
    if (error instanceof ConfigError) fail(`invalid config: ${error.message}`, 1);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') fail(`cannot listen: ${(error as Error).message}`, 1);
    throw error;
  }

  if (pending) {
    stopping = false;
    stop(pending);
  }
}

await main();
