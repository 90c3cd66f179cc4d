// mockllm as a library: start the mock from a test suite (or mount it in another server) and steer
// it from code. Every control method mirrors an admin API route (docs: README.md, "Admin API") with
// the same semantics and error messages, and is asynchronous: the state behind it may live in a
// network store. See README.md, "Use it from your tests".
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { AdminError } from './admin/errors.ts';
import type { JournalEntry } from './state/journal.ts';
import { resetAll } from './admin/reset.ts';
import { presentRule, ruleSpecFromBody } from './admin/responses.ts';
import { PROVIDERS } from './providers/index.ts';
import { parseUpstreams } from './proxy/upstream.ts';
import { ConfigError, readConfigFile } from './config/load.ts';
import type { ConfigFile, ResponseSpec, RuleSpec } from './config/schema.ts';
import { RuleIdConflict } from './engine/store.ts';
import { createLogger } from './observability/logger.ts';
import { StateUnavailable } from './state/errors.ts';
import { createMockServer, startServer, type MockServer, type MockServerOptions } from './server.ts';

/** The default config shipped in the package (the repository's config/responses.yml), wherever the package is installed. */
export const BUNDLED_CONFIG_PATH = fileURLToPath(new URL('../config/responses.yml', import.meta.url));

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface MockLLMHandlerOptions {
  /**
   * A path to a YAML config file, or the config itself as an object of exactly the file's shape
   * (see ConfigFile). Default: the config bundled with the package.
   */
  config?: string | ConfigFile;
  /** Default `warn`. Logs go to stdout as JSON lines. */
  logLevel?: LogLevel;
  /** Reject what the real APIs reject; overrides the config's `settings.strict`. */
  strict?: boolean;
  /** Require `Authorization: Bearer <token>` on /admin/* (the control methods need none). */
  adminToken?: string;
  /** Reload the config file when it changes. Default true for a file you name; the bundled config and an object are never watched. */
  watch?: boolean;
  /**
   * Proxy on a miss (`--upstream`): provider name → the real API's base URL, e.g.
   * `{ openai: 'https://api.openai.com' }`. A request no rule matches is forwarded there.
   */
  upstreams?: Record<string, string>;
  /** Append every proxied exchange that completed to this YAML file as a rule (`--record`). */
  record?: string;
  /** Record upstream 4xx/5xx answers as error rules too (`--record-errors`). */
  recordErrors?: boolean;
  /** How long an upstream may stay silent before the request fails with 504 (default 600000 ms). */
  upstreamTimeoutMs?: number;
  /**
   * Share the admin overlay, sequence counters, journal and stored responses with other mocks
   * through this Redis (`redis://host:6379`), or `{url, prefix}` (prefix default `mockllm:`).
   * Default: this mock's own memory. See docs/deployment.md.
   */
  redis?: string | { url: string; prefix?: string };
}

export interface MockLLMOptions extends MockLLMHandlerOptions {
  /** Default 0: a free port, chosen by the system. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

/** A rule as the admin API's POST /admin/responses takes it: the rule form, or the short `{prompt, response}` form. */
export type RuleInput = RuleSpec | SimpleRule;

/** The short form: answer `response` to exactly `prompt` (after normalisation). */
export interface SimpleRule {
  id?: string;
  priority?: number;
  prompt: string;
  response: ResponseSpec;
}

/** Which journal entries `requests()` returns; every field given must hold. */
export interface RequestFilter {
  /** Answered by the rule with this id. */
  ruleId?: string;
  /** true: only requests no rule matched; false: only matched ones. */
  unmatched?: boolean;
  /** `openai` or `anthropic`. */
  provider?: string;
  /** The API path, e.g. `/v1/chat/completions`, `/v1/messages`. */
  endpoint?: string;
  model?: string;
  /** Only entries with `seq` greater than this. */
  after?: number;
  /** At most this many (the newest). */
  limit?: number;
}

/** One request the mock served, as GET /admin/requests lists it. */
export type RequestEntry = JournalEntry;

/** A rule as GET /admin/responses lists it, with its use since the last reset. */
export interface RuleEntry {
  id: string;
  source: 'file' | 'admin';
  match: RuleSpec['match'];
  response: ResponseSpec;
  /** Requests it answered since the last reset. */
  hits: number;
  /** When it last answered (ISO 8601), or null. */
  lastHitAt: string | null;
}

/** The control methods, on both a started mock and a handler. */
export interface MockLLMControl {
  /** The rules that serve now, with their hit counts (GET /admin/responses); `{unused: true}`: only those never hit since the last reset. */
  rules(filter?: { unused?: boolean }): Promise<RuleEntry[]>;
  /** Adds a rule (POST /admin/responses); resolves to its id (the given one, or a generated `admin-…`). */
  addRule(rule: RuleInput): Promise<string>;
  /** Replaces the rule with this id, a file rule included (PUT /admin/responses/:id). */
  updateRule(id: string, rule: RuleInput): Promise<void>;
  /** Removes the rule with this id (DELETE /admin/responses/:id); a file rule stays hidden until reset(). */
  removeRule(id: string): Promise<void>;
  /** Back to exactly what the config says (POST /admin/reset): admin rules, sequence progress, hit counts, the journal and stored responses are cleared. */
  reset(): Promise<void>;
  /** The requests served so far, newest first (GET /admin/requests). */
  requests(filter?: RequestFilter): Promise<RequestEntry[]>;
  /** Stops the mock; idempotent. Resolves when its sockets are closed and no timer or watcher is left. */
  close(): Promise<void>;
}

export interface MockLLM extends MockLLMControl {
  /** e.g. `http://127.0.0.1:43123` */
  readonly url: string;
  readonly port: number;
  /** `url + '/v1'`: the `baseURL` of the `openai` client. */
  readonly openaiBaseURL: string;
  /** `url`: the `baseURL` of the `@anthropic-ai/sdk` client. */
  readonly anthropicBaseURL: string;
}

export interface MockLLMHandler extends MockLLMControl {
  /** A Node request listener: `http.createServer(handler)`, or any framework that passes Node's req and res. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * A control method or an option that cannot be honoured. `code` and `field` are the admin API's
 * (`invalid_body`, `not_found`, `conflict`), and so is the message.
 */
export class MockLLMError extends Error {
  override name = 'MockLLMError';
  readonly code: string;
  readonly field: string | undefined;

  constructor(code: string, message: string, field?: string) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

/** Starts a mock server on its own port. Rejects with the CLI's message when an option or the config is invalid. */
export async function startMockLLM(options: MockLLMOptions = {}): Promise<MockLLM> {
  checkOptions(options, ['port', 'host']);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`invalid port "${String(port)}"`);
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') throw new TypeError(`invalid host "${String(host)}"`);
  const running = await startServer({
    ...serverOptions(options),
    port,
    host,
    // A mock on the loopback interface is for this machine's tests: no warning about its open admin API.
    warnOpenAdmin: !isLoopback(host),
    // In-flight requests get a moment to finish on close(); a test waiting on close() should not wait 10 s.
    shutdownGraceMs: 1000,
  }).catch(rethrowConfigError);
  let closing: Promise<void> | undefined;
  return {
    url: running.url,
    port: running.port,
    openaiBaseURL: `${running.url}/v1`,
    anthropicBaseURL: running.url,
    ...controls(running),
    close: () => (closing ??= running.close().then(settled)),
  };
}

/** The mock as a request listener, for frameworks that bring their own server. */
export async function createMockLLMHandler(options: MockLLMHandlerOptions = {}): Promise<MockLLMHandler> {
  checkOptions(options, []);
  const core = await createMockServer({ ...serverOptions(options), warnOpenAdmin: false }).catch(rethrowConfigError);
  let closing: Promise<void> | undefined;
  return {
    handler: core.handler,
    ...controls(core),
    close: () => (closing ??= core.close().then(settled)),
  };
}

const OPTION_NAMES = ['config', 'logLevel', 'strict', 'adminToken', 'watch', 'upstreams', 'record', 'recordErrors', 'upstreamTimeoutMs', 'redis'];

function checkOptions(options: object, extra: readonly string[]): void {
  if (options === null || typeof options !== 'object') throw new TypeError('the options must be an object');
  const known = [...OPTION_NAMES, ...extra];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`unknown option "${key}"; the options are ${known.join(', ')}`);
  }
}

function serverOptions(options: MockLLMHandlerOptions): MockServerOptions {
  const { config, logLevel = 'warn', strict, adminToken, watch, upstreams, record, recordErrors, upstreamTimeoutMs, redis } = options;
  if (!LOG_LEVELS.includes(logLevel)) throw new TypeError(`invalid log level "${String(logLevel)}"; use one of ${LOG_LEVELS.join(', ')}`);
  if (strict !== undefined && typeof strict !== 'boolean') throw new TypeError('strict must be true or false');
  if (watch !== undefined && typeof watch !== 'boolean') throw new TypeError('watch must be true or false');
  if (adminToken !== undefined && (typeof adminToken !== 'string' || adminToken === '')) throw new TypeError('adminToken must be a non-empty string');
  if (config !== undefined && typeof config !== 'string' && (config === null || typeof config !== 'object')) {
    throw new TypeError('config must be a path to a YAML file or an object of the file\'s shape');
  }
  const redisTarget = typeof redis === 'string' ? { url: redis } : redis;
  if (redis !== undefined && (redisTarget === null || typeof redisTarget !== 'object' || typeof redisTarget.url !== 'string' || !/^rediss?:\/\//.test(redisTarget.url))) {
    throw new TypeError('redis must be a redis:// URL or {url, prefix}');
  }
  if (redisTarget?.prefix !== undefined && typeof redisTarget.prefix !== 'string') throw new TypeError('redis.prefix must be a string');
  if (upstreams !== undefined && (upstreams === null || typeof upstreams !== 'object' || Array.isArray(upstreams))) throw new TypeError("upstreams must be an object such as { openai: 'https://api.openai.com' }");
  const checkedUpstreams = upstreams === undefined ? undefined : upstreamsOption(upstreams);
  if (record !== undefined && (typeof record !== 'string' || record === '')) throw new TypeError('record must be a path to a YAML file');
  if (record !== undefined && (checkedUpstreams === undefined || Object.keys(checkedUpstreams).length === 0)) throw new TypeError('record needs upstreams: only proxied exchanges are recorded');
  if (recordErrors !== undefined && typeof recordErrors !== 'boolean') throw new TypeError('recordErrors must be true or false');
  if (upstreamTimeoutMs !== undefined && !(Number.isInteger(upstreamTimeoutMs) && upstreamTimeoutMs > 0)) throw new TypeError('upstreamTimeoutMs must be a positive whole number of milliseconds');
  const path = config === undefined ? BUNDLED_CONFIG_PATH : typeof config === 'string' ? config : undefined;
  // The CLI's words for a path that is missing, a directory or unreadable (readConfigFile).
  if (path !== undefined) readConfigFile(path, 'check the config option');
  const logger = createLogger(logLevel);
  return {
    config: path ?? config,
    // The bundled config lives in node_modules, where nobody edits it.
    watch: config === undefined ? false : watch,
    logger,
    strict,
    adminToken,
    ...(checkedUpstreams && { upstreams: checkedUpstreams }),
    ...(record !== undefined && { record }),
    ...(recordErrors !== undefined && { recordErrors }),
    ...(upstreamTimeoutMs !== undefined && { upstreamTimeoutMs }),
    ...(redisTarget && {
      state: async (journalSize: number) => (await import('./state/redis/index.ts')).createRedisState({ ...redisTarget, journalSize, logger }),
    }),
  };
}

/** The `upstreams` option, checked with the CLI's words (`--upstream`), as a TypeError. */
function upstreamsOption(upstreams: Record<string, string>): Record<string, string> {
  try {
    return parseUpstreams(Object.entries(upstreams).map(([provider, url]) => `${provider}=${String(url)}`), {}, PROVIDERS);
  } catch (error) {
    throw new TypeError(`upstreams: ${(error as Error).message.replace(/^--upstream [^:]*: /, '')}`);
  }
}

/** The CLI prints a config that fails validation as `invalid config: <problems>`; so does the library. */
function rethrowConfigError(error: unknown): never {
  if (error instanceof ConfigError && !error.message.startsWith('invalid config: ')) {
    const wrapped = new ConfigError(`invalid config: ${error.message}`, error.problems);
    throw wrapped;
  }
  throw error;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * A closed handle (the listening socket, an fs watcher) is released in the event loop's close
 * phase, which follows the check phase (https://nodejs.org/en/learn/asynchronous-work/event-loop-timers-and-nexttick):
 * two setImmediate turns wait until the close phase has run.
 */
const settled = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

/**
 * The admin API's operations, without HTTP. Kept in step with src/admin/*.ts: the same validation
 * (ruleSpecFromBody), the same errors, the same metrics.
 */
function controls(server: MockServer): Omit<MockLLMControl, 'close'> {
  const methods = stateControls(server);
  // A shared store (the redis option) that is unreachable: the admin API's 503 `unavailable`, as a MockLLMError.
  const unavailable = (error: unknown): never => {
    if (error instanceof StateUnavailable) throw new MockLLMError('unavailable', error.message);
    throw error;
  };
  const guarded = Object.entries(methods).map(([name, method]) => [name, (...args: unknown[]) => (method as (...a: unknown[]) => Promise<unknown>)(...args).catch(unavailable)]);
  return Object.fromEntries(guarded) as typeof methods;
}

function stateControls(server: MockServer): Omit<MockLLMControl, 'close'> {
  const { store, journal, metrics } = server;
  const notFound = (id: string) => new MockLLMError('not_found', `No response with id '${id}'.`);
  const validated = (rule: RuleInput): RuleSpec => {
    try {
      return ruleSpecFromBody(rule);
    } catch (error) {
      if (error instanceof AdminError) throw new MockLLMError(error.code, error.message, error.field);
      throw error;
    }
  };
  return {
    async rules(filter = {}) {
      if (filter.unused !== undefined && typeof filter.unused !== 'boolean') throw new MockLLMError('invalid_query', 'unused must be true or false', 'unused');
      const rules = filter.unused === true ? store.current.rules.filter((rule) => store.hitsOf(rule.id).count === 0) : store.current.rules;
      // Copies: a caller changing an entry must not change the rules.
      return rules.map((rule) => structuredClone(presentRule(rule, store)) as RuleEntry);
    },
    async addRule(rule) {
      const spec = validated(rule);
      try {
        const created = await store.create(spec);
        metrics.adminChanges.inc({ operation: 'create' });
        return created.id;
      } catch (error) {
        if (error instanceof RuleIdConflict) throw new MockLLMError('conflict', error.message, 'id');
        throw error;
      }
    },
    async updateRule(id, rule) {
      const spec = validated(rule);
      if (spec.id !== undefined && spec.id !== id) throw new MockLLMError('invalid_body', `id "${spec.id}" in the body does not match "${id}" in the URL`, 'id');
      if (!(await store.replace(id, spec))) throw notFound(id);
      metrics.adminChanges.inc({ operation: 'replace' });
    },
    async removeRule(id) {
      if (!(await store.delete(id))) throw notFound(id);
      metrics.adminChanges.inc({ operation: 'delete' });
    },
    async reset() {
      await resetAll(store, server.state);
      metrics.adminChanges.inc({ operation: 'reset' });
    },
    async requests(filter = {}) {
      const { ruleId, unmatched, provider, endpoint, model, after, limit } = filter;
      const entries = await journal.list({
        ...(provider !== undefined && { provider }),
        ...(endpoint !== undefined && { endpoint }),
        ...(model !== undefined && { model }),
        ...(unmatched !== undefined && { matched: !unmatched }),
        ...(after !== undefined && { after }),
        // The journal cannot filter by rule: the limit is applied after that filter here.
        ...(limit !== undefined && ruleId === undefined && { limit }),
      });
      const selected = ruleId === undefined ? entries : entries.filter((entry) => entry.ruleId === ruleId).slice(0, limit);
      // Copies: a caller changing an entry must not change the journal.
      return selected.map(copyEntry);
    },
  };
}

function copyEntry(entry: JournalEntry): JournalEntry {
  try {
    return structuredClone(entry);
  } catch {
    // A body nested deeper than structuredClone can follow: listed without it, as GET /admin/requests does.
    return { ...entry, request: { headers: { ...entry.request.headers }, body: null } };
  }
}
