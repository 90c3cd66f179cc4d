// The bench's outputs: the console/markdown table, bench/results/latest.json, the SVG chart and
// the table in docs/benchmarks.md (between its bench:table markers).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Row {
  scenario: string;
  metric: string;
  mockllm: number | string;
  baseline?: number | string;
  /** The peer, @copilotkit/aimock, measured in the same run. */
  peer?: number | string;
  /** mockllm ÷ baseline for the row's headline figure. */
  ratio?: number;
  /** mockllm ÷ aimock for the row's headline figure. */
  peerRatio?: number;
  target?: string;
  pass?: boolean;
  note?: string;
  /** Which chart panel draws this row. */
  chart?: 'S1' | 'S2' | 'S3';
  chartValues?: { configured: number; mock: { p50: number; p99: number }; baseline: { p50: number; p99: number } };
}

export interface Report {
  meta: {
    date: string;
    node: string;
    cpu: string;
    cores: number;
    commit: string;
    quick: boolean;
    totalSeconds: number;
    loadAverage: { start: number; end: number };
    [key: string]: unknown;
  };
  rows: Row[];
  results: Record<string, unknown>;
}

const cell = (value: unknown) => (value === undefined ? '' : String(value));

export function markdownTable(rows: Row[]): string {
  const header =
    '| Scenario | Metric | mockllm | bare node:http | aimock | ÷ bare node | ÷ aimock | target | met |\n|---|---|---:|---:|---:|---:|---:|---|:-:|';
  const lines = rows.map(
    (r) =>
      `| ${r.scenario} | ${r.metric} | ${cell(r.mockllm)} | ${cell(r.baseline)} | ${cell(r.peer)} | ${cell(r.ratio)} | ${cell(r.peerRatio)} | ${cell(r.target)} | ${r.pass === undefined ? '' : r.pass ? 'yes' : '**no**'} |`,
  );
  return [header, ...lines].join('\n');
}

function consoleTable(rows: Row[]): string {
  const table = rows.map((r) => [
    r.scenario,
    r.metric,
    cell(r.mockllm),
    cell(r.baseline),
    cell(r.peer),
    cell(r.ratio),
    cell(r.peerRatio),
    cell(r.target),
    r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS',
  ]);
  const head = ['scenario', 'metric', 'mockllm', 'bare node', 'aimock', '÷ bare', '÷ aimock', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 6 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...table.map(line)].join('\n');
}

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** S1/S2 throughput ratios against their targets, and S3's measured intervals against the configured one. */
export function chartSvg(report: Report): string {
  const width = 760;
  const parts: string[] = [];
  const text = (x: number, y: number, content: string, attrs = '') => parts.push(`<text x="${x}" y="${y}" ${attrs}>${esc(content)}</text>`);
  let y = 30;
  text(20, y, `mockllm benchmark — ${report.meta.cpu}, ${report.meta.cores} cores, Node ${report.meta.node}, ${report.meta.date.slice(0, 10)}`, 'font-weight="bold" font-size="14"');

  // Panel 1: throughput ratios.
  y += 30;
  text(20, y, 'Throughput as a fraction of the bare node:http server (same run; 1.0 = as fast)', 'font-size="13"');
  const bars = report.rows.filter((r) => (r.chart === 'S1' || r.chart === 'S2') && typeof r.ratio === 'number');
  const x0 = 260;
  const scaleMax = Math.max(1.2, ...bars.map((b) => b.ratio!));
  const barWidth = width - x0 - 40;
  const px = (v: number) => x0 + (v / scaleMax) * barWidth;
  y += 15;
  const panelTop = y;
  for (const bar of bars) {
    const target = bar.chart === 'S2' ? 0.8 : 0.6;
    const colour = bar.ratio! >= target ? '#2e7d32' : '#c62828';
    text(20, y + 17, `${bar.scenario} (${bar.metric})`, 'font-size="12"');
    parts.push(`<rect x="${x0}" y="${y + 4}" width="${(px(bar.ratio!) - x0).toFixed(1)}" height="18" fill="${colour}" opacity="0.85"/>`);
    text(px(bar.ratio!) + 6, y + 17, bar.ratio!.toFixed(2), 'font-size="12"');
    parts.push(`<line x1="${px(target)}" y1="${y}" x2="${px(target)}" y2="${y + 26}" stroke="#000" stroke-width="2" stroke-dasharray="4 3"/>`);
    text(px(target) + 4, y + 36, `target ${target}`, 'font-size="10" fill="#333"');
    y += 44;
  }
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${px(tick)}" y1="${panelTop}" x2="${px(tick)}" y2="${y}" stroke="#ddd"/>`);
    text(px(tick) - 8, y + 14, tick.toFixed(2), 'font-size="10" fill="#555"');
  }

  // Panel 2: S3 interval accuracy.
  const s3 = report.rows.find((r) => r.chart === 'S3')?.chartValues;
  if (s3) {
    y += 45;
    text(20, y, `S3: time between chunks at the client, ${s3.configured} ms configured (target p99 ≤ ${s3.configured + 25} ms)`, 'font-size="13"');
    y += 15;
    const max = Math.max(s3.configured + 40, s3.mock.p99, s3.baseline.p99) * 1.1;
    const msPx = (v: number) => x0 + (v / max) * barWidth;
    const top = y;
    for (const [label, value, colour] of [
      ['mockllm p50', s3.mock.p50, '#1565c0'],
      ['mockllm p99', s3.mock.p99, s3.mock.p99 <= s3.configured + 25 ? '#2e7d32' : '#c62828'],
      ['bare node:http p50', s3.baseline.p50, '#90a4ae'],
      ['bare node:http p99', s3.baseline.p99, '#90a4ae'],
    ] as const) {
      text(20, y + 17, label, 'font-size="12"');
      parts.push(`<rect x="${x0}" y="${y + 4}" width="${(msPx(value) - x0).toFixed(1)}" height="18" fill="${colour}" opacity="0.85"/>`);
      text(msPx(value) + 6, y + 17, `${value} ms`, 'font-size="12"');
      y += 28;
    }
    for (const [value, label, labelY, anchor] of [
      [s3.configured, `configured ${s3.configured} ms`, y + 14, 'end'],
      [s3.configured + 25, `p99 limit ${s3.configured + 25} ms`, y + 14, 'start'],
    ] as const) {
      parts.push(`<line x1="${msPx(value)}" y1="${top}" x2="${msPx(value)}" y2="${y}" stroke="#000" stroke-width="2" stroke-dasharray="4 3"/>`);
      text(msPx(value) + (anchor === 'end' ? -4 : 4), labelY, label, `font-size="10" fill="#333" text-anchor="${anchor}"`);
    }
    y += 20;
  }
  const height = y + 20;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`
  );
}

export function buildReport(report: Report, options: { root: string; writeDocs: boolean; log: (message: string) => void }): void {
  const { root, log } = options;
  process.stdout.write(`\n${consoleTable(report.rows)}\n\n`);
  const full = options.writeDocs;
  const jsonPath = join(root, full ? 'bench/results/latest.json' : 'bench/results/partial.json.tmp');
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${jsonPath}`);
  if (!full) return;
  writeFileSync(join(root, 'docs/benchmarks-chart.svg'), chartSvg(report));
  log('wrote docs/benchmarks-chart.svg');
  const docs = join(root, 'docs/benchmarks.md');
  if (existsSync(docs)) {
    const text = readFileSync(docs, 'utf8');
    const start = '<!-- bench:table:start -->';
    const end = '<!-- bench:table:end -->';
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from >= 0 && to > from) {
      const m = report.meta;
      const table =
        `${start}\nMeasured ${m.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cores} × ${m.cpu}, Node ${m.node}, commit ${m.commit}; ` +
        `whole run ${m.totalSeconds} s; load average ${m.loadAverage.start} at the start, ${m.loadAverage.end} at the end.\n\n${markdownTable(report.rows)}\n`;
      writeFileSync(docs, text.slice(0, from) + table + text.slice(to));
      log('updated the table in docs/benchmarks.md');
    }
  }
}
