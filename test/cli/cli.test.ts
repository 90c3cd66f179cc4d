import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SEED_CONFIG } from '../helpers/server.ts';

/** RegExp.escape arrived in Node 24; the package supports Node 22. */
const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(REPO, 'src', 'cli.ts');
const DEADLINE_MS = 10_000;

type LogLine = Record<string, unknown>;

interface Cli {
  child: ChildProcess;
  /** Parsed JSON lines from stdout, in order. */
  logs: LogLine[];
  /** Raw stdout lines that were not JSON (there should be none while serving). */
  otherStdout: string[];
  stderr(): string;
  /** Resolves with the first log line matching `predicate` (already seen or still to come). */
  waitForLog(predicate: (line: LogLine) => boolean, what: string): Promise<LogLine>;
  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null>;
}

// The variables the CLI reads; the tests set them explicitly so the caller's environment cannot leak in.
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !['PORT', 'HOST', 'MOCKLLM_CONFIG', 'LOG_LEVEL', 'MOCKLLM_STRICT'].includes(key)),
);

function withDeadline<T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function startCli(args: string[], env: Record<string, string> = {}, cwd = REPO, onLine?: (line: LogLine) => void): Cli {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...CLEAN_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const otherStdout: string[] = [];
  let stderr = '';
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      otherStdout.push(text);
      return;
    }
    logs.push(line);
    onLine?.(line);
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    logs,
    otherStdout,
    stderr: () => stderr,
    waitForLog(predicate, what) {
      const found = new Promise<LogLine>((resolve, reject) => {
        const check = () => {
          const line = logs.find(predicate);
          if (line) {
            waiters.delete(check);
            resolve(line);
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
      return withDeadline(found, what);
    },
    exited: () => withDeadline(exit, 'the CLI to exit'),
  };
}

/** Runs the CLI to completion (for the cases that must exit on their own). */
async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = startCli(args, env);
  try {
    const code = await cli.exited();
    await new Promise((resolve) => setImmediate(resolve));
    return { code, stdout: [...cli.logs.map((l) => JSON.stringify(l)), ...cli.otherStdout].join('\n'), stderr: cli.stderr() };
  } finally {
    kill(cli);
  }
}

function kill(cli: Cli): void {
  if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
}

async function withConfig<T>(text: string, body: (path: string, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-cli-'));
  try {
    const path = join(dir, 'responses.yml');
    await writeFile(path, text);
    return await body(path, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const isListening = (line: LogLine) => line.msg === 'mockllm listening';

test('an invalid config makes the CLI exit 1, naming the file, the line and what is wrong', async () => {
  await withConfig('responses:\n  "hi": "there"\nsettings:\n  match: fuzzy\n', async (path) => {
    const { code, stderr } = await runCli(['--config', path, '--port', '0']);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`${escapeRe(path)}:4: settings\\.match must be one of "normalized", "exact"`));
  });
});

test('a config with a YAML syntax error makes the CLI exit 1, naming the file, line and column', async () => {
  await withConfig('responses:\n  "hi": "there\n  "x": [\n', async (path) => {
    const { code, stderr } = await runCli(['--config', path, '--port', '0']);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`${escapeRe(path)}:\\d+:\\d+: invalid YAML`));
  });
});

test('a missing config file makes the CLI exit 1, naming the path', async () => {
  const path = join(tmpdir(), `mockllm-missing-${process.pid}`, 'responses.yml');
  const { code, stderr } = await runCli(['--config', path, '--port', '0']);
  assert.equal(code, 1);
  assert.match(stderr, new RegExp(`${escapeRe(path)}: cannot read the config file: ENOENT`));
});

test('--port 0 --config starts the server, logs its port, answers /healthz, and SIGTERM stops it with code 0', async () => {
  await withConfig(SEED_CONFIG, async (path) => {
    const cli = startCli(['--port', '0', '--config', path]);
    try {
      const listening = await cli.waitForLog(isListening, "'mockllm listening'");
      assert.equal(typeof listening.port, 'number');
      assert.ok((listening.port as number) > 0);
      const health = await fetch(`http://127.0.0.1:${listening.port}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, 'ok');
      const loaded = cli.logs.find((line) => line.msg === 'config loaded');
      assert.equal(loaded?.path, path);
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited(), 0);
      await cli.waitForLog((line) => line.msg === 'mockllm stopped', "'mockllm stopped'");
      assert.deepEqual(cli.otherStdout, [], 'stdout holds only JSON log lines');
      assert.equal(cli.stderr(), '');
    } finally {
      kill(cli);
    }
  });
});

test('SIGINT stops the server gracefully with code 0', async () => {
  await withConfig(SEED_CONFIG, async (path) => {
    const cli = startCli(['--port', '0', '--config', path]);
    try {
      await cli.waitForLog(isListening, "'mockllm listening'");
      cli.child.kill('SIGINT');
      assert.equal(await cli.exited(), 0);
      await cli.waitForLog((line) => line.msg === 'mockllm stopped', "'mockllm stopped'");
      assert.ok(cli.logs.some((line) => line.msg === 'shutting down' && line.signal === 'SIGINT'));
    } finally {
      kill(cli);
    }
  });
});

test('a signal sent the moment the server reports it is listening still stops it gracefully', async () => {
  // The window between 'mockllm listening' and the signal handlers is small: repeat to catch it.
  await withConfig(SEED_CONFIG, async (path) => {
    for (let i = 0; i < 8; i++) {
      const signal = i % 2 === 0 ? 'SIGTERM' : 'SIGINT';
      const cli = startCli(['--port', '0', '--config', path], {}, REPO, (line) => {
        if (isListening(line)) cli.child.kill(signal);
      });
      try {
        const code = await cli.exited();
        assert.equal(cli.child.signalCode, null, `attempt ${i + 1}: killed by ${cli.child.signalCode} instead of shutting down`);
        assert.equal(code, 0);
      } finally {
        kill(cli);
      }
    }
  });
});

test('MOCKLLM_CONFIG, PORT and HOST are honoured when no flags are given', async () => {
  await withConfig('responses:\n  "ping": "pong from env config"\n', async (path) => {
    const cli = startCli([], { MOCKLLM_CONFIG: path, PORT: '0', HOST: '127.0.0.2', LOG_LEVEL: 'info' });
    try {
      const listening = await cli.waitForLog(isListening, "'mockllm listening'");
      assert.equal(listening.host, '127.0.0.2');
      assert.equal(listening.url, `http://127.0.0.2:${listening.port}`);
      assert.equal(cli.logs.find((line) => line.msg === 'config loaded')?.path, path);
      const res = await fetch(`http://127.0.0.2:${listening.port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] }),
      });
      assert.equal(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content, 'pong from env config');
    } finally {
      kill(cli);
    }
  });
});

test('flags take precedence over MOCKLLM_CONFIG and HOST', async () => {
  await withConfig(SEED_CONFIG, async (path) => {
    const cli = startCli(['--config', path, '--host', '127.0.0.1', '--port', '0'], {
      MOCKLLM_CONFIG: '/nonexistent/responses.yml',
      HOST: '127.0.0.2',
      PORT: 'not-a-port',
    });
    try {
      const listening = await cli.waitForLog(isListening, "'mockllm listening'");
      assert.equal(listening.host, '127.0.0.1');
      assert.equal(cli.logs.find((line) => line.msg === 'config loaded')?.path, path);
    } finally {
      kill(cli);
    }
  });
});

test('LOG_LEVEL=warn suppresses info lines for a whole start, request and stop', async () => {
  await withConfig(SEED_CONFIG, async (path) => {
    const port = await freePort();
    const cli = startCli(['--config', path], { PORT: String(port), LOG_LEVEL: 'warn' });
    try {
      let status = 0;
      await withDeadline(
        (async () => {
          for (;;) {
            status = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0);
            if (status === 200 || cli.child.exitCode !== null) return;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })(),
        '/healthz to answer',
      );
      assert.equal(status, 200, `the server did not come up; stderr: ${cli.stderr()}`);
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited(), 0);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(cli.logs.filter((line) => (line.level as number) < 40), [], 'no line below warn');
      assert.deepEqual(cli.otherStdout, []);
    } finally {
      kill(cli);
    }
  });
});

test('--help prints the usage and exits 0', async () => {
  for (const flag of ['--help', '-h']) {
    const { code, stdout } = await runCli([flag]);
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: mockllm /);
    for (const option of ['--config', '--port', '--host', '--log-level', '--strict']) assert.ok(stdout.includes(option), `usage mentions ${option}`);
  }
});

test('an invalid --port exits 2 with a message naming the value', async () => {
  for (const port of ['abc', '-1', '65536', '80.5', '']) {
    const { code, stderr } = await runCli([`--port=${port}`, '--config', '/nonexistent.yml']);
    assert.equal(code, 2, `--port ${JSON.stringify(port)}`);
    assert.match(stderr, new RegExp(`invalid port "${escapeRe(port)}"`));
  }
});

test('empty MOCKLLM_CONFIG, HOST and LOG_LEVEL count as unset and fall back to the defaults', async () => {
  const cli = startCli(['--port', '0'], { MOCKLLM_CONFIG: '', HOST: '', LOG_LEVEL: '' });
  try {
    const listening = await cli.waitForLog(isListening, "'mockllm listening'");
    assert.equal(listening.host, '127.0.0.1');
    assert.equal(cli.logs.find((line) => line.msg === 'config loaded')?.path, resolve(REPO, 'config/responses.yml'));
  } finally {
    kill(cli);
  }
});

test('an empty PORT counts as unset rather than as an invalid port', async () => {
  // The log level is checked after the port: reaching its error proves the empty PORT passed.
  const { code, stderr } = await runCli(['--log-level', 'loud'], { PORT: '' });
  assert.equal(code, 2);
  assert.doesNotMatch(stderr, /invalid port/);
  assert.match(stderr, /invalid log level "loud"/);
});

test('an invalid PORT in the environment exits 2 with a message', async () => {
  const { code, stderr } = await runCli([], { PORT: 'abc', MOCKLLM_CONFIG: '/nonexistent.yml' });
  assert.equal(code, 2);
  assert.match(stderr, /invalid port "abc"/);
});

test('an unknown flag or log level exits 2 with a message', async () => {
  const unknown = await runCli(['--bogus']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--bogus/);
  assert.match(unknown.stderr, /Usage: mockllm/);
  const level = await runCli(['--log-level', 'loud', '--config', '/nonexistent.yml']);
  assert.equal(level.code, 2);
  assert.match(level.stderr, /invalid log level "loud"/);
});

test('a port already in use makes the CLI exit 1 with a message', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = blocker.address() as { port: number };
    await withConfig(SEED_CONFIG, async (path) => {
      const { code, stderr } = await runCli(['--config', path, '--port', String(port)]);
      assert.equal(code, 1);
      assert.match(stderr, /cannot listen: .*EADDRINUSE/);
    });
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test('run from the repo root with no --config, the CLI serves config/responses.yml (npm start)', async () => {
  const cli = startCli([], { PORT: '0' });
  try {
    const loaded = await cli.waitForLog((line) => line.msg === 'config loaded', "'config loaded'");
    assert.equal(loaded.path, resolve(REPO, 'config/responses.yml'));
    assert.ok(String(loaded.path).endsWith(join('config', 'responses.yml')));
    await cli.waitForLog(isListening, "'mockllm listening'");
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited(), 0);
  } finally {
    kill(cli);
  }
});
