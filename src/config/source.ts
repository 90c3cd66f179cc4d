import { readFile, realpath } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { ConfigError, hashText, parseConfig, type LoadedConfig } from './load.ts';
import type { Logger } from '../observability/logger.ts';

export type ReloadResult = 'updated' | 'unchanged' | 'failed';

export interface ConfigStatus {
  path: string;
  hash: string;
  loadedAt: Date;
  lastReloadAt: Date | null;
  lastReloadError: string | null;
}

export interface ConfigSourceOptions {
  path: string;
  logger: Logger;
  /** Called with every new valid config; the caller swaps it in. */
  onLoad: (config: LoadedConfig) => void;
  /** Told the outcome of every reload attempt (metrics count them). */
  onReloadResult?: (result: ReloadResult) => void;
  /** Coalesces the burst of events one save makes (editors, the kubelet's symlink swap). */
  debounceMs?: number;
  /** A periodic re-read, so a change that no file event reports still lands. */
  pollMs?: number;
}

/**
 * The config file on disk: the first load, and every reload after it. A reload reads the file,
 * skips it if its hash is unchanged, and otherwise parses and validates it before handing it on;
 * a file that is missing or invalid is logged and the last good config keeps serving.
 */
export class ConfigSource {
  readonly path: string;
  #options: ConfigSourceOptions;
  #status: ConfigStatus | undefined;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #reloading: Promise<ReloadResult> | undefined;
  #again = false;
  /** The file the config path resolves to, when that is a symlink into another directory. */
  #target: string | undefined;

  constructor(options: ConfigSourceOptions) {
    this.#options = options;
    this.path = resolve(options.path);
  }

  get status(): ConfigStatus {
    if (!this.#status) throw new Error('config not loaded yet');
    return this.#status;
  }

  /** The start-up load: synchronous, and fatal on any problem (a ConfigError names it). */
  loadInitial(): LoadedConfig {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      throw new ConfigError(`${this.path}: cannot read the config file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const config = parseConfig(text, this.path);
    this.#status = { path: this.path, hash: config.hash, loadedAt: new Date(), lastReloadAt: null, lastReloadError: null };
    this.#options.onLoad(config);
    return config;
  }

  /** Re-reads the file now. Concurrent calls share one read, and a call during a read queues one more. */
  reload(): Promise<ReloadResult> {
    if (this.#reloading) {
      this.#again = true;
      return this.#reloading;
    }
    this.#reloading = this.#reloadOnce().then((result) => {
      this.#options.onReloadResult?.(result);
      return result;
    });
    this.#reloading = this.#reloading.finally(() => {
      this.#reloading = undefined;
      if (this.#again) {
        this.#again = false;
        void this.reload();
      }
    });
    return this.#reloading;
  }

  async #reloadOnce(): Promise<ReloadResult> {
    const { logger } = this.#options;
    const status = this.status;
    if (this.#watcher) await this.#followTarget();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      return this.#failed(`cannot read the config file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, status);
    }
    if (hashText(text) === status.hash) {
      if (status.lastReloadError) {
        // The file is back to the config that is serving: nothing is wrong any more.
        status.lastReloadError = null;
        logger.info({ path: this.path }, 'config file is valid again (unchanged from the serving config)');
      }
      return 'unchanged';
    }
    let config: LoadedConfig;
    try {
      config = parseConfig(text, this.path);
    } catch (error) {
      return this.#failed((error as Error).message, status);
    }
    this.#options.onLoad(config);
    status.hash = config.hash;
    status.loadedAt = new Date();
    status.lastReloadAt = status.loadedAt;
    status.lastReloadError = null;
    logger.info({ path: this.path, hash: config.hash }, 'config reloaded');
    return 'updated';
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
    const { debounceMs = 50, pollMs = 5000 } = this.#options;
    const name = basename(this.path);
    const watcher = watch(dirname(this.path), { depth: 0, ignoreInitial: true, followSymlinks: false });
    watcher.on('all', (_event, changed) => {
      const changedName = basename(changed);
      if (changedName !== name && !changedName.startsWith('..') && changed !== this.#target) return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.reload(), debounceMs);
    });
    watcher.on('error', (error) => this.#options.logger.error({ err: error, path: this.path }, 'config watcher error'));
    this.#watcher = watcher;
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    await this.#followTarget();
    this.#poll = setInterval(() => void this.reload(), pollMs);
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
    clearTimeout(this.#timer);
    clearInterval(this.#poll);
    await this.#watcher?.close();
    await this.#reloading;
  }
}
