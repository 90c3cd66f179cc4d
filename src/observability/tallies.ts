// Per-request metrics counted in plain maps keyed by one string, handed to prom-client's registry
// when it collects (a scrape, /admin/stats). prom-client's own inc and observe check, copy and hash
// their labels object on every call: four such updates per request were ~4% of a non-stream
// request's CPU under load (docs/benchmarks.md, S1). Here a series is named by its label values
// joined with SEPARATOR, and its labels object is built once, when the series first appears; the
// exposition is prom-client's, byte for byte.
import type { Counter, Registry } from 'prom-client';

type Labels = Record<string, string>;

/** Joins label values into a series key; no label value here holds it (methods, route templates, fixed vocabularies). */
export const SEPARATOR = '\u0000';

const labelsOf = (names: readonly string[], key: string): Labels => {
  const values = key.split(SEPARATOR);
  return Object.fromEntries(names.map((name, i) => [name, values[i] ?? '']));
};

/**
 * A prom-client counter whose increments wait in a map until it collects. Nothing is lost or
 * counted twice: every read of the counter (the registry's, `get()`) collects first.
 */
export class TalliedCounter {
  readonly #series = new Map<string, { labels: Labels; pending: number }>();
  readonly labelNames: readonly string[];

  constructor(counter: Counter, labelNames: readonly string[]) {
    this.labelNames = labelNames;
    const series = this.#series;
    // prom-client calls `collect` at the start of every read of the metric.
    (counter as unknown as { collect: () => void }).collect = () => {
      for (const entry of series.values()) {
        if (entry.pending === 0) continue;
        counter.inc(entry.labels, entry.pending);
        entry.pending = 0;
      }
    };
  }

  /** Adds `by` to the series whose label values, in `labelNames` order, `key` joins. */
  add(key: string, by = 1): void {
    const entry = this.#series.get(key);
    if (entry) entry.pending += by;
    else this.#series.set(key, { labels: labelsOf(this.labelNames, key), pending: by });
  }
}

interface HistogramSeries {
  labels: Labels;
  /** Observations per bucket, not cumulative; one more slot for those above the last bound. */
  counts: number[];
  sum: number;
  count: number;
}

interface Sample {
  labels: Record<string, string | number>;
  sharedLabels?: Labels;
  value: number;
  metricName: string;
}

/**
 * A histogram kept as bucket counts per series, registered as a metric of its own: its exposition
 * is what prom-client's Histogram writes for the same observations (tested side by side).
 */
export class TalliedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, HistogramSeries>();
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[], registry: Registry) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    this.buckets = buckets;
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** Observes `value` in the series whose label values, in `labelNames` order, `key` joins. */
  observe(key: string, value: number): void {
    let series = this.#series.get(key);
    if (!series) {
      series = { labels: labelsOf(this.labelNames, key), counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    let bucket = 0;
    while (bucket < this.buckets.length && value > this.buckets[bucket]!) bucket++;
    series.counts[bucket]!++;
    series.sum += value;
    series.count++;
  }

  reset(): void {
    this.#series.clear();
  }

  /** The samples as the registry writes them: `le` as the sample's label, the series' labels shared. */
  getForPromString(): { name: string; help: string; type: string; aggregator: string; values: Sample[] } {
    const values: Sample[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const series of this.#series.values()) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += series.counts[i]!;
        values.push({ labels: { le: bound }, sharedLabels: series.labels, value: cumulative, metricName: bucketName });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: series.labels, value: series.count, metricName: bucketName });
      values.push({ labels: {}, sharedLabels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: series.labels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The samples with every label on the sample (prom-client's `get()` shape, read by /admin/stats). */
  get(): { name: string; help: string; type: string; aggregator: string; values: Sample[] } {
    const data = this.getForPromString();
    data.values = data.values.map(({ labels, sharedLabels, value, metricName }) => ({ labels: { ...sharedLabels, ...labels }, value, metricName }));
    return data;
  }
}
