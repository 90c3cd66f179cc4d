import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SEED_CONFIG } from '../helpers/server.ts';
import { eventually } from '../helpers/poll.ts';
import { INFO_FLAGS, SERVE_FLAGS } from '../../src/cli/usage.ts';
import { CLEAN_ENV, CLI, DEADLINE_MS, REPO, escapeRe, freePort, hasEnded, isListening, kill, runCli, runCliMerged, startCli, withConfig, withDeadline } from './support.ts';


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

test('a missing --config file makes the CLI exit 1 saying "no such file" and what to do, not ENOENT', async () => {
  const path = join(tmpdir(), `mockllm-missing-${process.pid}`, 'responses.yml');
  const { code, stderr } = await runCli(['--config', path, '--port', '0']);
  assert.equal(code, 1);
  assert.equal(stderr, `mockllm: no such file: ${path}; pass --config or create config/responses.yml\n`);
});

test('a missing MOCKLLM_CONFIG file is named as coming from MOCKLLM_CONFIG', async () => {
  const path = join(tmpdir(), `mockllm-missing-${process.pid}`, 'env.yml');
  const { code, stderr } = await runCli(['--port', '0'], { env: { MOCKLLM_CONFIG: path } });
  assert.equal(code, 1);
  assert.match(stderr, new RegExp(`^mockllm: no such file: ${escapeRe(path)}; MOCKLLM_CONFIG names it`));
  assert.doesNotMatch(stderr, /ENOENT/);
});

test('a --config naming a directory says it is a directory and names the file to pass, not EISDIR', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-cli-dir-'));
  try {
    await mkdir(join(dir, 'config'));
    const { code, stderr } = await runCli(['--config', join(dir, 'config'), '--port', '0']);
    assert.equal(code, 1);
    assert.equal(stderr, `mockllm: ${join(dir, 'config')} is a directory, not a config file; name the YAML file in it (e.g. ${join(dir, 'config', 'responses.yml')})\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
    for (let i = 0; i < 4; i++) {
      const signal = i % 2 === 0 ? 'SIGTERM' : 'SIGINT';
      const cli = startCli(['--port', '0', '--config', path], {
        onLine: (line) => {
          if (isListening(line)) cli.child.kill(signal);
        },
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
    const cli = startCli([], { env: { MOCKLLM_CONFIG: path, PORT: '0', HOST: '127.0.0.2', LOG_LEVEL: 'info' } });
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
      env: { MOCKLLM_CONFIG: '/nonexistent/responses.yml', HOST: '127.0.0.2', PORT: 'not-a-port' },
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
    const cli = startCli(['--config', path], { env: { PORT: String(port), LOG_LEVEL: 'warn' } });
    try {
      // The poll ends at its deadline, or as soon as the child is gone (exited or killed).
      const status = await eventually(
        async () => (hasEnded(cli.child) ? -1 : await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => (r.status === 200 ? 200 : 0), () => 0)),
        { timeoutMs: DEADLINE_MS, what: '/healthz to answer' },
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

const ALL_FLAGS = Object.keys(SERVE_FLAGS).map((name) => `--${name}`);

test('--help prints the usage, with every flag in its synopsis, and exits 0', async () => {
  assert.ok(ALL_FLAGS.includes('--shutdown-grace-ms') && ALL_FLAGS.includes('--log-format'));
  for (const flag of ['--help', '-h']) {
    const { code, stdout } = await runCli([flag]);
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: mockllm /);
    const synopsis = stdout.slice(0, stdout.indexOf('\n\n'));
    for (const option of [...ALL_FLAGS, 'validate', '--json', '--help', '--version']) assert.ok(synopsis.includes(option), `the synopsis names ${option}:\n${synopsis}`);
    for (const name of Object.keys(INFO_FLAGS)) assert.ok(stdout.includes(`--${name}`));
  }
});

test("README's flag table lists every flag of the CLI, with its environment variable", () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  for (const [name, spec] of Object.entries(SERVE_FLAGS)) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`--${name}\``));
    assert.ok(row, `README's flag table has a row for --${name}`);
    if ('env' in spec) assert.ok(row.includes(spec.env.replace(/=.*/, '')), `the --${name} row names ${spec.env}: ${row}`);
  }
  const synopsis = /```\nmockllm (\[.*)\n/.exec(readme)?.[1] ?? '';
  for (const flag of ALL_FLAGS) assert.ok(synopsis.includes(flag), `README's synopsis names ${flag}`);
});

// A loader hook that reports every module loaded from src/server.ts or koa: --help and --version
// must not load the server (that is what makes them fast), and serving must.
const REPORT_SERVER_LOADS = `data:text/javascript,${encodeURIComponent(
  "import { registerHooks } from 'node:module';" +
    "registerHooks({ load(url, context, next) { if (url.endsWith('/src/server.ts') || url.includes('/node_modules/koa/')) process.stderr.write('LOADED ' + url + '\\n'); return next(url, context); } });",
)}`;

test('--help and --version answer without loading the server', async () => {
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  for (const [flag, expected] of [['--help', /^Usage: mockllm /], ['--version', new RegExp(`^${escapeRe(version)}$`)], ['-v', new RegExp(`^${escapeRe(version)}$`)]] as const) {
    const { code, stdout, stderr } = await runCli([flag], { nodeArgs: ['--import', REPORT_SERVER_LOADS] });
    assert.equal(code, 0, stderr);
    assert.match(stdout, expected);
    assert.doesNotMatch(stderr, /LOADED/, `${flag} loaded the server`);
  }
  // The hook works: serving does load the server.
  await withConfig(SEED_CONFIG, async (path) => {
    const cli = startCli(['--port', '0', '--config', path], { nodeArgs: ['--import', REPORT_SERVER_LOADS] });
    try {
      await cli.waitForLog(isListening, "'mockllm listening'");
      assert.match(cli.stderr(), /LOADED .*\/src\/server\.ts/);
    } finally {
      kill(cli);
    }
  });
});

test('an invalid --port exits 2 with a message naming the value', async () => {
  for (const port of ['abc', '-1', '65536', '80.5', '']) {
    const { code, stderr } = await runCli([`--port=${port}`, '--config', '/nonexistent.yml']);
    assert.equal(code, 2, `--port ${JSON.stringify(port)}`);
    assert.match(stderr, new RegExp(`invalid port "${escapeRe(port)}"`));
  }
});

test('empty MOCKLLM_CONFIG, HOST and LOG_LEVEL count as unset and fall back to the defaults', async () => {
  const cli = startCli(['--port', '0'], { env: { MOCKLLM_CONFIG: '', HOST: '', LOG_LEVEL: '' } });
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
  const { code, stderr } = await runCli(['--log-level', 'loud'], { env: { PORT: '' } });
  assert.equal(code, 2);
  assert.doesNotMatch(stderr, /invalid port/);
  assert.match(stderr, /invalid log level "loud"/);
});

test('an invalid PORT in the environment exits 2 with a message', async () => {
  const { code, stderr } = await runCli([], { env: { PORT: 'abc', MOCKLLM_CONFIG: '/nonexistent.yml' } });
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

test('a port already in use makes the CLI exit 1, saying so first and suggesting --port', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = blocker.address() as { port: number };
    await withConfig(SEED_CONFIG, async (path) => {
      const { code, output } = await runCliMerged(['--config', path, '--port', String(port)], { env: { LOG_LEVEL: 'info' } });
      assert.equal(code, 1);
      const lines = output.trimEnd().split('\n');
      // The reason comes first, before the lines logged on the way (config loaded, the admin warning).
      assert.equal(
        lines[0],
        `mockllm: port ${port} on 127.0.0.1 is already in use (another server, perhaps another mockllm, is listening there); stop it, or pick another port with --port N (--port 0 picks a free one)`,
      );
      assert.ok(lines.slice(1).some((line) => line.includes('"config loaded"')), `the start-up lines follow: ${output}`);
      assert.doesNotMatch(output, /EADDRINUSE/);
    });
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test('run from the repo root with no --config, the CLI serves config/responses.yml (npm start)', async () => {
  const cli = startCli([], { env: { PORT: '0' } });
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

test('run from a directory without config/responses.yml, the CLI serves the config bundled with the package and says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-cli-cwd-'));
  const bundled = join(REPO, 'config', 'responses.yml');
  const cli = startCli(['--port', '0'], { cwd: dir });
  try {
    const notice = await cli.waitForLog((line) => typeof line.msg === 'string' && line.msg.includes('bundled'), 'the bundled-config notice');
    assert.equal(notice.path, bundled);
    assert.match(String(notice.msg), /no config\/responses\.yml in .*: serving the default config bundled with mockllm/);
    const loaded = await cli.waitForLog((line) => line.msg === 'config loaded', "'config loaded'");
    assert.equal(loaded.path, bundled);
    const listening = await cli.waitForLog(isListening, "'mockllm listening'");
    const res = await fetch(`http://127.0.0.1:${listening.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] }),
    });
    assert.equal(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content, 'pong');
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited(), 0);
  } finally {
    kill(cli);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a config/responses.yml in the working directory wins over the bundled one', async () => {
  await withConfig('responses:\n  "ping": "pong from the working directory"\n', async (path, dir) => {
    await mkdir(join(dir, 'config'));
    const { rename } = await import('node:fs/promises');
    await rename(path, join(dir, 'config', 'responses.yml'));
    const cli = startCli(['--port', '0'], { cwd: dir });
    try {
      const loaded = await cli.waitForLog((line) => line.msg === 'config loaded', "'config loaded'");
      assert.equal(loaded.path, join(dir, 'config', 'responses.yml'));
      assert.ok(!cli.logs.some((line) => String(line.msg).includes('bundled')));
    } finally {
      kill(cli);
    }
  });
});

test('--log-format pretty writes one readable line per entry instead of JSON', async () => {
  await withConfig(SEED_CONFIG, async (path) => {
    const cli = startCli(['--port', '0', '--config', path, '--log-format', 'pretty']);
    try {
      const line = await cli.waitForLine((text) => text.includes('mockllm listening'), "'mockllm listening'");
      assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} INFO  mockllm listening url=http:\/\/127\.0\.0\.1:\d+ host=127\.0\.0\.1 port=\d+$/);
      assert.deepEqual(cli.logs, [], 'no JSON line');
      assert.doesNotMatch(line, /\u001b\[/, 'no colour codes on a pipe');
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited(), 0);
      await cli.waitForLine((text) => /INFO  mockllm stopped$/.test(text), "'mockllm stopped'");
    } finally {
      kill(cli);
    }
  });
});

test('MOCKLLM_LOG_FORMAT chooses the format; FORCE_COLOR colours pretty lines; --log-format json wins over it', async () => {
  await withConfig(SEED_CONFIG, async (path) => {
    const pretty = startCli(['--port', '0', '--config', path], { env: { MOCKLLM_LOG_FORMAT: 'pretty', FORCE_COLOR: '1' } });
    try {
      const line = await pretty.waitForLine((text) => text.includes('mockllm listening'), "'mockllm listening'");
      assert.match(line, /\u001b\[32mINFO \u001b\[0m/, 'INFO in green');
    } finally {
      kill(pretty);
    }
    const json = startCli(['--port', '0', '--config', path, '--log-format', 'json'], { env: { MOCKLLM_LOG_FORMAT: 'pretty' } });
    try {
      const listening = await json.waitForLog(isListening, "'mockllm listening'");
      assert.equal(listening.service, 'mockllm');
      assert.deepEqual(json.otherStdout, []);
    } finally {
      kill(json);
    }
  });
});

test('an unknown log format exits 2 naming the choices', async () => {
  const { code, stderr } = await runCli(['--log-format', 'xml', '--config', '/nonexistent.yml']);
  assert.equal(code, 2);
  assert.equal(stderr, 'mockllm: invalid log format "xml"; use json or pretty\n');
});

// util-linux `script` runs a command on a pseudo-terminal: the way to see what a person at a
// terminal sees. The output is read while the server runs (a run that ends by itself can lose its
// last lines: script may stop reading the terminal before it is drained), then the server is stopped.
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((path) => existsSync(path));

test('on a terminal the default is coloured readable lines (NO_COLOR keeps them readable, without colour)', { skip: SCRIPT ? undefined : 'util-linux script(1) is not installed' }, async () => {
  await withConfig(SEED_CONFIG, async (path) => {
    const onTerminal = async (env: Record<string, string>) => {
      const command = [process.execPath, CLI, '--config', path, '--port', '0'].map((arg) => `'${arg}'`).join(' ');
      // A person's terminal, not CI's: Node reports no colours whenever a CI variable is set
      // (tty.WriteStream.getColorDepth), and CI runs this suite with CI=true.
      const { CI: _ci, ...outsideCi } = CLEAN_ENV;
      const child = spawn(SCRIPT!, ['-qec', command, '/dev/null'], { cwd: REPO, env: { ...outsideCi, TERM: 'xterm-256color', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      try {
        await eventually(() => /mockllm listening/.test(output), { what: `the listening line on the terminal: ${output}` });
        return output;
      } finally {
        // Closing script's terminal hangs up the server on it (SIGHUP).
        if (!hasEnded(child)) child.kill('SIGTERM');
        await withDeadline(closed, 'script(1) to end');
      }
    };
    const coloured = await onTerminal({});
    assert.match(coloured, /\u001b\[32mINFO \u001b\[0m \u001b\[1mconfig loaded\u001b\[0m/, coloured);
    assert.doesNotMatch(coloured, /"msg":/, 'no JSON on a terminal');
    const plain = await onTerminal({ NO_COLOR: '1' });
    assert.match(plain, /^\d\d:\d\d:\d\d\.\d{3} INFO  config loaded path=/m, plain);
    assert.doesNotMatch(plain, /\u001b\[\d+m/);
  });
});
