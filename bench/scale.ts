// S4: config scale. Load and reload cost of large configs measured in-process (the same calls the
// server makes: parseConfig → baselineFromConfig → RuleStore), rule lookup cost by size, and the
// same through a running server: write-to-served reload time and request latency at 100 vs 100,000
// entries.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { dirname, join } from 'node:path';
import autocannon from 'autocannon';
import { parseConfig } from '../src/config/load.ts';
import type { Conversation } from '../src/engine/conversation.ts';
import { findRule } from '../src/engine/match.ts';
import { baselineFromConfig } from '../src/engine/rules.ts';
import type { RuleStore } from '../src/engine/store.ts';
import { ruleStoreInMemory } from '../src/state/memory.ts';
import { spawnMock } from './children.ts';

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** A config of `entries` exact prompts in the `responses` map (plus `regexRules` regex rules). */
export function scaleConfig(entries: number, options: { regexRules?: number; variant?: string } = {}): string {
  const lines = ['responses:'];
  for (let i = 0; i < entries; i++) lines.push(`  "bench entry ${i}": "Answer ${i}${options.variant ?? ''}: a short canned reply from the scale test."`);
  if (options.regexRules) {
    lines.push('rules:');
    for (let i = 0; i < options.regexRules; i++) {
      lines.push(`  - match: {regex: "^bench regex ${i} [a-z]+$"}`, `    response: "Regex answer ${i}${options.variant ?? ''}."`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function conversation(prompt: string): Conversation {
  return {
    provider: 'openai',
    endpoint: '/v1/chat/completions',
    model: 'gpt-4o-mini',
    system: '',
    messages: [{ role: 'user', text: prompt }],
    prompt,
    tools: [],
    toolResult: undefined,
    stream: false,
    header: () => undefined,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const value = fn();
  return [value, performance.now() - start];
}

export interface ScaleRow {
  name: string;
  entries: number;
  regexRules: number;
  configBytes: number;
  /** parseConfig: YAML + schema + semantic checks. */
  parseMs: number;
  /** baselineFromConfig: rules compiled. */
  compileMs: number;
  /** new RuleStore: precedence sort and indexes. */
  indexMs: number;
  loadMs: number;
  /** parse + compile + replaceBaseline on a store already serving a config of the same size. */
  reloadMs: number;
  /** findRule for a prompt that matches (an exact entry in the middle, or the last regex rule). */
  lookupHitUs: number;
  /** findRule for a prompt that matches nothing. */
  lookupMissUs: number;
}

function lookupUs(store: RuleStore, prompt: string, iterations: number): number {
  const convo = conversation(prompt);
  const rules = store.current;
  for (let i = 0; i < 1000; i++) findRule(rules, convo);
  const start = performance.now();
  for (let i = 0; i < iterations; i++) findRule(rules, convo);
  return ((performance.now() - start) * 1000) / iterations;
}

function measure(name: string, entries: number, regexRules: number, repeats: number): ScaleRow {
  const text = scaleConfig(entries, { regexRules });
  const textB = scaleConfig(entries, { regexRules, variant: ' (edited)' });
  const parse: number[] = [];
  const compile: number[] = [];
  const index: number[] = [];
  const reload: number[] = [];
  let store: RuleStore | undefined;
  for (let r = 0; r < repeats; r++) {
    const [loaded, parseMs] = time(() => parseConfig(text, 'scale.yml'));
    const [baseline, compileMs] = time(() => baselineFromConfig(loaded.doc));
    const [built, indexMs] = time(() => ruleStoreInMemory(baseline));
    parse.push(parseMs);
    compile.push(compileMs);
    index.push(indexMs);
    const [, reloadMs] = time(() => built.replaceBaseline(baselineFromConfig(parseConfig(r % 2 ? text : textB, 'scale.yml').doc)));
    reload.push(reloadMs);
    store = built;
  }
  const hit = regexRules > 0 ? `bench regex ${regexRules - 1} hit` : `bench entry ${Math.floor(entries / 2)}`;
  const iterations = regexRules > 0 ? 2000 : 100_000;
  const row = {
    name,
    entries,
    regexRules,
    configBytes: Buffer.byteLength(text),
    parseMs: round(median(parse), 1),
    compileMs: round(median(compile), 1),
    indexMs: round(median(index), 1),
    loadMs: round(median(parse) + median(compile) + median(index), 1),
    reloadMs: round(median(reload), 1),
    lookupHitUs: round(lookupUs(store!, hit, iterations), 3),
    lookupMissUs: round(lookupUs(store!, 'a prompt no rule has', iterations), 3),
  };
  return row;
}

export interface ServerScale {
  /**
   * Exact-match requests at each size: throughput with 10 connections, and the latency of one
   * request at a time (µs, so that a difference of a map lookup could show).
   */
  latency: { entries: number; requestsPerS: number; p50Us: number; p99Us: number; rssMb: number }[];
  /** File written (temp + rename) → first request answered from it, through the watcher. */
  reloads: { entries: number; writeToServedMs: number }[];
}

/** One request at a time on one keep-alive connection: each request's latency, in µs. */
async function sequentialLatency(url: string, prompt: string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] });
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const req = request(`${url}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`S4: status ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  for (let i = 0; i < 200; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push((await once()) * 1000);
  agent.destroy();
  return times;
}

function percentiles(samples: number[]): { p50Us: number; p99Us: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { p50Us: at(50), p99Us: at(99) };
}

async function exactLoad(url: string, prompt: string, durationS: number) {
  const result = await autocannon({
    url: `${url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] }),
    connections: 10,
    duration: durationS,
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`S4 load: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { requestsPerS: Math.round(result.requests.total / result.duration) };
}

async function ask(url: string, prompt: string): Promise<string> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] }),
  });
  const body = (await response.json()) as { choices: { message: { content: string } }[] };
  return body.choices[0]!.message.content;
}

/** Writes the file as editors and the kubelet do (temp + rename), then asks until the new answer is served. */
async function reloadThroughServer(url: string, path: string, text: string, probe: string, expected: string): Promise<number> {
  const temp = `${path}.tmp`;
  await writeFile(temp, text);
  const start = performance.now();
  await rename(temp, path);
  const deadline = start + 60_000;
  while (performance.now() < deadline) {
    if ((await ask(url, probe)) === expected) return round(performance.now() - start, 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`S4: ${probe} not served within 60 s of the write`);
}

export async function runScale(dir: string, options: { quick: boolean; sizes: number[]; loadDurationS: number }) {
  const rows: ScaleRow[] = [];
  for (const entries of options.sizes) rows.push(measure(`${entries.toLocaleString('en-US')} exact`, entries, 0, entries >= 100_000 ? 3 : 5));
  rows.push(measure('1,000 regex', 0, 1000, 5));

  // The same through running servers, as a user sees it: one keeps 100 entries, the other is
  // reloaded to 10,000 and then 100,000 by writing its file; then both are measured in
  // alternating windows (A-B-B-A, twice), so that the machine's load weighs on both alike.
  const big = options.sizes[options.sizes.length - 1]!;
  const smallPath = join(dir, 'scale-small', 'scale.yml');
  const bigPath = join(dir, 'scale-big', 'scale.yml');
  await mkdir(dirname(smallPath), { recursive: true });
  await mkdir(dirname(bigPath), { recursive: true });
  await writeFile(smallPath, scaleConfig(100));
  await writeFile(bigPath, scaleConfig(100));
  const small = await spawnMock(smallPath, { stdout: '/dev/null' });
  const large = await spawnMock(bigPath, { stdout: '/dev/null' });
  const server_: ServerScale = { latency: [], reloads: [] };
  try {
    for (const entries of [10_000, big]) {
      const last = entries - 1;
      const ms = await reloadThroughServer(large.url, bigPath, scaleConfig(entries), `bench entry ${last}`, `Answer ${last}: a short canned reply from the scale test.`);
      server_.reloads.push({ entries, writeToServedMs: ms });
    }
    const probe = 'bench entry 50';
    const sides = [
      { entries: 100, server: small, samples: [] as number[], requests: 0, seconds: 0 },
      { entries: big, server: large, samples: [] as number[], requests: 0, seconds: 0 },
    ];
    for (const side of sides) await exactLoad(side.server.url, probe, 1);
    const count = options.quick ? 500 : 1500;
    for (let round = 0; round < 2; round++) {
      for (const side of [sides[0]!, sides[1]!, sides[1]!, sides[0]!]) {
        const load = await exactLoad(side.server.url, probe, options.loadDurationS / 4);
        side.requests += load.requestsPerS * (options.loadDurationS / 4);
        side.seconds += options.loadDurationS / 4;
        side.samples.push(...(await sequentialLatency(side.server.url, probe, count)));
      }
    }
    for (const side of sides) {
      server_.latency.push({ entries: side.entries, requestsPerS: Math.round(side.requests / side.seconds), ...percentiles(side.samples), rssMb: (await side.server.stats()).rssMb });
    }
  } finally {
    await Promise.all([small.stop(), large.stop()]);
  }
  return { inProcess: rows, server: server_ };
}
