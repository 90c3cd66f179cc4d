// Child processes for the library tests, each bound by a deadline: on expiry the child is killed
// (its whole process group) and the promise rejects, so a hang fails the test instead of the suite.
import { spawn, type ChildProcess } from 'node:child_process';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command to its end; rejects when it has not exited by the deadline. */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  return settle(child, options.timeoutMs, `${command} ${args.join(' ')}`);
}

export function settle(child: ChildProcess, timeoutMs: number, what: string): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      kill(child);
      reject(new Error(`${what} did not exit within ${timeoutMs} ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Kills a detached child and everything it started (npx → node). */
export function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** The command's outcome in a message, for assertions that fail with the child's own words. */
export function describe(result: RunResult): string {
  return `exit ${result.code ?? result.signal}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

/**
 * The fenced code blocks of a Markdown text that follow a line `<!-- tested: … -->`, in order: the
 * README's examples, run as written.
 */
export function testedBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const pattern = /<!-- tested:[^>]*-->\n```\w*\n([\s\S]*?)\n```/g;
  for (const match of markdown.matchAll(pattern)) blocks.push(`${match[1]!}\n`);
  return blocks;
}
