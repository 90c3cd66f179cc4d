// Soak test: N minutes (default 5) of mixed traffic against a mockllm child process (streams,
// non-stream answers, aborted streams, admin edits, config reloads including broken files), with
// the child's RSS, heap, active handles and event-loop delay sampled every second.
//
//   npm run soak                   # 5 minutes
//   node bench/soak.ts --minutes 1 --warmup-seconds 20
//
// Writes bench/results/soak.csv (one row per second), bench/results/soak-summary.json and the chart
// docs/reliability-soak.svg. Exits 0 when no request failed, the server logged no error, and RSS
// after warm-up grew by less than 10%.
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(REPO, 'bench', 'results');
const CSV_PATH = join(RESULTS, 'soak.csv');
const SUMMARY_PATH = join(RESULTS, 'soak-summary.json');
const SVG_PATH = join(REPO, 'docs', 'reliability-soak.svg');

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    'warmup-seconds': { type: 'string' },
    'max-growth': { type: 'string', default: '0.10' },
  },
});
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, got ${values.minutes}`);
const durationMs = Math.round(minutes * 60_000);
const warmupSeconds = Number(values['warmup-seconds'] ?? Math.min(60, Math.round((durationMs / 1000) * 0.2)));
const maxGrowth = Number(values['max-growth']);

// --- config versions: every prompt's answer names its version, so a mixed answer is visible ------

const PROMPTS = ['alpha', 'bravo', 'charlie', 'delta'];
const answerOf = (version: number, prompt: string) => `v${version}: the answer to ${prompt}`;
const LONG = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
const BIG = 'x'.repeat(20) + ' ' + Array.from({ length: 4000 }, (_, i) => `w${i % 97}`).join(' ');

function configText(version: number): string {
  const lines = ['responses:'];
  for (const prompt of PROMPTS) lines.push(`  ${JSON.stringify(prompt)}: ${JSON.stringify(answerOf(version, prompt))}`);
  lines.push(
    'rules:',
    '  - id: slow-stream',
    '    match: {prompt: "stream me"}',
    `    response: {text: ${JSON.stringify(LONG)}, chunking: word, latency: {chunk_delay_ms: 3}}`,
    '  - id: big',
    '    match: {prompt: "big answer"}',
    `    response: {text: ${JSON.stringify(BIG)}, chunking: word}`,
    '  - id: weather',
    '    match: {contains: "weather"}',
    '    response: {text: "Looking.", tool_calls: [{name: get_weather, arguments: {city: Paris}}]}',
    '  - id: limited',
    '    match: {prompt: "rate limit me"}',
    '    response: {error: {status: 429, retry_after: 0.01}}',
    'defaults:',
    `  unknown_response: ${JSON.stringify(`v${version}: unknown`)}`,
    'settings:',
    '  journal_size: 500',
  );
  return lines.join('\n') + '\n';
}

// --- the child -------------------------------------------------------------------------------

interface Sample {
  elapsedMs: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  handles: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  errorLines: number;
  reloadFailures: number;
}

interface Row extends Sample {
  second: number;
  requests: number;
  errors: number;
}

const counters = { requests: 0, errors: 0, streams: 0, nonStream: 0, aborted: 0, admin: 0, rateLimited: 0, toolCalls: 0, journal: 0, scrapes: 0, reloads: 0, brokenReloads: 0, deletedConfig: 0 };
const errorSamples: string[] = [];
const rows: Row[] = [];
let stopping = false;

function fail(what: string): void {
  counters.errors++;
  if (errorSamples.length < 30) errorSamples.push(`${new Date().toISOString()} ${what}`);
}

async function startChild(configPath: string, logPath: string): Promise<{ child: ChildProcess; url: string }> {
  const out = openSync(logPath, 'w');
  const child = fork(join(REPO, 'bench', 'soak-server.ts'), [configPath], { stdio: ['ignore', out, 'inherit', 'ipc'] });
  closeSync(out);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the soak server was not ready within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`the soak server exited with ${code} before it was ready`)));
    child.on('message', (message: { type: string; url?: string }) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.url!);
      }
    });
  });
  child.removeAllListeners('exit');
  child.on('message', (message: { type: string } & Sample) => {
    if (message.type !== 'sample') return;
    rows.push({ ...message, second: Math.round(message.elapsedMs / 1000), requests: counters.requests, errors: counters.errors });
  });
  child.on('exit', (code, signal) => {
    if (!stopping) fail(`the server process exited during the soak (code ${code}, signal ${signal})`);
  });
  return { child, url };
}

// --- traffic ---------------------------------------------------------------------------------

const JSON_HEADERS = { 'content-type': 'application/json' };
const ANTHROPIC_HEADERS = { ...JSON_HEADERS, 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-soak' };
const chatBody = (content: string, stream: boolean) => JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content }] });
const messagesBody = (content: string, stream: boolean) => JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1024, stream, messages: [{ role: 'user', content }] });

/** One request with a deadline: a hang counts as an error like any other. */
async function call(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response | undefined> {
  counters.requests++;
  try {
    return await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(init.timeoutMs ?? 30_000) });
  } catch (error) {
    fail(`${init.method ?? 'GET'} ${url}: ${(error as Error).message}`);
    return undefined;
  }
}

async function nonStreamWorker(base: string, index: number): Promise<void> {
  for (let i = 0; !stopping; i++) {
    const prompt = PROMPTS[(i + index) % PROMPTS.length]!;
    const anthropic = i % 3 === 2;
    const res = anthropic
      ? await call(`${base}/v1/messages`, { method: 'POST', headers: ANTHROPIC_HEADERS, body: messagesBody(prompt, false) })
      : await call(`${base}/v1/chat/completions`, { method: 'POST', headers: JSON_HEADERS, body: chatBody(prompt, false) });
    if (!res) continue;
    const text = await res.text();
    if (res.status !== 200) {
      fail(`non-stream ${prompt}: ${res.status} ${text.slice(0, 200)}`);
      continue;
    }
    const body = JSON.parse(text) as { choices?: { message: { content: string } }[]; content?: { text: string }[] };
    const answer = anthropic ? body.content![0]!.text : body.choices![0]!.message.content;
    if (answer !== answerOf(1, prompt) && answer !== answerOf(2, prompt)) fail(`non-stream ${prompt}: answer from no config version: ${answer}`);
    counters.nonStream++;
    if (i % 50 === 0) {
      const limited = await call(`${base}/v1/chat/completions`, { method: 'POST', headers: JSON_HEADERS, body: chatBody('rate limit me', false) });
      if (limited) {
        await limited.text();
        if (limited.status === 429) counters.rateLimited++;
        else fail(`rate limit rule: ${limited.status}`);
      }
    }
    await sleep(4);
  }
}

async function readAll(res: Response): Promise<string> {
  return res.text();
}

async function streamWorker(base: string, index: number): Promise<void> {
  for (let i = 0; !stopping; i++) {
    const anthropic = (i + index) % 2 === 1;
    const prompt = i % 5 === 0 ? 'big answer' : i % 5 === 1 ? 'weather today?' : 'stream me';
    const res = anthropic
      ? await call(`${base}/v1/messages`, { method: 'POST', headers: ANTHROPIC_HEADERS, body: messagesBody(prompt, true) })
      : await call(`${base}/v1/chat/completions`, { method: 'POST', headers: JSON_HEADERS, body: chatBody(prompt, true) });
    if (!res) continue;
    let text: string;
    try {
      text = await readAll(res);
    } catch (error) {
      fail(`stream ${prompt}: ${(error as Error).message}`);
      continue;
    }
    const complete = anthropic ? text.includes('event: message_stop\n') : text.endsWith('data: [DONE]\n\n');
    if (res.status !== 200 || !complete) fail(`stream ${prompt}: ${res.status}, incomplete stream ending ${JSON.stringify(text.slice(-80))}`);
    else if (prompt === 'weather today?') counters.toolCalls++;
    counters.streams++;
  }
}

async function abortWorker(base: string): Promise<void> {
  for (let i = 0; !stopping; i++) {
    const controller = new AbortController();
    const anthropic = i % 2 === 1;
    const prompt = i % 3 === 0 ? 'big answer' : 'stream me';
    const res = await call(anthropic ? `${base}/v1/messages` : `${base}/v1/chat/completions`, {
      method: 'POST',
      headers: anthropic ? ANTHROPIC_HEADERS : JSON_HEADERS,
      body: anthropic ? messagesBody(prompt, true) : chatBody(prompt, true),
      signal: controller.signal,
    });
    if (!res) continue;
    if (res.status !== 200) {
      fail(`abort worker: ${res.status}`);
      continue;
    }
    const reader = res.body!.getReader();
    // Read a few chunks (1 to 4), then hang up mid-stream.
    for (let n = 0; n < 1 + (i % 4); n++) if ((await reader.read()).done) break;
    controller.abort();
    await reader.closed.catch(() => undefined);
    counters.aborted++;
    await sleep(20);
  }
}

async function adminWorker(base: string): Promise<void> {
  for (let i = 0; !stopping; i++) {
    const id = `soak-${i}`;
    const created = await call(`${base}/admin/responses`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ id, match: { prompt: `admin ${i}` }, response: `admin answer ${i}` }) });
    if (!created || created.status !== 201) {
      fail(`admin create ${id}: ${created?.status} ${await created?.text()}`);
      continue;
    }
    await created.text();
    const asked = await call(`${base}/v1/chat/completions`, { method: 'POST', headers: JSON_HEADERS, body: chatBody(`admin ${i}`, false) });
    if (asked) {
      const body = (await asked.json()) as { choices: { message: { content: string } }[] };
      if (body.choices?.[0]?.message.content !== `admin answer ${i}`) fail(`admin rule ${id} not answering: ${JSON.stringify(body).slice(0, 200)}`);
    }
    const replaced = await call(`${base}/admin/responses/${id}`, { method: 'PUT', headers: JSON_HEADERS, body: JSON.stringify({ match: { prompt: `admin ${i}` }, response: `replaced ${i}` }) });
    if (!replaced || replaced.status !== 200) fail(`admin replace ${id}: ${replaced?.status}`);
    await replaced?.text();
    const deleted = await call(`${base}/admin/responses/${id}`, { method: 'DELETE' });
    if (!deleted || deleted.status !== 204) fail(`admin delete ${id}: ${deleted?.status}`);
    await deleted?.text();
    const journal = await call(`${base}/admin/requests?limit=20`);
    if (!journal || journal.status !== 200) fail(`journal: ${journal?.status}`);
    else counters.journal++;
    await journal?.text();
    counters.admin++;
    await sleep(150);
  }
}

async function scrapeWorker(base: string): Promise<void> {
  while (!stopping) {
    for (const path of ['/metrics', '/readyz', '/healthz']) {
      const res = await call(`${base}${path}`);
      if (!res || res.status !== 200) fail(`${path}: ${res?.status}`);
      await res?.text();
    }
    counters.scrapes++;
    await sleep(2000);
  }
}

/** Every 10 s a new version; every third time a broken file first, every fifth a deleted one. */
async function reloadWorker(dir: string, configPath: string): Promise<void> {
  for (let cycle = 1; !stopping; cycle++) {
    await sleep(10_000);
    if (stopping) break;
    const version = cycle % 2 === 0 ? 1 : 2;
    if (cycle % 3 === 0) {
      await writeFile(configPath, 'responses:\n  "alpha": [unclosed\n');
      counters.brokenReloads++;
      await sleep(1000);
    } else if (cycle % 5 === 0) {
      await rm(configPath, { force: true });
      counters.deletedConfig++;
      await sleep(1000);
    }
    // Write-then-rename, as editors do: the server never reads a half-written file.
    const temp = join(dir, `.responses.yml.${cycle}`);
    await writeFile(temp, configText(version));
    await rename(temp, configPath);
    counters.reloads++;
  }
}

// --- results ---------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)]!;
};
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function writeCsv(): string {
  const header = 'second,rss_mb,heap_used_mb,heap_total_mb,external_mb,array_buffers_mb,handles,event_loop_p99_ms,event_loop_max_ms,server_error_lines,reload_failures_logged,requests_total,errors_total';
  const lines = rows.map((r) =>
    [r.second, mb(r.rss), mb(r.heapUsed), mb(r.heapTotal), mb(r.external), mb(r.arrayBuffers), r.handles, r.eventLoopP99Ms.toFixed(2), r.eventLoopMaxMs.toFixed(2), r.errorLines, r.reloadFailures, r.requests, r.errors].join(','),
  );
  return [header, ...lines].join('\n') + '\n';
}

interface Series {
  name: string;
  color: string;
  values: number[];
}

/** One chart panel: lines over seconds, y from 0 to a rounded maximum, with gridlines and labels. */
function panel(x0: number, y0: number, width: number, height: number, title: string, unit: string, seconds: number[], series: Series[], warmup: number): string {
  const maxX = Math.max(1, ...seconds);
  const rawMax = Math.max(1e-9, ...series.flatMap((s) => s.values));
  const step = niceStep(rawMax / 4);
  const maxY = Math.ceil(rawMax / step) * step;
  const px = (s: number) => x0 + (s / maxX) * width;
  const py = (v: number) => y0 + height - (v / maxY) * height;
  const out: string[] = [];
  out.push(`<text x="${x0}" y="${y0 - 8}" class="title">${esc(title)}</text>`);
  for (let v = 0; v <= maxY + step / 2; v += step) {
    out.push(`<line x1="${x0}" y1="${py(v).toFixed(1)}" x2="${x0 + width}" y2="${py(v).toFixed(1)}" class="grid"/>`);
    out.push(`<text x="${x0 - 6}" y="${(py(v) + 4).toFixed(1)}" class="tick" text-anchor="end">${fmt(v)}${unit}</text>`);
  }
  const xStep = niceStep(maxX / 6);
  for (let s = 0; s <= maxX; s += xStep) {
    out.push(`<text x="${px(s).toFixed(1)}" y="${y0 + height + 16}" class="tick" text-anchor="middle">${s}s</text>`);
  }
  if (warmup > 0 && warmup < maxX) {
    out.push(`<rect x="${x0}" y="${y0}" width="${(px(warmup) - x0).toFixed(1)}" height="${height}" class="warmup"/>`);
    out.push(`<text x="${(px(warmup) - 4).toFixed(1)}" y="${y0 + 14}" class="tick" text-anchor="end">warm-up</text>`);
  }
  out.push(`<rect x="${x0}" y="${y0}" width="${width}" height="${height}" class="frame"/>`);
  series.forEach((s, i) => {
    const points = s.values.map((v, j) => `${px(seconds[j]!).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${points}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
    const lx = x0 + width - 170;
    const ly = y0 + 16 + i * 16;
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 24}" y="${ly}" class="legend">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}
const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(v < 1 ? 2 : 1));
const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function writeSvg(summary: Summary): string {
  const seconds = rows.map((r) => r.second);
  const rps = rows.map((r, i) => (i === 0 ? 0 : (r.requests - rows[i - 1]!.requests) / Math.max(1, r.second - rows[i - 1]!.second)));
  const width = 760;
  const left = 70;
  const panels = [
    panel(left, 60, width, 170, 'Server memory (MB)', '', seconds, [
      { name: 'RSS', color: '#d62728', values: rows.map((r) => mb(r.rss)) },
      { name: 'heap total', color: '#1f77b4', values: rows.map((r) => mb(r.heapTotal)) },
      { name: 'heap used', color: '#2ca02c', values: rows.map((r) => mb(r.heapUsed)) },
    ], summary.warmupSeconds),
    panel(left, 290, width, 100, 'Requests per second (client side)', '', seconds, [{ name: 'requests/s', color: '#9467bd', values: rps }], summary.warmupSeconds),
    panel(left, 450, width, 100, 'Event-loop delay p99 (ms)', '', seconds, [{ name: 'p99 per second', color: '#ff7f0e', values: rows.map((r) => r.eventLoopP99Ms) }], summary.warmupSeconds),
    panel(left, 610, width, 80, 'Active handles (sockets, timers, watchers)', '', seconds, [{ name: 'handles', color: '#17becf', values: rows.map((r) => r.handles) }], summary.warmupSeconds),
  ];
  const caption =
    `${summary.minutes} min, ${summary.requests.toLocaleString('en')} requests, ${summary.errors} errors; ` +
    `RSS ${summary.rssBaselineMb} → ${summary.rssFinalMb} MB after warm-up (${(summary.rssGrowth * 100).toFixed(1)}%, limit ${(maxGrowth * 100).toFixed(0)}%): ${summary.pass ? 'PASS' : 'FAIL'}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="860" height="740" viewBox="0 0 860 740" font-family="system-ui, sans-serif">
<style>
  .title { font-size: 14px; font-weight: 600; fill: #222; }
  .tick { font-size: 11px; fill: #555; }
  .legend { font-size: 12px; fill: #222; }
  .grid { stroke: #e4e4e4; stroke-width: 1; }
  .frame { fill: none; stroke: #999; stroke-width: 1; }
  .warmup { fill: #f2f2f2; opacity: 0.7; }
</style>
<rect width="860" height="740" fill="#fff"/>
<text x="${left}" y="24" font-size="16" font-weight="700" fill="#111">mockllm soak: npm run soak (bench/soak.ts)</text>
<text x="${left}" y="42" font-size="12" fill="#333">${esc(caption)}</text>
${panels.join('\n')}
<text x="${left}" y="730" class="tick">Sampled every second in the server process (process.memoryUsage, getActiveResourcesInfo, monitorEventLoopDelay). Data: bench/results/soak.csv</text>
</svg>
`;
}

interface Summary {
  minutes: number;
  warmupSeconds: number;
  requests: number;
  errors: number;
  serverErrorLines: number;
  /** Failed reloads the server logged (the soak breaks and deletes the config on purpose). */
  reloadFailuresLogged: number;
  counters: typeof counters;
  rssBaselineMb: number;
  rssFinalMb: number;
  rssMaxMb: number;
  rssGrowth: number;
  heapUsedBaselineMb: number;
  heapUsedFinalMb: number;
  handlesBaseline: number;
  handlesFinal: number;
  handlesMax: number;
  eventLoopP99MedianMs: number;
  eventLoopP99MaxMs: number;
  samples: number;
  errorSamples: string[];
  pass: boolean;
}

function summarise(): Summary {
  const warm = rows.filter((r) => r.second > warmupSeconds - 10 && r.second <= warmupSeconds);
  const tail = rows.slice(-15);
  const rssBaseline = median(warm.map((r) => r.rss));
  const rssFinal = median(tail.map((r) => r.rss));
  const growth = (rssFinal - rssBaseline) / rssBaseline;
  const serverErrorLines = rows.at(-1)?.errorLines ?? 0;
  const afterWarmup = rows.filter((r) => r.second > warmupSeconds);
  return {
    minutes,
    warmupSeconds,
    requests: counters.requests,
    errors: counters.errors,
    serverErrorLines,
    reloadFailuresLogged: rows.at(-1)?.reloadFailures ?? 0,
    counters: { ...counters },
    rssBaselineMb: mb(rssBaseline),
    rssFinalMb: mb(rssFinal),
    rssMaxMb: mb(Math.max(...rows.map((r) => r.rss))),
    rssGrowth: Math.round(growth * 10_000) / 10_000,
    heapUsedBaselineMb: mb(median(warm.map((r) => r.heapUsed))),
    heapUsedFinalMb: mb(median(tail.map((r) => r.heapUsed))),
    handlesBaseline: median(warm.map((r) => r.handles)),
    handlesFinal: median(tail.map((r) => r.handles)),
    handlesMax: Math.max(...rows.map((r) => r.handles)),
    eventLoopP99MedianMs: Math.round(median(afterWarmup.map((r) => r.eventLoopP99Ms)) * 100) / 100,
    eventLoopP99MaxMs: Math.round(Math.max(...afterWarmup.map((r) => r.eventLoopP99Ms)) * 100) / 100,
    samples: rows.length,
    errorSamples,
    pass: counters.errors === 0 && serverErrorLines === 0 && Number.isFinite(growth) && growth < maxGrowth,
  };
}

// --- main ------------------------------------------------------------------------------------

const dir = await mkdtemp(join(tmpdir(), 'mockllm-soak-'));
const configPath = join(dir, 'responses.yml');
await writeFile(configPath, configText(1));
await mkdir(RESULTS, { recursive: true });
const logPath = join(RESULTS, 'soak-server.log');
const { child, url } = await startChild(configPath, logPath);
console.log(`soak: ${minutes} min against ${url} (pid ${child.pid}), warm-up ${warmupSeconds} s; server log: ${logPath}`);

const progress = setInterval(() => {
  const last = rows.at(-1);
  if (last) console.log(`  ${last.second}s rss ${mb(last.rss)} MB heap ${mb(last.heapUsed)} MB handles ${last.handles} loop p99 ${last.eventLoopP99Ms.toFixed(1)} ms; requests ${counters.requests}, errors ${counters.errors}`);
}, 30_000);

const workers = [
  nonStreamWorker(url, 0),
  nonStreamWorker(url, 1),
  streamWorker(url, 0),
  streamWorker(url, 1),
  streamWorker(url, 2),
  abortWorker(url),
  adminWorker(url),
  scrapeWorker(url),
  reloadWorker(dir, configPath),
];
await sleep(durationMs);
stopping = true;
clearInterval(progress);
await Promise.all(workers);

const stopped = new Promise<void>((resolve) => child.once('exit', () => resolve()));
child.send({ type: 'stop' });
const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
await stopped;
clearTimeout(kill);
await rm(dir, { recursive: true, force: true });

const summary = summarise();
await writeFile(CSV_PATH, writeCsv());
await writeFile(SUMMARY_PATH, JSON.stringify(summary, null, 2) + '\n');
await writeFile(SVG_PATH, writeSvg(summary));
console.log(JSON.stringify(summary, null, 2));
console.log(`soak: ${summary.pass ? 'PASS' : 'FAIL'}; wrote ${CSV_PATH}, ${SUMMARY_PATH}, ${SVG_PATH}`);
process.exit(summary.pass ? 0 : 1);
