// Spawning the servers under test as child processes and talking to them over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildStats } from './child-stats.ts';

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

export interface ServerChild {
  name: string;
  url: string;
  pid: number;
  process: ChildProcess;
  /** Reads the stats window; with reset, starts a new one. */
  stats(reset?: boolean): Promise<ChildStats>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Where the child's stdout (the server's log lines) goes: a file path, or /dev/null. */
  stdout: string;
  /** Extra node flags (e.g. --cpu-prof). */
  execArgv?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** A server script (a name in bench/, or an absolute path: another checkout's, for bench/ab.ts) as a child answering over IPC. */
export async function spawnChild(name: string, script: string, args: string[], options: SpawnOptions): Promise<ServerChild> {
  const out = openSync(options.stdout, 'a');
  const child = fork(isAbsolute(script) ? script : here(script), args, {
    stdio: ['ignore', out, 'inherit', 'ipc'],
    execArgv: [...(options.execArgv ?? [])],
    ...(options.env && { env: { ...process.env, ...options.env } }),
  });
  closeSync(out);
  const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: not ready within 30 s`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${name}: exited with ${code} before it was ready`)));
    child.on('message', (message: { type: string; url: string; pid: number }) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message);
      }
    });
  });
  child.removeAllListeners('exit');
  let nextId = 0;
  const pending = new Map<number, (stats: ChildStats) => void>();
  child.on('message', (message: { type: string; id: number; stats: ChildStats }) => {
    if (message.type === 'stats') {
      pending.get(message.id)?.(message.stats);
      pending.delete(message.id);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    url: ready.url,
    pid: ready.pid,
    process: child,
    stats(reset = false) {
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ type: 'stats', id, reset });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** mockllm via bench/server-entry.ts (startServer from src/server.ts). */
export function spawnMock(configPath: string, options: SpawnOptions & { logLevel?: string }): Promise<ServerChild> {
  return spawnChild('mockllm', 'server-entry.ts', [configPath, options.logLevel ?? 'info'], options);
}

/** The peer, @copilotkit/aimock, via bench/aimock-entry.ts, answering from an aimock fixture file. */
export function spawnAimock(fixturesPath: string, options: SpawnOptions): Promise<ServerChild> {
  return spawnChild('aimock', 'aimock-entry.ts', [fixturesPath], options);
}

/** The bare node:http yardstick, answering from a canned-answers file. */
export function spawnBaseline(cannedPath: string, options: SpawnOptions & { join?: boolean; koa?: boolean; koaMock?: boolean }): Promise<ServerChild> {
  const [flag, name] = options.join ? ['--join', 'baseline-joined'] : options.koa ? ['--koa', 'koa-floor'] : options.koaMock ? ['--koa-mock', 'koa-mock'] : [undefined, 'baseline'];
  return spawnChild(name, 'baseline-server.ts', [cannedPath, ...(flag ? [flag] : [])], options);
}
