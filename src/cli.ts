#!/usr/bin/env node
// The `mockllm` command. Help, version and argument errors are answered from this file and
// ./cli/usage.ts alone: the server and its dependencies are imported (dynamically) only once the
// arguments say a server is wanted, so `mockllm --help` returns at once.
import { existsSync, readFileSync } from 'node:fs';
import { enableCompileCache, flushCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { INFO_FLAGS, SERVE_FLAGS, USAGE, VALIDATE_FLAGS, VALIDATE_USAGE } from './cli/usage.ts';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type Level = (typeof LEVELS)[number];
const FORMATS = ['json', 'pretty'] as const;
type Format = (typeof FORMATS)[number];

/** Where the working directory's config is looked for when neither --config nor MOCKLLM_CONFIG names one. */
const LOCAL_CONFIG = 'config/responses.yml';

// This file is src/cli.ts, or dist/cli.js once built: either way the package root is one up.
const PACKAGE_ROOT = new URL('../', import.meta.url);

function fail(message: string, code = 2): never {
  process.stderr.write(`mockllm: ${message}\n`);
  process.exit(code);
}

function parseFlag(value: string | undefined, name = 'MOCKLLM_STRICT'): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  return fail(`${name} must be 1 or 0, got "${value}"`);
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('package.json', PACKAGE_ROOT), 'utf8')) as { version: string };
  return pkg.version;
}

function parse<T extends Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>>(args: string[], flags: T, usage: string, positionals: boolean) {
  const options = Object.fromEntries(
    Object.entries(flags).map(([name, spec]) => [name, { type: spec.type, ...(spec.short && { short: spec.short }), ...(spec.multiple && { multiple: true }) }]),
  );
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: positionals }) as {
      values: { [K in keyof T]?: T[K]['multiple'] extends true ? string[] : T[K]['type'] extends 'string' ? string : boolean };
      positionals: string[];
    };
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${usage}`);
  }
}

async function validateCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, VALIDATE_FLAGS, VALIDATE_USAGE, true);
  if (values.help) {
    process.stdout.write(VALIDATE_USAGE);
    return;
  }
  if (positionals.length === 0) fail(`validate needs at least one config file\n\n${VALIDATE_USAGE}`);
  const { validateFiles, formatReport } = await import('./cli/validate.ts');
  const report = validateFiles(positionals);
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  process.exitCode = report.valid ? 0 : 1;
}

/** The words for a failed listen, naming the flag that fixes it. */
function listenProblem(error: NodeJS.ErrnoException, host: string, port: number): string | undefined {
  switch (error.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use (another server, perhaps another mockllm, is listening there); stop it, or pick another port with --port N (--port 0 picks a free one)`;
    case 'EACCES':
      return `not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges); pick another port with --port N`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${host}: this machine has no such address; pass --host with one of its addresses (127.0.0.1, or 0.0.0.0 for all)`;
    default:
      return undefined;
  }
}

async function serve(args: string[]): Promise<void> {
  const { values } = parse(args, { ...SERVE_FLAGS, ...INFO_FLAGS }, USAGE, false);
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  // Node's on-disk cache of compiled modules (https://nodejs.org/api/module.html#module-compile-cache),
  // in the OS temp directory: every start after the first skips compiling the ~130 modules of the
  // server and its dependencies (~15% of start-up CPU; docs/benchmarks.md, S5). Where the directory
  // is not writable Node carries on without it; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  enableCompileCache();
  // An empty variable counts as unset (as MOCKLLM_STRICT and MOCKLLM_ADMIN_TOKEN already do):
  // compose files and Helm templates pass `PORT=` when the value is not given.
  const env = Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== '')) as NodeJS.ProcessEnv;
  const portText = values.port ?? env.PORT ?? '8000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) fail(`invalid port "${portText}"`);
  const logLevel = (values['log-level'] ?? env.LOG_LEVEL ?? 'info') as Level;
  if (!LEVELS.includes(logLevel)) fail(`invalid log level "${logLevel}"; use one of ${LEVELS.join(', ')}`);
  const logFormat = (values['log-format'] ?? env.MOCKLLM_LOG_FORMAT) as Format | undefined;
  if (logFormat !== undefined && !FORMATS.includes(logFormat)) fail(`invalid log format "${logFormat}"; use json or pretty`);
  const graceText = values['shutdown-grace-ms'] ?? env.MOCKLLM_SHUTDOWN_GRACE_MS ?? '10000';
  if (!/^\d+$/.test(graceText)) fail(`invalid shutdown grace "${graceText}": give milliseconds`);
  const host = values.host ?? env.HOST ?? '127.0.0.1';
  const upstreamTimeoutText = values['upstream-timeout-ms'] ?? env.MOCKLLM_UPSTREAM_TIMEOUT_MS;
  if (upstreamTimeoutText !== undefined && !/^[1-9]\d*$/.test(upstreamTimeoutText)) fail(`invalid upstream timeout "${upstreamTimeoutText}": give milliseconds`);
  const record = values.record ?? env.MOCKLLM_RECORD;
  const recordErrors = values['record-errors'] === true || parseFlag(env.MOCKLLM_RECORD_ERRORS, 'MOCKLLM_RECORD_ERRORS') === true;
  const redisUrl = values.redis ?? env.MOCKLLM_REDIS_URL;
  const redisPrefix = values['redis-prefix'] ?? env.MOCKLLM_REDIS_PREFIX;
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) fail(`invalid Redis URL "${redisUrl}": use redis://host:port (or rediss:// for TLS)`);

  // The config: --config, else MOCKLLM_CONFIG, else ./config/responses.yml when there is one (npm
  // start in a clone), else the default config shipped in the package (npx mockllm anywhere).
  const named = values.config !== undefined ? { path: values.config, by: '--config' } : env.MOCKLLM_CONFIG ? { path: env.MOCKLLM_CONFIG, by: 'MOCKLLM_CONFIG' } : undefined;
  const bundled = named === undefined && !existsSync(LOCAL_CONFIG);
  const configPath = named?.path ?? (bundled ? fileURLToPath(new URL(LOCAL_CONFIG, PACKAGE_ROOT)) : LOCAL_CONFIG);

  const [{ ConfigError, readConfigFile }, { createLogger, defaultLogFormat, LogSink, wantsColors }] = await Promise.all([
    import('./config/load.ts'),
    import('./observability/logger.ts'),
  ]);
  // Say in words what is wrong with the path before anything else happens (the server's own
  // message for an unreadable file is written for reloads, where the last good config serves on).
  try {
    readConfigFile(configPath, named?.by === 'MOCKLLM_CONFIG' ? 'MOCKLLM_CONFIG names it; set MOCKLLM_CONFIG or pass --config to an existing file' : `pass --config or create ${LOCAL_CONFIG}`);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 1);
    throw error;
  }

  const sink = new LogSink({ format: logFormat ?? defaultLogFormat(process.stdout), colors: wantsColors(process.stdout) });
  const logger = createLogger(logLevel, sink);
  // Lines logged during start-up are held back until the server listens, so that when it cannot
  // (the port is taken), the line saying so is the first thing printed.
  sink.hold();
  if (bundled) logger.info({ path: configPath }, `no ${LOCAL_CONFIG} in ${process.cwd()}: serving the default config bundled with mockllm (pass --config to serve yours)`);

  const [{ startServer }, { PROVIDERS }] = await Promise.all([import('./server.ts'), import('./providers/index.ts')]);
  // The proxy (node:https, zlib, the recorder) is loaded only when an upstream is named.
  const upstreamEntries = values.upstream ?? [];
  const namesUpstream = upstreamEntries.length > 0 || Object.keys(env).some((name) => /^MOCKLLM_UPSTREAM_[A-Z0-9_]+$/.test(name));
  let upstreams: Record<string, string> = {};
  try {
    if (namesUpstream) upstreams = (await import('./proxy/upstream.ts')).parseUpstreams(upstreamEntries, env, PROVIDERS);
  } catch (error) {
    sink.release();
    fail((error as Error).message);
  }
  if (record !== undefined && Object.keys(upstreams).length === 0) {
    sink.release();
    fail('--record needs --upstream PROVIDER=URL (or MOCKLLM_UPSTREAM_<PROVIDER>): only proxied exchanges are recorded');
  }
  type Running = Awaited<ReturnType<typeof startServer>>;

  // Signal handlers go in before start-up: the server answers HTTP (and logs 'mockllm listening')
  // before startServer returns, and a SIGTERM with no handler yet would kill the process outright
  // instead of exiting 0. A signal during start-up is acted on once the server is up.
  let running: Running | undefined;
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
      configPath,
      port,
      host,
      logLevel,
      logger,
      strict: values.strict ? true : parseFlag(env.MOCKLLM_STRICT),
      adminToken: values['admin-token'] ?? (env.MOCKLLM_ADMIN_TOKEN || undefined),
      adminDisabled: values['no-admin'] === true,
      shutdownGraceMs: Number(graceText),
      upstreams,
      ...(record !== undefined && { record }),
      recordErrors,
      ...(upstreamTimeoutText !== undefined && { upstreamTimeoutMs: Number(upstreamTimeoutText) }),
      // Loaded only when asked for: without --redis, nothing of Redis is imported.
      ...(redisUrl !== undefined && {
        state: async (journalSize: number) => (await import('./state/redis/index.ts')).createRedisState({ url: redisUrl, prefix: redisPrefix, journalSize, logger }),
      }),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      sink.release();
      fail(`invalid config: ${error.message}`, 1);
    }
    const problem = listenProblem(error as NodeJS.ErrnoException, host, port);
    if (problem !== undefined) {
      process.stderr.write(`mockllm: ${problem}\n`);
      sink.release();
      process.exit(1);
    }
    sink.release();
    throw error;
  }
  sink.release();
  // Written at exit anyway; written now too, so a server that is killed (SIGKILL, OOM) has left it.
  setImmediate(flushCompileCache);

  if (pending) {
    stopping = false;
    stop(pending);
  }
}

const [first, ...rest] = process.argv.slice(2);
if (first === 'validate') await validateCommand(rest);
else await serve(process.argv.slice(2));
