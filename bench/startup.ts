// S5: start-up. For mockllm as users run it (`node dist/cli.js`: the npm bin and the Docker image's
// entrypoint), as developers run it (`node src/cli.ts`, type stripping), for aimock (the peer) and
// for a bare node:http server: the time from spawn to the first successful chat completion (a 200
// whose body has the answer, not just a health probe), the CPU spent until then, and the RSS once
// the process has sat idle after that answer (so the tokenizer that counted the usage is loaded).
// Also `--help` and `--version`: spawn to exit. The servers are started in turn, round after round,
// so load on the shared machine falls on all of them alike; medians are reported.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const AIMOCK_CLI = join(root, 'node_modules/@copilotkit/aimock/dist/cli.js');

const QUESTION = 'what is 2+2?';
const ANSWER = '2+2 equals 9.';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const CHAT_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }] });

/** One chat completion: true when the server answered 200 with the configured answer. */
function chatAnswered(port: number, bare: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/chat/completions',
        agent: false,
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench', 'content-length': Buffer.byteLength(CHAT_BODY) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (res.statusCode !== 200) return resolve(false);
          if (bare) return resolve(true);
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { choices?: { message?: { content?: string } }[] };
            resolve(body.choices?.[0]?.message?.content === ANSWER);
          } catch {
            resolve(false);
          }
        });
        res.on('error', () => resolve(false));
      },
    );
    req.on('error', () => resolve(false));
    req.end(CHAT_BODY);
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 102.4) / 10;
}

/** CPU milliseconds (user + system) the process has used, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Math.round((ticks / 100) * 1000);
}

export interface StartupRun {
  /** Spawn → first 200 with the answer. */
  firstChatMs: number;
  /** CPU the process had used when it gave that answer. */
  startupCpuMs: number;
  /** RSS after sitting idle for idleMs once it answered. */
  idleRssMb: number;
}

async function startOnce(args: (port: number) => string[], idleMs: number, bare = false, env?: NodeJS.ProcessEnv): Promise<StartupRun> {
  const port = await freePort();
  const start = performance.now();
  const child = spawn(process.execPath, args(port), { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], ...(env && { env: { ...process.env, ...env } }) });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = start + 30_000;
    for (;;) {
      if (await chatAnswered(port, bare)) break;
      if (performance.now() > deadline || child.exitCode !== null) throw new Error(`S5: no chat completion from ${args(port).join(' ')} (exit ${child.exitCode})\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const firstChatMs = Math.round(performance.now() - start);
    const startupCpuMs = cpuMs(child.pid!);
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    return { firstChatMs, startupCpuMs, idleRssMb: rssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** Spawn → exit of a command that prints and exits (`--help`, `--version`); fails unless it exits 0 having printed `expect`. */
async function runToExit(args: string[], expect: RegExp): Promise<number> {
  const start = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const ms = Math.round(performance.now() - start);
  if (code !== 0 || !expect.test(out)) throw new Error(`S5: ${args.join(' ')} exited ${code}: ${out.slice(0, 500)}`);
  return ms;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** dist/ is what the npm bin and the image run: rebuilt first when any src/ file is newer. */
function ensureDist(): void {
  const cli = join(root, 'dist/cli.js');
  const built = existsSync(cli) ? statSync(cli).mtimeMs : 0;
  const src = join(root, 'src');
  const stale = readdirSync(src, { recursive: true, encoding: 'utf8' }).some((p) => statSync(join(src, p)).mtimeMs > built);
  if (!stale) return;
  // tsc emits even when the tree has a type error (another change in progress); the UI copy runs
  // regardless. Only a build that wrote no dist/cli.js at all stops the scenario.
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'ignore' });
  } catch {
    process.stderr.write('S5: tsc reported errors while building dist/ (measuring what it emitted)\n');
  }
  execFileSync('npm', ['run', 'build:assets'], { cwd: root, stdio: 'ignore' });
  execFileSync('npm', ['run', 'build:ui'], { cwd: root, stdio: 'ignore' });
  // The npm bin is the bundle of src/cli.ts (scripts/bundle-cli.mjs), written over tsc's cli.js.
  execFileSync('npm', ['run', 'build:cli'], { cwd: root, stdio: 'ignore' });
  if (!existsSync(cli) || statSync(cli).mtimeMs <= built) throw new Error('S5: building dist/ wrote no dist/cli.js');
}

export interface StartupSummary {
  firstChatMs: number;
  startupCpuMs: number;
  idleRssMb: number;
  runs: StartupRun[];
}

export interface StartupResult {
  /** node dist/cli.js: what `npx mockllm`, the npm bin and the Docker image run (compile cache warm). */
  mock: StartupSummary;
  /** The same with an empty compile cache: a first start, as in a fresh CI container. */
  mockCold: StartupRun;
  /** node src/cli.ts: development (type stripping at start-up). */
  mockSrc: StartupSummary;
  aimock: StartupSummary;
  baseline: StartupSummary;
  /** Spawn → exit, median ms. */
  help: { mock: number; mockSrc: number; aimock: number; baseline: number };
  version: { mock: number; mockSrc: number; baseline: number };
}

export async function runStartup(options: { runs: number; idleMs: number }): Promise<StartupResult> {
  ensureDist();
  const dir = mkdtempSync(join(tmpdir(), 'mockllm-s5-'));
  // The same question and answer for both mocks: mockllm's default config answers it, aimock from
  // this fixture (aimock's own format: match on the last user message).
  const fixture = join(dir, 'aimock.json');
  writeFileSync(fixture, JSON.stringify({ fixtures: [{ match: { userMessage: QUESTION }, response: { content: ANSWER } }] }));
  const config = join(root, 'config/responses.yml');
  const runs = { mock: [] as StartupRun[], mockSrc: [] as StartupRun[], aimock: [] as StartupRun[], baseline: [] as StartupRun[] };
  const help = { mock: [] as number[], mockSrc: [] as number[], aimock: [] as number[], baseline: [] as number[] };
  const version = { mock: [] as number[], mockSrc: [] as number[], baseline: [] as number[] };
  const quiet = ['--log-level', 'warn'];
  // The CLI keeps Node's compile cache (src/cli.ts); the bench gives it a directory of its own, so
  // the first start is a cold one (measured apart: a fresh CI container starts like that) and the
  // rounds after it are warm whatever the machine's temp directory holds.
  const cache = { NODE_COMPILE_CACHE: join(dir, 'compile-cache') };
  const serveDist = (port: number) => ['dist/cli.js', '--config', config, '--port', String(port), ...quiet];
  let mockCold: StartupRun;
  try {
    mockCold = await startOnce(serveDist, options.idleMs, false, cache);
    for (let i = 0; i < options.runs; i++) {
      runs.mock.push(await startOnce(serveDist, options.idleMs, false, cache));
      runs.aimock.push(await startOnce((port) => [AIMOCK_CLI, '--fixtures', fixture, '--port', String(port), '--log-level', 'warn'], options.idleMs));
      runs.mockSrc.push(await startOnce((port) => ['src/cli.ts', '--config', config, '--port', String(port), ...quiet], options.idleMs, false, cache));
      runs.baseline.push(
        await startOnce((port) => ['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`], options.idleMs, true),
      );
      // Short runs, so three of each per round, interleaved.
      for (let j = 0; j < 3; j++) {
        help.mock.push(await runToExit(['dist/cli.js', '--help'], /^Usage: mockllm/));
        help.aimock.push(await runToExit([AIMOCK_CLI, '--help'], /Usage: /));
        help.mockSrc.push(await runToExit(['src/cli.ts', '--help'], /^Usage: mockllm/));
        // A bare Node process that prints a line and exits: the floor any CLI starts from.
        help.baseline.push(await runToExit(['-e', 'process.stdout.write("Usage: x\\n")'], /Usage/));
        version.mock.push(await runToExit(['dist/cli.js', '--version'], /^\d+\.\d+\.\d+/));
        version.mockSrc.push(await runToExit(['src/cli.ts', '--version'], /^\d+\.\d+\.\d+/));
        version.baseline.push(await runToExit(['-e', 'process.stdout.write("0.0.0\\n")'], /0\.0\.0/));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary = (list: StartupRun[]): StartupSummary => ({
    firstChatMs: median(list.map((r) => r.firstChatMs)),
    startupCpuMs: median(list.map((r) => r.startupCpuMs)),
    idleRssMb: median(list.map((r) => r.idleRssMb)),
    runs: list,
  });
  return {
    mock: summary(runs.mock),
    mockCold,
    mockSrc: summary(runs.mockSrc),
    aimock: summary(runs.aimock),
    baseline: summary(runs.baseline),
    help: { mock: median(help.mock), mockSrc: median(help.mockSrc), aimock: median(help.aimock), baseline: median(help.baseline) },
    version: { mock: median(version.mock), mockSrc: median(version.mockSrc), baseline: median(version.baseline) },
  };
}
