// Running the `mockllm` command as a child process, with every wait bound by a deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withDeadline as withDeadlineMs } from '../helpers/deadline.ts';

/** RegExp.escape arrived in Node 24; the package supports Node 22. */
export const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO, 'src', 'cli.ts');
/** Generous: a functional test checks behaviour, and this 2-core machine is shared (timings belong to bench/). */
export const DEADLINE_MS = 30_000;

export type LogLine = Record<string, unknown>;

export interface Cli {
  child: ChildProcess;
  /** Parsed JSON lines from stdout, in order. */
  logs: LogLine[];
  /** Raw stdout lines that were not JSON. */
  otherStdout: string[];
  stderr(): string;
  /** Resolves with the first log line matching `predicate` (already seen or still to come). */
  waitForLog(predicate: (line: LogLine) => boolean, what: string): Promise<LogLine>;
  /** Resolves with the first raw stdout line matching `predicate`, JSON or not. */
  waitForLine(predicate: (text: string) => boolean, what: string): Promise<string>;
  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null>;
}

// The variables the CLI reads; the tests set them explicitly so the caller's environment cannot leak in.
const CLI_VARIABLES = ['PORT', 'HOST', 'MOCKLLM_CONFIG', 'LOG_LEVEL', 'MOCKLLM_STRICT', 'MOCKLLM_LOG_FORMAT', 'MOCKLLM_ADMIN_TOKEN', 'MOCKLLM_SHUTDOWN_GRACE_MS', 'FORCE_COLOR', 'NO_COLOR'];
export const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([key]) => !CLI_VARIABLES.includes(key)));

/** The shared deadline wrapper (test/helpers/deadline.ts), with this file's default deadline. */
export const withDeadline = <T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> => withDeadlineMs(promise, ms, what);

/** True once the child is gone, whether it exited or was killed by a signal (SIGKILL sets no exit code). */
export const hasEnded = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

export interface StartOptions {
  env?: Record<string, string>;
  cwd?: string;
  onLine?: (line: LogLine) => void;
  /** Extra node flags before the script (e.g. --import). */
  nodeArgs?: string[];
}

export function startCli(args: string[], { env = {}, cwd = REPO, onLine, nodeArgs = [] }: StartOptions = {}): Cli {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { cwd, env: { ...CLEAN_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const raw: string[] = [];
  const otherStdout: string[] = [];
  let stderr = '';
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (text) => {
    raw.push(text);
    let line: LogLine | undefined;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      otherStdout.push(text);
    }
    if (line) {
      logs.push(line);
      onLine?.(line);
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  function waitFor<T>(find: () => T | undefined, what: string): Promise<T> {
    let check = () => {};
    const found = new Promise<T>((resolve, reject) => {
      check = () => {
        const value = find();
        if (value !== undefined) {
          waiters.delete(check);
          resolve(value);
        }
      };
      waiters.add(check);
      check();
      void exit.then(() => {
        // stdout may still hold lines after 'exit'; give readline its last turn before giving up.
        setImmediate(() => {
          check();
          if (waiters.delete(check)) reject(new Error(`the CLI exited before logging ${what}; stderr: ${stderr}`));
        });
      });
    });
    // At the deadline the waiter goes too: nothing keeps checking for a line that never came.
    return withDeadline(found, what).finally(() => waiters.delete(check));
  }

  return {
    child,
    logs,
    otherStdout,
    stderr: () => stderr,
    waitForLog: (predicate, what) => waitFor(() => logs.find(predicate), what),
    waitForLine: (predicate, what) => waitFor(() => raw.find(predicate), what),
    exited: () => withDeadline(exit, 'the CLI to exit'),
  };
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
