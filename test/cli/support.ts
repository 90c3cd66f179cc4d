// Running the `mockllm` command as a child process, with every wait bound by a deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDeadline as withDeadlineMs } from '../helpers/deadline.ts';

/** RegExp.escape arrived in Node 24; the package supports Node 22. */
export const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');

import { CLEAN_ENV, CLI, REPO, spawnCli, type CliProcess, type LogLine } from '../helpers/cli.ts';

// One CLI spawner for every test (test/helpers/cli.ts); this file adds the CLI tests' own runners.
export { CLEAN_ENV, CLI, REPO, type LogLine } from '../helpers/cli.ts';

/** Generous: a functional test checks behaviour, and this 2-core machine is shared (timings belong to bench/). */
export const DEADLINE_MS = 30_000;

export type Cli = CliProcess;

/** The shared deadline wrapper (test/helpers/deadline.ts), with this file's default deadline. */
export const withDeadline = <T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> => withDeadlineMs(promise, ms, what);

/** True once the child is gone, whether it exited or was killed by a signal (SIGKILL sets no exit code). */
export const hasEnded = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

export interface StartOptions {
  env?: Record<string, string>;
  cwd?: string;
  onLine?: (line: Record<string, unknown>) => void;
  /** Extra node flags before the script (e.g. --import). */
  nodeArgs?: string[];
}

export function startCli(args: string[], options: StartOptions = {}): Cli {
  return spawnCli(args, { ...options, waitMs: DEADLINE_MS });
}

/** Runs the CLI to completion (for the cases that must exit on their own). */
export async function runCli(args: string[], options: StartOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = startCli(args, options);
  try {
    const code = await cli.exited();
    await new Promise((resolve) => setImmediate(resolve));
    return { code, stdout: [...cli.logs.map((l) => JSON.stringify(l)), ...cli.otherStdout].join('\n'), stderr: cli.stderr() };
  } finally {
    kill(cli);
  }
}

/**
 * Runs the CLI with stderr and stdout joined into one pipe (`2>&1`), so the output's order is
 * the order the process wrote it in.
 */
export async function runCliMerged(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', process.execPath, CLI, ...args], {
    cwd: options.cwd ?? REPO,
    env: { ...CLEAN_ENV, ...options.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    return { code: await withDeadline(closed, 'the CLI to exit'), output };
  } finally {
    if (!hasEnded(child)) child.kill('SIGKILL');
  }
}

export function kill(cli: Cli): void {
  if (!hasEnded(cli.child)) cli.child.kill('SIGKILL');
}

export async function withConfig<T>(text: string, body: (path: string, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-cli-'));
  try {
    const path = join(dir, 'responses.yml');
    await writeFile(path, text);
    return await body(path, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export const isListening = (line: LogLine) => line.msg === 'mockllm listening';
