import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ReloadResult } from '../config/source.ts';
import type { RuleCounts } from '../engine/store.ts';

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
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly responses: Counter<'provider' | 'endpoint' | 'matched'>;
  readonly streamChunks: Counter<'provider'>;
  readonly activeStreams: Gauge;
  readonly configReloads: Counter<'result'>;
  readonly lastReloadSuccess: Gauge;
  readonly adminChanges: Counter<'operation'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: 'mockllm_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'mockllm_http_request_duration_seconds',
      help: 'Time from request to the end of the response (whole stream included), by route template.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.responses = new Counter({
      name: 'mockllm_responses_total',
      help: 'Provider answers, by provider, endpoint and whether a rule matched (false: the default answer).',
      labelNames: ['provider', 'endpoint', 'matched'],
      registers,
    });
    this.streamChunks = new Counter({
      name: 'mockllm_stream_chunks_total',
      help: 'Content chunks written to SSE streams.',
      labelNames: ['provider'],
      registers,
    });
    this.activeStreams = new Gauge({
      name: 'mockllm_active_streams',
      help: 'SSE streams being written right now.',
      registers,
    });
    this.configReloads = new Counter({
      name: 'mockllm_config_reloads_total',
      help: 'Config reload attempts by result: updated, unchanged (same bytes) or failed (last good config kept).',
      labelNames: ['result'],
      registers,
    });
    new Gauge({
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
    new Gauge({
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
    this.lastReloadSuccess = new Gauge({
      name: 'mockllm_config_last_reload_success_timestamp_seconds',
      help: 'Unix time of the last successful config load.',
      registers,
    });
    this.adminChanges = new Counter({
      name: 'mockllm_admin_changes_total',
      help: 'Admin API changes to the rule set, by operation.',
      labelNames: ['operation'],
      registers,
    });
    for (const result of ['updated', 'unchanged', 'failed'] satisfies ReloadResult[]) this.configReloads.inc({ result }, 0);
  }

  configLoaded(at: Date): void {
    this.lastReloadSuccess.set(at.getTime() / 1000);
  }
}
