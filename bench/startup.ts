// S5: start-up. Time from spawning `node src/cli.ts` to the first 200 on /healthz, and the idle
// RSS a second later; the bare baseline server's start-up is measured the same way for reference.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

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

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 102.4) / 10;
}

/** CPU seconds (user + system) the process has used, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Math.round((ticks / 100) * 1000);
}

export interface StartupRun {
  readyMs: number;
  startupCpuMs: number;
  idleRssMb: number;
}

async function startOnce(args: (port: number) => string[], idleMs: number): Promise<StartupRun> {
  const port = await freePort();
  const start = performance.now();
  const child = spawn(process.execPath, args(port), { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = start + 15_000;
    for (;;) {
      if (await healthy(port)) break;
      if (performance.now() > deadline || child.exitCode !== null) throw new Error(`S5: no 200 on /healthz (exit ${child.exitCode})`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const readyMs = Math.round(performance.now() - start);
    const startupCpuMs = cpuMs(child.pid!);
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    return { readyMs, startupCpuMs, idleRssMb: rssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function runStartup(options: { runs: number; idleMs: number }) {
  const mock: StartupRun[] = [];
  const bare: StartupRun[] = [];
  for (let i = 0; i < options.runs; i++) {
    mock.push(await startOnce((port) => ['src/cli.ts', '--config', 'config/responses.yml', '--port', String(port)], options.idleMs));
    bare.push(
      await startOnce((port) => ['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`], options.idleMs),
    );
  }
  const summary = (runs: StartupRun[]) => ({
    readyMs: median(runs.map((r) => r.readyMs)),
    startupCpuMs: median(runs.map((r) => r.startupCpuMs)),
    idleRssMb: median(runs.map((r) => r.idleRssMb)),
    runs,
  });
  return { mock: summary(mock), baseline: summary(bare) };
}
