// npm run bench:redis [-- --seconds N]
//
// What sharing state through Redis costs the request path: the S1 scenario of bench/run.ts
// (OpenAI chat, non-stream, 50 connections) against two CLI servers started side by side, one
// with its state in memory and one with --redis on a redis-server started here (temporary
// directory, no persistence, free port). Windows alternate between the two, so both see the same
// machine load; the figure that matters is the ratio, which issue 13 wants at 0.9 or more. Every
// request is journaled, so the Redis side also pays for formatting and writing the journal.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values: flags } = parseArgs({ options: { seconds: { type: 'string' } } });
const totalSeconds = Number(flags.seconds ?? 20);
const ROUNDS = 4;
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

const ANSWER =
  'The sky looks blue on a clear day because air molecules scatter short (blue) wavelengths of sunlight far more than long (red) ones: ' +
  'this is Rayleigh scattering. At sunrise and sunset the light crosses more air, so more blue is scattered away and reds remain.';
const dir = mkdtempSync(join(tmpdir(), 'mockllm-bench-redis-'));
const configPath = join(dir, 'responses.yml');
writeFileSync(configPath, `responses:\n  "What colour is the sky?": ${JSON.stringify(ANSWER)}\n`);
const BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are a helpful assistant. Answer briefly and accurately.' },
    { role: 'user', content: 'What colour is the sky?' },
  ],
});

const children: ChildProcess[] = [];
const stopAll = () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', stopAll);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves with the first stdout line matching `pattern`; fails when the process exits first. */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (pattern.test(line)) {
        lines.close();
        child.stdout!.resume();
        resolve(line);
      }
    });
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready`)));
  });
}

async function startRedis(): Promise<string> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  child.once('error', (error) => {
    console.error(`cannot start redis-server (${error.message}): install it (apt-get install redis-server)`);
    process.exit(1);
  });
  await waitForLine(child, /Ready to accept connections/, 'redis-server');
  return `redis://127.0.0.1:${port}`;
}

async function startMock(name: string, args: string[]): Promise<{ name: string; url: string }> {
  const child = spawn(process.execPath, [CLI, '--port', '0', '--config', configPath, '--log-format', 'json', '--log-level', 'info', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const line = await waitForLine(child, /"msg":"mockllm listening"/, name);
  return { name, url: (JSON.parse(line) as { url: string }).url };
}

async function window(server: { url: string }, seconds: number): Promise<{ requests: number; errors: number; seconds: number }> {
  const result = await autocannon({
    url: `${server.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
    body: BODY,
    connections: 50,
    duration: seconds,
  });
  return { requests: result.requests.total, errors: result.errors + result.non2xx, seconds };
}

const redisUrl = await startRedis();
// Both log at info (as bench/run.ts's S1 does) into a pipe that is drained; the journal is on.
const [memory, redis] = await Promise.all([startMock('in memory', []), startMock('with --redis', ['--redis', redisUrl])]);
console.log(`mockllm in memory at ${memory.url}, with --redis at ${redis.url} (${redisUrl}); ${ROUNDS} alternating rounds, ${totalSeconds} s in all`);

// Warm-up: JIT, connections, the Redis connection's first batches.
await Promise.all([window(memory, 1), window(redis, 1)]);
const totals = new Map<string, { requests: number; errors: number; seconds: number }>();
const windowSeconds = Math.max(1, totalSeconds / (2 * ROUNDS));
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so neither always gets the quieter half.
  for (const server of round % 2 === 0 ? [memory, redis] : [redis, memory]) {
    const result = await window(server, windowSeconds);
    const total = totals.get(server.name) ?? { requests: 0, errors: 0, seconds: 0 };
    totals.set(server.name, { requests: total.requests + result.requests, errors: total.errors + result.errors, seconds: total.seconds + result.seconds });
  }
}
const rate = (name: string) => totals.get(name)!.requests / totals.get(name)!.seconds;
for (const name of [memory.name, redis.name]) {
  const total = totals.get(name)!;
  console.log(`${name.padEnd(13)} ${rate(name).toFixed(0).padStart(7)} req/s  (${total.requests} requests, ${total.errors} errors)`);
}
const ratio = rate(redis.name) / rate(memory.name);
console.log(`ratio with --redis / in memory: ${ratio.toFixed(3)} (issue 13 asks for >= 0.9)`);
stopAll();
process.exit(0);
