// A mockllm server as a separate process, started the way a container or pod would start it,
// observed through its JSON log lines on stdout.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { poll } from './poll.ts';

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** The "mockllm listening" log line. */
  listening: Record<string, unknown>;
  logs(): Record<string, unknown>[];
  output(): string;
  /** SIGTERM, then the exit code (SIGKILL and a failure if it does not exit by the deadline). */
  terminate(timeoutMs?: number): Promise<number | null>;
  /** For finally blocks: makes sure the process is gone. */
  kill(): Promise<void>;
}

export interface StartOptions {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  uid?: number;
  gid?: number;
  startTimeoutMs?: number;
}

function parseLines(text: string): Record<string, unknown>[] {
  return text.split('\n').flatMap((line) => {
    if (!line.trim().startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

export async function startServerProcess(options: StartOptions): Promise<ServerProcess> {
  const spawnOptions: SpawnOptions = { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] };
  if (options.uid !== undefined) spawnOptions.uid = options.uid;
  if (options.gid !== undefined) spawnOptions.gid = options.gid;
  const child = spawn(options.command, options.args, spawnOptions);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let exitCode: number | null | undefined;
  void exited.then(([code]) => (exitCode = code));
  const output = () => `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;

  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  };

  let listening: Record<string, unknown> | undefined;
  try {
    listening = await poll(
      () => {
        if (exitCode !== undefined) throw new Error(`the server exited with code ${exitCode} before listening\n${output()}`);
        return parseLines(stdout).find((line) => line.msg === 'mockllm listening');
      },
      { timeoutMs: options.startTimeoutMs ?? 20_000, intervalMs: 25, what: 'the "mockllm listening" log line' },
    );
  } catch (error) {
    await kill();
    throw new Error(`${(error as Error).message}\n${output()}`);
  }
  const port = Number(listening!.port);
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    listening: listening!,
    logs: () => parseLines(stdout),
    output,
    async terminate(timeoutMs = 15_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        const [code, signal] = await exited;
        if (signal === 'SIGKILL') throw new Error(`the server did not exit within ${timeoutMs} ms of SIGTERM\n${output()}`);
        return code;
      } finally {
        clearTimeout(timer);
      }
    },
    kill,
  };
}

/** Runs a command to completion (for HEALTHCHECK commands), with a deadline. */
export async function runCommand(command: string, args: string[], options: SpawnOptions & { timeoutMs?: number }): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  try {
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, output };
  } finally {
    clearTimeout(timer);
  }
}
