// The real CLI (`node src/cli.ts`) in a child process, observed through its JSON log lines: one
// spawner for every test that needs the process itself (signals, exit codes, a server whose event
// loop may freeze without freezing the test's own).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withDeadline } from './deadline.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO, 'src', 'cli.ts');

/** The caller's environment minus what the CLI reads (MOCKLLM_*, PORT, HOST, LOG_*, colour switches), so none of it leaks in. */
export const CLEAN_ENV: Record<string, string> = Object.fromEntries(
  Object.entries(process.env).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && !/^(MOCKLLM_|LOG_)/.test(entry[0]) && !['PORT', 'HOST', 'FORCE_COLOR', 'NO_COLOR'].includes(entry[0]),
  ),
);

export type LogLine = Record<string, unknown>;

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the process exited. */
  at: number;
}

export interface CliProcess {
  child: ChildProcess;
  /** JSON lines from stdout, parsed, in order. */
  logs: LogLine[];
  /** Stdout lines that were not JSON. */
  otherStdout: string[];
  stderr(): string;
  /** The first log line with this `msg` (or matching the predicate), already written or still to come. */
  waitForLog(match: string | ((line: LogLine) => boolean), what?: string, ms?: number): Promise<LogLine>;
  /** The first raw stdout line (JSON or not) matching the predicate, already written or still to come. */
  waitForLine(predicate: (text: string) => boolean, what: string, ms?: number): Promise<string>;
  /** Settles once the process has exited, whether by code or by signal. */
  exit: Promise<CliExit>;
  /** The exit code (null after a signal), within the wait deadline. */
  exited(ms?: number): Promise<number | null>;
  /** Kills the process if it still runs (SIGKILL) and waits for it to be gone. */
  kill(): Promise<void>;
}

export interface SpawnCliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Called with each JSON log line as it arrives. */
  onLine?: (line: LogLine) => void;
  /** Node flags before the script (e.g. --import). */
  nodeArgs?: string[];
  /** Deadline of waitForLog when the call gives none (default 30 s: generous, for a loaded machine). */
  waitMs?: number;
}

export function spawnCli(args: string[], options: SpawnCliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], { cwd: options.cwd ?? REPO, env: { ...CLEAN_ENV, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const raw: string[] = [];
  const otherStdout: string[] = [];
  const wakers = new Set<() => void>();
  let stderr = '';
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
      options.onLine?.(line);
    }
    for (const wake of wakers) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'exit' fires for a signal too (code null), unlike polling child.exitCode.
  const exit = new Promise<CliExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  const gone = () => child.exitCode !== null || child.signalCode !== null;

  /** The first value `find` returns, now or after a later stdout line; fails when the CLI exits first or at the deadline. */
  function waitFor<T>(find: () => T | undefined, what: string, ms = options.waitMs ?? 30_000): Promise<T> {
    let check: () => void = () => {};
    const found = new Promise<T>((resolve, reject) => {
      check = () => {
        const value = find();
        if (value !== undefined) {
          wakers.delete(check);
          resolve(value);
        }
      };
      wakers.add(check);
      check();
      // Output still buffered in the pipe is read before the verdict.
      void exit.then(() =>
        setImmediate(() => {
          check();
          if (wakers.delete(check)) reject(new Error(`the CLI exited before writing ${what}; stderr: ${stderr}`));
        }),
      );
    });
    return withDeadline(found, ms, what).finally(() => wakers.delete(check));
  }

  const waitForLog = (match: string | ((line: LogLine) => boolean), what = typeof match === 'string' ? `the log line '${match}'` : 'a log line', ms?: number) => {
    const predicate = typeof match === 'string' ? (line: LogLine) => line.msg === match : match;
    return waitFor(() => logs.find(predicate), what, ms);
  };

  return {
    child,
    logs,
    otherStdout,
    stderr: () => stderr,
    waitForLog,
    waitForLine: (predicate, what, ms) => waitFor(() => raw.find(predicate), what, ms),
    exit,
    exited: (ms = options.waitMs ?? 30_000) => withDeadline(exit, ms, 'the CLI to exit').then((e) => e.code),
    async kill() {
      if (!gone()) child.kill('SIGKILL');
      await exit;
    },
  };
}

export interface ServingCli extends CliProcess {
  port: number;
  url: string;
  /** The config file's directory (removed by cleanup). */
  dir: string;
  configPath: string;
  /** Kills the process if it still runs and removes the config directory. */
  cleanup(): Promise<void>;
}

/** The CLI serving `configText` on a free port (`--port 0`), once it has logged that it listens. */
export async function startCli(configText: string, args: string[] = [], options: SpawnCliOptions = {}): Promise<ServingCli> {
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-cli-'));
  const configPath = join(dir, 'responses.yml');
  await writeFile(configPath, configText);
  const cli = spawnCli(['--port', '0', '--config', configPath, ...args], options);
  const cleanup = async () => {
    await cli.kill();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const listening = await cli.waitForLog('mockllm listening');
    const port = Number(listening.port);
    return { ...cli, port, url: `http://127.0.0.1:${port}`, dir, configPath, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
