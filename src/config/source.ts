import { readFile, realpath } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { FSWatcher } from 'chokidar';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, hashText, parseConfig, type LoadedConfig } from './load.ts';
import type { ConfigFile } from './schema.ts';
import { checkConfig } from './validate.ts';
import type { Logger } from '../observability/logger.ts';

export type ReloadResult = 'updated' | 'unchanged' | 'failed';

/** What asked for a reload: a file event, the safety poll, or a caller (tests, the admin API). */
export type ReloadTrigger = 'event' | 'poll' | 'manual';

/** How an inline config (an object given in code rather than a file) is named in messages and /healthz. */
export const INLINE_CONFIG_NAME = '<inline config>';

export interface ConfigStatus {
  path: string;
  hash: string;
  loadedAt: Date;
  lastReloadAt: Date | null;
  lastReloadError: string | null;
  /** When the file was last read by a reload of any outcome, the safety poll's included. */
  lastCheckedAt: Date | null;
}

export interface ConfigSourceOptions {
  /** The YAML file to load (and, unless `watch()` is never called, to follow). */
  path?: string;
  /**
   * Or the config itself, as an object of exactly the file's shape. It is validated with the
   * file's checks and messages (named INLINE_CONFIG_NAME instead of a path), copied, and never
   * reloaded: it has no file to watch.
   */
  inline?: unknown;
  logger: Logger;
  /** Called with every new valid config; the caller swaps it in. */
  onLoad: (config: LoadedConfig) => void;
  /** Told the outcome of every reload attempt (metrics count them). */
  onReloadResult?: (result: ReloadResult) => void;
  /** Coalesces the burst of events one save makes (editors, the kubelet's symlink swap). */
  debounceMs?: number;
  /** A periodic re-read, so a change that no file event reports still lands. */
  pollMs?: number;
  /**
   * A read that finds the file empty, unparseable or missing may have caught a save in the middle
   * (an in-place write truncates the file first). Before it is called broken, the file is read
   * again after this long, and again while its content keeps changing.
   */
  settleMs?: number;
}

/** Re-reads of a changing file before a broken read is reported as it stands. */
const MAX_SETTLE_READS = 5;

/**
 * The config file on disk: the first load, and every reload after it. A reload reads the file,
 * skips it if its hash is unchanged, and otherwise parses and validates it before handing it on;
 * a file that is missing or invalid is logged and the last good config keeps serving.
 */
export class ConfigSource {
  /** The resolved file path, or INLINE_CONFIG_NAME for an inline config. */
  readonly path: string;
  /** True when the config was given as an object: there is nothing to reload or watch. */
  readonly inline: boolean;
  #options: ConfigSourceOptions;
  #status: ConfigStatus | undefined;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #reloading: Promise<ReloadResult> | undefined;
  /** A reload asked for while one was running: run once more after it, for this trigger. */
  #again: ReloadTrigger | undefined;
  #closed = false;
  /** The file the config path resolves to, when that is a symlink into another directory. */
  #target: string | undefined;

  constructor(options: ConfigSourceOptions) {
    this.#options = options;
    if ((options.path === undefined) === (options.inline === undefined)) throw new TypeError('ConfigSource needs either a path or an inline config');
    this.inline = options.inline !== undefined;
    this.path = options.path === undefined ? INLINE_CONFIG_NAME : resolve(options.path);
  }

  get status(): ConfigStatus {
    if (!this.#status) throw new Error('config not loaded yet');
    return this.#status;
  }

  /** The start-up load: synchronous, and fatal on any problem (a ConfigError names it). */
  loadInitial(): LoadedConfig {
    if (this.inline) {
      const config = parseInlineConfig(this.#options.inline, this.path);
      this.#status = { path: this.path, hash: config.hash, loadedAt: new Date(), lastReloadAt: null, lastReloadError: null, lastCheckedAt: null };
      this.#options.onLoad(config);
      return config;
    }
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      throw new ConfigError(`${this.path}: cannot read the config file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const config = parseConfig(text, this.path);
    this.#status = { path: this.path, hash: config.hash, loadedAt: new Date(), lastReloadAt: null, lastReloadError: null, lastCheckedAt: null };
    this.#options.onLoad(config);
    return config;
  }

  /**
   * Re-reads the file now. Concurrent calls share one read, and a call during a read queues one
   * more. Every outcome is reported to `onReloadResult`, except a safety poll that found the file
   * unchanged: that is not a reload, only a check that none was missed.
   */
  reload(trigger: ReloadTrigger = 'manual'): Promise<ReloadResult> {
    if (this.inline) return Promise.resolve('unchanged');
    if (this.#reloading) {
      // A poll queued behind an event stays an event: its outcome is worth counting.
      if (this.#again === undefined || this.#again === 'poll') this.#again = trigger;
      return this.#reloading;
    }
    this.#reloading = this.#reloadOnce().then((result) => {
      if (!(trigger === 'poll' && result === 'unchanged')) this.#options.onReloadResult?.(result);
      return result;
    });
    this.#reloading = this.#reloading.finally(() => {
      this.#reloading = undefined;
      const again = this.#again;
      this.#again = undefined;
      if (again !== undefined && !this.#closed) void this.reload(again);
    });
    return this.#reloading;
  }

  async #reloadOnce(): Promise<ReloadResult> {
    const { logger } = this.#options;
    const status = this.status;
    if (this.#watcher) await this.#followTarget();
    let read = await this.#read();
    status.lastCheckedAt = new Date();
    let config: LoadedConfig | undefined;
    let problem: string | undefined;
    for (let reads = 1; ; reads++) {
      if (read.text !== undefined && hashText(read.text) === status.hash) {
        if (status.lastReloadError) {
          // The file is back to the config that is serving: nothing is wrong any more.
          status.lastReloadError = null;
          logger.info({ path: this.path }, 'config file is valid again (unchanged from the serving config)');
        }
        return 'unchanged';
      }
      problem = read.error;
      if (read.text !== undefined) {
        try {
          config = parseConfig(read.text, this.path);
          break;
        } catch (error) {
          problem = (error as Error).message;
        }
      }
      // Empty, unparseable or missing: maybe a save caught half-way. Look again once it has had
      // time to finish, and keep looking while the file is still changing.
      if (reads >= MAX_SETTLE_READS || this.#closed) break;
      const settleMs = this.#options.settleMs ?? 100;
      logger.debug({ path: this.path, problem, settleMs }, 'config file looks unfinished; reading it again once the write has settled');
      await sleep(settleMs);
      const again = await this.#read();
      if (again.text === read.text && again.error === read.error) break;
      read = again;
    }
    if (!config) return this.#failed(problem!, status);
    this.#options.onLoad(config);
    status.hash = config.hash;
    status.loadedAt = new Date();
    status.lastReloadAt = status.loadedAt;
    status.lastReloadError = null;
    logger.info({ path: this.path, hash: config.hash }, 'config reloaded');
    return 'updated';
  }

  async #read(): Promise<{ text?: string; error?: string }> {
    try {
      return { text: await readFile(this.path, 'utf8') };
    } catch (error) {
      return { error: `cannot read the config file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
    }
  }

  #failed(message: string, status: ConfigStatus): ReloadResult {
    status.lastReloadAt = new Date();
    status.lastReloadError = message;
    this.#options.logger.error({ path: this.path, error: message }, 'config reload failed; the last good config keeps serving');
    return 'failed';
  }

  /**
   * Watches the file's directory rather than the file: editors replace the file by rename, and a
   * Kubernetes ConfigMap update swaps the `..data` symlink without touching `responses.yml` itself.
   */
  async watch(): Promise<void> {
    if (this.inline) return;
    const { debounceMs = 50, pollMs = 5000 } = this.#options;
    const name = basename(this.path);
    // chokidar is loaded here, not with this module: startServer starts watching once the port is
    // open, so loading it no longer delays the first answer (docs/benchmarks.md, S5).
    const { watch } = await import('chokidar');
    if (this.#closed) return; // closed while chokidar loaded: nothing to watch for
    const watcher = watch(dirname(this.path), { depth: 0, ignoreInitial: true, followSymlinks: false });
    watcher.on('all', (_event, changed) => {
      const changedName = basename(changed);
      if (changedName !== name && !changedName.startsWith('..') && changed !== this.#target) return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.reload('event'), debounceMs);
    });
    watcher.on('error', (error) => this.#options.logger.error({ err: error, path: this.path }, 'config watcher error'));
    this.#watcher = watcher;
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    await this.#followTarget();
    this.#poll = setInterval(() => void this.reload('poll'), pollMs);
    this.#poll.unref();
  }

  /**
   * When the config path is a symlink (a ConfigMap's `responses.yml → ..data/responses.yml`, or a
   * link to a file kept elsewhere), saving the file it points to raises no event in the config's
   * own directory, and the edit waited for the safety poll (5 s). The target's directory is watched
   * too, and re-resolved on every reload, as a `..data` swap moves the target.
   */
  async #followTarget(): Promise<void> {
    let target: string | undefined;
    try {
      target = await realpath(this.path);
    } catch {
      target = undefined; // missing for now: the directory watch sees it come back
    }
    // A reload still running when close() began: its watcher is closed, and chokidar throws on an
    // add to a closed watcher (that failed the shutdown, and the process exited 1 on SIGTERM).
    if (this.#closed) return;
    if (target === this.path) target = undefined;
    if (target === this.#target) return;
    const watched = (file: string | undefined) => (file !== undefined && dirname(file) !== dirname(this.path) ? dirname(file) : undefined);
    const before = watched(this.#target);
    const after = watched(target);
    this.#target = target;
    if (before !== after) {
      if (before) this.#watcher?.unwatch(before);
      if (after) this.#watcher?.add(after);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#poll);
    await this.#watcher?.close();
    await this.#reloading;
  }
}

/**
 * An inline config: the object a YAML file would have parsed to, checked by the same validation
 * (checkConfig) with the same wording, named `name` where a file's messages name the file and
 * line. The object is copied, so a later change to it by the caller changes nothing.
 */
export function parseInlineConfig(doc: unknown, name = INLINE_CONFIG_NAME): LoadedConfig {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    const got = doc === null ? 'null' : Array.isArray(doc) ? 'a list' : typeof doc;
    throw new ConfigError(`${name}: the config must be an object with "responses" (the shape of the YAML file), got ${got}`);
  }
  const problems = checkConfig(doc);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${name}: ${p.path || '(document)'} ${p.message}`).join('\n'));
  let copy: ConfigFile;
  try {
    copy = structuredClone(doc) as ConfigFile;
  } catch (error) {
    throw new ConfigError(`${name}: the config must be plain data (objects, arrays, strings, numbers, booleans): ${(error as Error).message}`);
  }
  return { doc: copy, hash: hashText(JSON.stringify(copy)) };
}
