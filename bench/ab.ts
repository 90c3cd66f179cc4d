// npm run bench:ab -- <other checkout> [--seconds 3] [--rounds 3] [--rate 1500 (0: flat out only)]
//
// Server CPU per non-stream request (S1's requests), this tree against another checkout of
// mockllm (e.g. `git worktree add ../base HEAD~1`), measured in one run: the two servers run side
// by side as child processes (each checkout's own bench/server-entry.ts) and are loaded in A-B-B-A
// windows, at a fixed rate neither saturates (so CPU per request is not bent by queueing) and
// then flat out. This is how each change of issue 17 was judged: on this shared, noisy machine a
// difference of a few per cent only shows side by side.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { spawnChild, type ServerChild } from './children.ts';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '1500' },
    provider: { type: 'string', default: 'both' },
    // A settings line for the other server only (e.g. 'journal_size: 0'): the cost of a feature, same code on both sides.
    'other-settings': { type: 'string' },
    // Node flags for the other server only (e.g. '--max-semi-space-size=64').
    'other-node-flags': { type: 'string' },
    // Environment variables for the other server only (e.g. 'NAME=value OTHER=value').
    'other-env': { type: 'string' },
  },
});
const other = positionals[0];
if (!other) {
  console.error('usage: node bench/ab.ts <other mockllm checkout> [--seconds 3] [--rounds 3] [--rate 1500] [--provider openai|anthropic|both]');
  process.exit(2);
}
const seconds = Number(flags.seconds);
const rounds = Number(flags.rounds);
const rate = Number(flags.rate);
const here = fileURLToPath(new URL('..', import.meta.url));

const ANSWER = 'The sky looks blue on a clear day because air molecules scatter short (blue) wavelengths of sunlight far more than long (red) ones.';
const SYSTEM = 'You are a helpful assistant. Answer briefly and accurately.';
interface BenchRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}
const REQUESTS: Record<'openai' | 'anthropic', BenchRequest> = {
  openai: {
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: 'What colour is the sky?' }] }),
  },
  anthropic: {
    path: '/v1/messages',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-bench', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 512, system: SYSTEM, messages: [{ role: 'user', content: 'What colour is the sky?' }] }),
  },
};

const dir = mkdtempSync(join(tmpdir(), 'mockllm-ab-'));
const configPath = join(dir, 'responses.yml');
const config = `responses:\n  "What colour is the sky?": ${JSON.stringify(ANSWER)}\n`;
writeFileSync(configPath, config);
const otherConfigPath = join(dir, 'other.yml');
writeFileSync(otherConfigPath, flags['other-settings'] ? `${config}settings:\n  ${flags['other-settings']}\n` : config);

function spawn(name: 'this' | 'other', tree: string): Promise<ServerChild> {
  const nodeFlags = name === 'other' && flags['other-node-flags'] ? flags['other-node-flags'].split(' ') : [];
  const env = name === 'other' && flags['other-env'] ? Object.fromEntries(flags['other-env'].split(' ').map((pair) => pair.split('=', 2) as [string, string])) : undefined;
  return spawnChild(name, join(tree, 'bench/server-entry.ts'), [name === 'other' ? otherConfigPath : configPath, 'info'], { stdout: join(dir, `${name}.log`), execArgv: nodeFlags, ...(env && { env }) });
}

async function window(child: ServerChild, req: BenchRequest, fixedRate: boolean) {
  await child.stats(true);
  const result = await autocannon({
    url: child.url + req.path,
    method: 'POST',
    headers: req.headers,
    body: req.body,
    connections: fixedRate ? 10 : 50,
    duration: seconds,
    ...(fixedRate && { overallRate: rate }),
  });
  const stats = await child.stats(true);
  if (result.non2xx || result.errors) console.log(`  ! ${child.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { requests: result.requests.total, seconds: result.duration, cpuMs: stats.cpuMs };
}

const providers = flags.provider === 'both' ? (['openai', 'anthropic'] as const) : [flags.provider as 'openai' | 'anthropic'];
type Totals = { requests: number; seconds: number; cpuMs: number };
const totals = new Map<string, Totals>();
const add = (key: string, w: Totals) => {
  const t = totals.get(key) ?? { requests: 0, seconds: 0, cpuMs: 0 };
  t.requests += w.requests;
  t.seconds += w.seconds;
  t.cpuMs += w.cpuMs;
  totals.set(key, t);
};
// Two passes, the servers spawned in one order and then the other: the process spawned first
// measured a few per cent slower in both roles (same code on both sides), whatever the cause.
let children: ServerChild[] = [];
try {
  for (const pass of [0, 1]) {
    children = pass === 0 ? [await spawn('this', here), await spawn('other', resolve(other))] : [await spawn('other', resolve(other)), await spawn('this', here)];
    for (const provider of providers) {
      const req = REQUESTS[provider];
      for (const child of children) await window(child, req, false); // warm-up
      for (const fixedRate of rate > 0 ? [true, false] : [false]) {
        const order = [...children, ...[...children].reverse()];
        for (let r = 0; r < rounds; r++) for (const child of order) add(`${provider} ${fixedRate} ${child.name}`, await window(child, req, fixedRate));
      }
    }
    for (const child of children) await child.stop();
  }
  for (const provider of providers) {
    for (const fixedRate of rate > 0 ? [true, false] : [false]) {
      const [a, b] = ['this', 'other'].map((name) => {
        const t = totals.get(`${provider} ${fixedRate} ${name}`)!;
        return { rps: t.requests / t.seconds, cpuUs: (t.cpuMs * 1000) / t.requests };
      }) as [{ rps: number; cpuUs: number }, { rps: number; cpuUs: number }];
      const label = fixedRate ? `${rate} req/s` : 'flat out';
      console.log(
        `${provider.padEnd(9)} ${label.padEnd(12)} this ${a.rps.toFixed(0)} req/s ${a.cpuUs.toFixed(1)} µs/req | other ${b.rps.toFixed(0)} req/s ${b.cpuUs.toFixed(1)} µs/req | ` +
          `CPU this/other ${(a.cpuUs / b.cpuUs).toFixed(3)}, req/s this/other ${(a.rps / b.rps).toFixed(3)}`,
      );
    }
  }
} finally {
  for (const child of children) await child.stop();
  rmSync(dir, { recursive: true, force: true });
}
