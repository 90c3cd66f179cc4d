import { createRequire } from 'node:module';
import type { collectDefaultMetrics as CollectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ReloadResult } from '../config/source.ts';
import type { RuleCounts } from '../engine/store.ts';
import { SEPARATOR, TalliedCounter, TalliedHistogram } from './tallies.ts';

// prom-client's index loads every part of it, the default process and Node.js metrics with
// OpenTelemetry's API among them (~100 ms of start-up CPU, docs/benchmarks.md S5). The metric
// classes are loaded from their own modules (prom-client's package has no exports map, so its
// lib/ files are its public layout: https://github.com/siimon/prom-client/blob/master/index.js);
// the default metrics a moment after start-up, or at the first scrape if that comes sooner.
const requirePromClient = createRequire(import.meta.url);
const prom = {
  Registry: requirePromClient('prom-client/lib/registry') as typeof Registry,
  Counter: requirePromClient('prom-client/lib/counter') as typeof Counter,
  Gauge: requirePromClient('prom-client/lib/gauge') as typeof Gauge,
};
const DEFAULT_METRICS_AFTER_MS = 1000;

export interface MetricsSources {
  ruleCounts(): RuleCounts;
  /** The shared state store's connection, when there is one (Redis); undefined: this process's memory. */
  stateBackend?(): { kind: string; connected: boolean } | undefined;
}

/**
 * Every metric of one server instance, in a registry of its own (so two servers in one process,
 * as in tests, never share counters). Labels are route templates and fixed vocabularies, never a
 * raw path or a prompt, so cardinality stays bounded whatever clients send.
 */
export class Metrics {
  readonly registry = new prom.Registry();
  #defaultMetrics = false;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: TalliedHistogram;
  readonly responses: Counter<'provider' | 'endpoint' | 'matched'>;
  readonly streamChunks: Counter<'provider'>;
  readonly activeStreams: Gauge;
  readonly configReloads: Counter<'result'>;
  readonly lastReloadSuccess: Gauge;
  readonly adminChanges: Counter<'operation'>;
  // The per-request counters above, as they are updated on the request path (see request()).
  readonly #requests: TalliedCounter;
  readonly #responses: TalliedCounter;
  readonly #streamChunks: TalliedCounter;

  /** process_* and nodejs_* metrics (prom-client's collectDefaultMetrics), registered once. */
  startDefaultMetrics(): void {
    if (this.#defaultMetrics) return;
    this.#defaultMetrics = true;
    // prom-client's CPU counters count from their registration, and that is not the process's
    // start here: they are seeded with the CPU used before, so they stay the process's totals as
    // Prometheus defines process_cpu_*_seconds_total (https://prometheus.io/docs/instrumenting/writing_clientlibs/#process-metrics).
    // Read before registering, so no microsecond is counted twice.
    const before = process.cpuUsage();
    (requirePromClient('prom-client/lib/defaultMetrics') as typeof CollectDefaultMetrics)({ register: this.registry });
    const counter = (name: string) => this.registry.getSingleMetric(name) as Counter | undefined;
    counter('process_cpu_user_seconds_total')?.inc(before.user / 1e6);
    counter('process_cpu_system_seconds_total')?.inc(before.system / 1e6);
    counter('process_cpu_seconds_total')?.inc((before.user + before.system) / 1e6);
  }

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const scrape = this.registry.metrics.bind(this.registry);
    this.registry.metrics = () => {
      this.startDefaultMetrics();
      return scrape();
    };
    setTimeout(() => this.startDefaultMetrics(), DEFAULT_METRICS_AFTER_MS).unref();
    this.httpRequests = new prom.Counter({
      name: 'mockllm_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new TalliedHistogram(
      'mockllm_http_request_duration_seconds',
      'Time from request to the end of the response (whole stream included), by route template.',
      ['method', 'route'],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      this.registry,
    );
    this.responses = new prom.Counter({
      name: 'mockllm_responses_total',
      help: 'Provider answers, by provider, endpoint and whether a rule matched (false: the default answer).',
      labelNames: ['provider', 'endpoint', 'matched'],
      registers,
    });
    this.streamChunks = new prom.Counter({
      name: 'mockllm_stream_chunks_total',
      help: 'Content chunks written to SSE streams.',
      labelNames: ['provider'],
      registers,
    });
    this.activeStreams = new prom.Gauge({
      name: 'mockllm_active_streams',
      help: 'SSE streams being written right now.',
      registers,
    });
    this.configReloads = new prom.Counter({
      name: 'mockllm_config_reloads_total',
      help: 'Config reload attempts by result: updated, unchanged (same bytes) or failed (last good config kept).',
      labelNames: ['result'],
      registers,
    });
    new prom.Gauge({
      name: 'mockllm_config_entries',
      help: 'Rules being served, by source (file or admin).',
      labelNames: ['source'],
      registers,
      collect() {
        const counts = sources.ruleCounts();
        this.set({ source: 'file' }, counts.file);
        this.set({ source: 'admin' }, counts.admin);
      },
    });
    new prom.Gauge({
      name: 'mockllm_state_backend_up',
      help: 'Whether the store of the admin overlay, sequences, journal and responses answers (1) or not (0, serving from the last known state), by backend (memory or redis).',
      labelNames: ['backend'],
      registers,
      collect() {
        const backend = sources.stateBackend?.();
        this.reset();
        this.set({ backend: backend?.kind ?? 'memory' }, backend === undefined || backend.connected ? 1 : 0);
      },
    });
    this.lastReloadSuccess = new prom.Gauge({
      name: 'mockllm_config_last_reload_success_timestamp_seconds',
      help: 'Unix time of the last successful config load.',
      registers,
    });
    this.adminChanges = new prom.Counter({
      name: 'mockllm_admin_changes_total',
      help: 'Admin API changes to the rule set, by operation.',
      labelNames: ['operation'],
      registers,
    });
    for (const result of ['updated', 'unchanged', 'failed'] satisfies ReloadResult[]) this.configReloads.inc({ result }, 0);
    this.#requests = new TalliedCounter(this.httpRequests, ['method', 'route', 'status']);
    this.#responses = new TalliedCounter(this.responses, ['provider', 'endpoint', 'matched']);
    this.#streamChunks = new TalliedCounter(this.streamChunks, ['provider']);
  }

  /**
   * One answered request: its count and duration by route template, and for a provider answer
   * (`provider` set) whether a rule matched and how many content chunks a stream carried. Counted
   * in tallies (tallies.ts) that prom-client reads when it collects.
   */
  request(method: string, route: string, status: number, seconds: number, provider?: string, matched?: boolean, chunks = 0): void {
    const methodRoute = method + SEPARATOR + route;
    this.#requests.add(methodRoute + SEPARATOR + status);
    this.httpDuration.observe(methodRoute, seconds);
    if (provider !== undefined) {
      this.#responses.add(provider + SEPARATOR + route + SEPARATOR + matched);
      if (chunks) this.#streamChunks.add(provider, chunks);
    }
  }

  configLoaded(at: Date): void {
    this.lastReloadSuccess.set(at.getTime() / 1000);
  }
}
