// Issue 11, "A typed library": the package as a user installs it. `npm pack` (which runs the
// prepare script, building dist/ with its .d.ts), the tarball unpacked into a project in a temp
// directory outside the repository, and from there: node:test and vitest files (README's examples
// as written, and thorough ones) using the openai and @anthropic-ai/sdk clients, a strict
// TypeScript consumer checked against the shipped .d.ts, `npx mockllm`, and `require('mockllm')`.
//
// Offline: the tarball is unpacked as npm would install it, and its dependencies are found in the
// repository's node_modules, linked as node_modules one directory above the project (Node and
// TypeScript look up parent directories). So that a dependency missing from package.json cannot
// hide behind that link, one test checks every import in dist/ against "dependencies".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { builtinModules } from 'node:module';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from '../helpers/poll.ts';
import { describe, kill, run, settle, testedBlocks } from './support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONSUMER = fileURLToPath(new URL('./consumer/', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');
const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };

let temp = '';
let project = '';
let installed = '';

before(async () => {
  temp = await mkdtemp(join(tmpdir(), 'mockllm-package-'));
  const packed = await run('npm', ['pack', '--pack-destination', temp, '--ignore-scripts=false'], { cwd: ROOT, timeoutMs: 120_000 });
  assert.equal(packed.code, 0, `npm pack: ${describe(packed)}`);
  project = join(temp, 'app');
  installed = join(project, 'node_modules', 'mockllm');
  await mkdir(join(project, 'node_modules', '.bin'), { recursive: true });
  const unpacked = await run('tar', ['-xzf', join(temp, `mockllm-${manifest.version}.tgz`), '-C', join(project, 'node_modules')], { cwd: temp, timeoutMs: 30_000 });
  assert.equal(unpacked.code, 0, describe(unpacked));
  await rename(join(project, 'node_modules', 'package'), installed);
  // What npm does for "bin": a link in node_modules/.bin, executable.
  await symlink('../mockllm/dist/cli.js', join(project, 'node_modules', '.bin', 'mockllm'));
  await chmod(join(installed, 'dist', 'cli.js'), 0o755);
  await symlink(join(ROOT, 'node_modules'), join(temp, 'node_modules'), 'dir');
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { mockllm: `file:../mockllm-${manifest.version}.tgz` } }, null, 2));
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const [nodeExample, vitestExample] = testedBlocks(readme);
  assert.ok(nodeExample && vitestExample, 'README has the node:test and vitest examples, each after a "<!-- tested: … -->" line');
  // node:test files are named so that vitest's default pattern (*.test.*) leaves them alone.
  await writeFile(join(project, 'readme.node-test.ts'), nodeExample);
  await writeFile(join(project, 'readme.vitest.test.ts'), vitestExample);
  await writeFile(join(project, 'thorough.node-test.mjs'), await readFile(join(CONSUMER, 'thorough.node-test.mjs')));
  await writeFile(join(project, 'thorough.vitest.test.mjs'), await readFile(join(CONSUMER, 'thorough.vitest.mjs')));
  await writeFile(join(project, 'typed.ts'), TYPED_CONSUMER);
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify(STRICT_TSCONFIG, null, 2));
  // The shipped .d.ts checked too (skipLibCheck off), on the file that imports nothing but mockllm.
  const libCheck = { ...STRICT_TSCONFIG, compilerOptions: { ...STRICT_TSCONFIG.compilerOptions, skipLibCheck: false }, include: ['typed.ts'] };
  await writeFile(join(project, 'tsconfig.libcheck.json'), JSON.stringify(libCheck, null, 2));
});

after(async () => {
  if (temp) await rm(temp, { recursive: true, force: true });
});

test('the tarball holds dist/ with its .d.ts, the bundled config, and no sources or tests', async () => {
  const files = await listFiles(installed);
  for (const file of ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/library.d.ts', 'dist/cli.js', 'config/responses.yml']) assert.ok(files.includes(file), `${file} is in the package`);
  assert.deepEqual(files.filter((file) => /^(src|test|bench)\//.test(file) || file.endsWith('.ts') && !file.endsWith('.d.ts')), []);
  const pkg = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; types: string };
  assert.deepEqual(pkg.exports['.'], { types: './dist/index.d.ts', default: './dist/index.js' });
  // Relative imports in the emitted JavaScript and declarations say .js, never .ts (tsc rewrites
  // the JavaScript; scripts/dts-extensions.mjs, run by prepare, the declarations).
  for (const file of files.filter((f) => f.startsWith('dist/'))) {
    const text = await readFile(join(installed, file), 'utf8');
    assert.doesNotMatch(text, /from ['"]\.{1,2}\/[^'"]*\.ts['"]|import\(['"]\.{1,2}\/[^'"]*\.ts['"]\)/, `${file} imports a .ts file`);
  }
});

test('every package dist/ imports is a Node built-in or listed in "dependencies"', async () => {
  const builtins = new Set(builtinModules);
  const missing = new Set<string>();
  for (const file of (await listFiles(join(installed, 'dist'))).filter((f) => f.endsWith('.js'))) {
    const text = await readFile(join(installed, 'dist', file), 'utf8');
    for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const specifier = match[1] ?? match[2]!;
      if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
      const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
      if (!(name in manifest.dependencies)) missing.add(`${name} (${file})`);
    }
  }
  assert.deepEqual([...missing], []);
});

test('node:test: the README example and a thorough file pass, and the process exits by itself', async () => {
  for (const file of ['readme.node-test.ts', 'thorough.node-test.mjs']) {
    // No --test-force-exit: a handle left open would keep the child alive past the deadline.
    const result = await run(process.execPath, ['--test', '--test-reporter=spec', file], { cwd: project, timeoutMs: 60_000, env: childEnv() });
    assert.equal(result.code, 0, `${file}: ${describe(result)}`);
    assert.match(result.stdout, /ℹ fail 0/);
    assert.doesNotMatch(result.stdout, /ℹ pass 0\b/);
  }
});

test('vitest: the README example and a thorough file pass', async () => {
  const result = await run(join(BIN, 'vitest'), ['run', '--root', project, '--reporter=verbose'], { cwd: project, timeoutMs: 60_000, env: { ...childEnv(), CI: '1', NO_COLOR: '1' } });
  assert.equal(result.code, 0, describe(result));
  assert.match(result.stdout, /readme\.vitest\.test\.ts/);
  assert.match(result.stdout, /thorough\.vitest\.test\.mjs/);
  assert.match(result.stdout, /Tests\s+3 passed \(3\)/);
});

test('a strict TypeScript consumer type-checks against the shipped .d.ts, and misuse is caught', async () => {
  for (const config of ['tsconfig.json', 'tsconfig.libcheck.json']) {
    const result = await run(join(BIN, 'tsc'), ['--noEmit', '-p', config], { cwd: project, timeoutMs: 60_000 });
    assert.equal(result.code, 0, `${config}: ${describe(result)}`);
  }
  // The control: the same consumer with one misuse more fails, so the check above can fail.
  await writeFile(join(project, 'typed-wrong.ts'), "import { startMockLLM } from 'mockllm';\nawait startMockLLM({ config: { responses: { hi: 42 } } });\n");
  try {
    const wrong = await run(join(BIN, 'tsc'), ['--noEmit', '-p', 'tsconfig.json'], { cwd: project, timeoutMs: 60_000 });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stdout, /typed-wrong\.ts\(2,/);
  } finally {
    await rm(join(project, 'typed-wrong.ts'));
  }
});

test("require('mockllm') works from CommonJS (require(esm))", async () => {
  const script = [
    "const { startMockLLM } = require('mockllm');",
    '(async () => {',
    "  const mock = await startMockLLM({ config: { responses: { ping: 'pong' } } });",
    "  const res = await fetch(mock.openaiBaseURL + '/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] }) });",
    '  console.log((await res.json()).choices[0].message.content);',
    '  await mock.close();',
    '})();',
  ].join('\n');
  await writeFile(join(project, 'use.cjs'), script);
  const result = await run(process.execPath, ['use.cjs'], { cwd: project, timeoutMs: 30_000, env: childEnv() });
  assert.equal(result.code, 0, describe(result));
  assert.equal(result.stdout.trim(), 'pong');
  assert.doesNotMatch(result.stderr, /ExperimentalWarning/);
});

test('npx mockllm --port 0 from the project (the bundled CLI) serves the bundled config: /healthz, chat and messages answers, a stream, the dashboard and /metrics', async () => {
  const child = spawn('npx', ['--no-install', 'mockllm', '--port', '0', '--log-format', 'json'], { cwd: project, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const exited = settle(child, 30_000, 'npx mockllm');
  try {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = await eventually(() => /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1], { timeoutMs: 20_000, what: `the "mockllm listening" line; output so far: ${output}` });
    const res = await fetch(`${url}/healthz`);
    assert.equal(res.status, 200);
    const health = (await res.json()) as { config?: { path: string } };
    assert.equal(health.config?.path, join(installed, 'config', 'responses.yml'));
    assert.match(output, /serving the default config bundled with mockllm/);

    // dist/cli.js is a bundle whose chunks load lazily (admin, metrics, validators, the tokenizer):
    // each path a user takes first must find its files beside the bundle.
    const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify(body) });
    const chat = await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] });
    assert.equal(chat.status, 200);
    const completion = (await chat.json()) as { choices: { message: { content: string } }[]; usage: { prompt_tokens: number } };
    assert.equal(completion.choices[0]!.message.content, 'pong');
    assert.ok(completion.usage.prompt_tokens > 0, 'usage counted by the packed tokenizer');
    const message = await post('/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'what is 2+2?' }], stream: true });
    assert.equal(message.status, 200);
    assert.match(await message.text(), /event: message_stop/);
    const invalid = await post('/v1/messages', { model: 'claude-sonnet-4-5', messages: 'nope' });
    assert.equal(invalid.status, 400);
    assert.equal(((await invalid.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
    const page = await fetch(`${url}/admin/ui/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script/);
    const script = await fetch(`${url}/admin/ui/app.js`);
    assert.equal(script.status, 200);
    await script.arrayBuffer();
    const metrics = await fetch(`${url}/metrics`);
    assert.match(await metrics.text(), /mockllm_responses_total\{provider="anthropic",endpoint="\/v1\/messages",matched="true"\} 1/);
  } finally {
    kill(child, 'SIGTERM');
    const result = await exited;
    assert.ok(result.code === 0 || result.signal === 'SIGTERM', describe(result));
  }
});

/** This process's environment without what the test runner sets for its own children (NODE_TEST_CONTEXT would make a child's node --test report to this runner in its binary protocol). */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(join(dir, entry.name), path)));
    else out.push(path);
  }
  return out.sort();
}

const STRICT_TSCONFIG = {
  compilerOptions: {
    target: 'es2024',
    lib: ['es2024', 'dom'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    verbatimModuleSyntax: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: true,
  },
  include: ['*.ts'],
};

/** Uses every export the way a user would; each @ts-expect-error fails the check if its line is not an error (e.g. when a type resolved to any). */
const TYPED_CONSUMER = `import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BUNDLED_CONFIG_PATH,
  ConfigError,
  createMockLLMHandler,
  MockLLMError,
  startMockLLM,
  type ConfigFile,
  type MockLLM,
  type MockLLMHandler,
  type MockLLMOptions,
  type RequestEntry,
  type RequestFilter,
  type ResponseSpec,
  type RuleSpec,
} from 'mockllm';

const answer: ResponseSpec = { text: 'Sunny.', latency: { ttft_ms: 5, jitter_ms: 1, seed: 7 }, chunking: 'word' };
export const config: ConfigFile = {
  responses: { hi: 'Hello.' },
  rules: [
    { id: 'weather', priority: 2, match: { contains: 'weather', provider: 'openai', model: 'gpt-4*' }, response: answer },
    { match: { tools: 'get_weather' }, response: { tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] } },
    { match: { prompt: 'fail' }, response: { error: { status: 429, retry_after: 1 } } },
  ],
  settings: { match: 'normalized', journal_size: 10, admin: { token: 't' } },
  defaults: { on_unmatched: 'error' },
};
// @ts-expect-error: not a match mode
export const badMode: ConfigFile = { settings: { match: 'fuzzy' } };
// @ts-expect-error: an answer is text or a response object
export const badAnswer: ConfigFile = { responses: { hi: 42 } };
// @ts-expect-error: "txt" is not a response key
export const badRule: RuleSpec = { match: {}, response: { txt: 'typo' } };

export async function use(): Promise<void> {
  const options: MockLLMOptions = { config, port: 0, host: '127.0.0.1', logLevel: 'silent', strict: true, adminToken: 'x', watch: false };
  const mock: MockLLM = await startMockLLM(options);
  const urls: string[] = [mock.url, mock.openaiBaseURL, mock.anthropicBaseURL, BUNDLED_CONFIG_PATH];
  const id: string = await mock.addRule({ prompt: 'p', response: 'r' });
  await mock.updateRule(id, { match: { regex: '^p' }, response: { sequence: ['one', { text: 'two' }], then: 'loop' } });
  const filter: RequestFilter = { ruleId: id, unmatched: false, provider: 'openai', endpoint: '/v1/chat/completions' };
  const entries: RequestEntry[] = await mock.requests(filter);
  const status: number | undefined = entries[0]?.status;
  const ruleId: string | null | undefined = entries[0]?.ruleId;
  await mock.removeRule(id);
  await mock.reset();
  await mock.close();
  // @ts-expect-error: requests() resolves to entries
  const wrong: number = await mock.requests();
  // @ts-expect-error: not an option
  await startMockLLM({ prot: 1 });
  // @ts-expect-error: addRule resolves to the id, a string
  const count: number = await mock.addRule({ prompt: 'p', response: 'r' });
  // @ts-expect-error: a log level is one of pino's names
  await startMockLLM({ logLevel: 'loud' });
  const handled: MockLLMHandler = await createMockLLMHandler({ config: './responses.yml' });
  const listener: (req: IncomingMessage, res: ServerResponse) => void = handled.handler;
  await handled.close();
  try {
    await startMockLLM();
  } catch (error) {
    if (error instanceof ConfigError) console.error(error.message);
    if (error instanceof MockLLMError) console.error(error.code, error.field);
  }
  void [urls, status, ruleId, wrong, count, listener];
}
`;
