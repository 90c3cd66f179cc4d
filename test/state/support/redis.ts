// A real redis-server for the shared-state tests: started on a free port in a temporary directory,
// without persistence (so a restart comes back empty, as a Redis without a volume does), stopped
// after. Tests skip with the reason when the machine has no redis-server (.ci/run installs it).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../helpers/poll.ts';

function which(command: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const SERVER = which('redis-server');
const CLI = which('redis-cli');

/** Why the Redis tests cannot run here, or undefined when they can (give it to node:test's `skip`). */
export const redisMissing: string | false = SERVER === undefined ? 'redis-server is not installed (apt-get install redis-server; .ci/run does)' : false;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  readonly port: number;
  readonly dir: string;
  #child: ChildProcess | undefined;

  readonly #extraArgs: readonly string[];

  private constructor(port: number, dir: string, extraArgs: readonly string[]) {
    this.port = port;
    this.dir = dir;
    this.#extraArgs = extraArgs;
  }

  /** `extraArgs` come after the defaults, so they win (redis-server takes the last of a directive). */
  static async start(extraArgs: readonly string[] = []): Promise<RedisServer> {
    return RedisServer.startOnPort(await freePort(), extraArgs);
  }

  static async startOnPort(port: number, extraArgs: readonly string[] = []): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'mockllm-redis-'));
    const redis = new RedisServer(port, dir, extraArgs);
    await redis.startProcess();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.#child!.pid!;
  }

  /** Starts (or restarts, empty) the server on the same port. */
  async startProcess(): Promise<void> {
    const child = spawn(SERVER!, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--protected-mode', 'no', ...this.#extraArgs], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(() => output.includes('Ready to accept connections') || (child.exitCode !== null && Promise.reject(new Error(`redis-server exited: ${output}`))), {
      timeoutMs: 15_000,
      what: 'redis-server to accept connections',
    });
  }

  /** SIGKILL, and wait until it is gone (the port is free again). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  pause(): void {
    this.#child!.kill('SIGSTOP');
  }

  resume(): void {
    this.#child!.kill('SIGCONT');
  }

  /** One redis-cli command against this server (test inspection only). */
  cli(...args: string[]): string {
    if (CLI === undefined) throw new Error('redis-cli is not installed');
    return execFileSync(CLI, ['-p', String(this.port), ...args], { encoding: 'utf8' }).trim();
  }

  async stop(): Promise<void> {
    try {
      this.resume();
    } catch {
      // not running
    }
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
