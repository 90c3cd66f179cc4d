// README's commands on a Node.js older than package.json's engines.node stop at once with one line
// (version found, version needed, where to get it): scripts/check-node.cjs as the npm pre-script of
// start and test, and engine-strict in .npmrc for npm ci / npm install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHECK = join(REPO, 'scripts', 'check-node.cjs');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string }; scripts: Record<string, string> };
const NEEDED = pkg.engines.node.replace(/^>=\s*/, '');

/** The check under this Node, with MOCKLLM_NODE_VERSION standing in for the version it sees. */
function check(version: string | undefined, node = process.execPath) {
  const env = { ...process.env };
  delete env.MOCKLLM_NODE_VERSION;
  if (version !== undefined) env.MOCKLLM_NODE_VERSION = version;
  const run = spawnSync(node, [CHECK], { env, encoding: 'utf8', timeout: 30_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function assertRefusal(result: ReturnType<typeof check>, found: string) {
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, '');
  const lines = result.stderr.split('\n');
  assert.equal(lines.length, 2, `one line, then the newline: ${JSON.stringify(result.stderr)}`);
  assert.equal(lines[1], '');
  const line = lines[0]!;
  assert.ok(line.includes(`found v${found.replace(/^v/, '')}`), line);
  assert.ok(line.includes(`needs Node.js ${NEEDED} or newer`), line);
  assert.ok(line.includes('https://nodejs.org/'), line);
  assert.ok(line.includes('npx -y -p node@24 npm'), line);
}

test('the check passes silently on this Node and on versions at or above engines.node', () => {
  for (const version of [undefined, NEEDED, `${NEEDED}.0`, '22.22.1', '23.0.0', '24.21.0', 'v30.1.2']) {
    const result = check(version);
    assert.deepEqual(result, { code: 0, stdout: '', stderr: '' }, `version ${version ?? process.version}`);
  }
});

test('the check stops older versions with one line naming the version found, the version needed and where to get Node', () => {
  for (const version of ['22.21.9', 'v22.9.0', '20.20.2', '18.0.0', '21.99.99']) assertRefusal(check(version), version);
});

// The machine's own older node, where there is one (the CI machine's /usr/bin/node is 20).
const OLD_NODE = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => {
  if (!existsSync(path)) return false;
  const [major = 0, minor = 0] = execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim().split('.').map(Number);
  return major < 22 || (major === 22 && minor < 22);
});

test('under a real older Node the check runs (CommonJS, no modern syntax) and refuses', { skip: OLD_NODE ? undefined : 'no Node.js older than 22.22 on this machine' }, () => {
  const version = execFileSync(OLD_NODE!, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  assertRefusal(check(undefined, OLD_NODE), version);
});

test('npm start and npm test run the check first; npm ci and npm install refuse through engine-strict', () => {
  assert.equal(pkg.scripts.prestart, 'node scripts/check-node.cjs');
  assert.equal(pkg.scripts.pretest, 'node scripts/check-node.cjs');
  const npmrc = readFileSync(join(REPO, '.npmrc'), 'utf8').split('\n').map((line) => line.trim());
  assert.ok(npmrc.includes('engine-strict=true'), '.npmrc sets engine-strict=true');
});

// npm itself, run by that older node (npm 10 and 11 run on Node 20).
const NPM_CLI = ['/usr/lib/node_modules/npm/bin/npm-cli.js', '/usr/local/lib/node_modules/npm/bin/npm-cli.js'].find((path) => existsSync(path));
const NO_OLD_NPM = !OLD_NODE ? 'no Node.js older than 22.22 on this machine' : !NPM_CLI ? `no npm beside ${OLD_NODE}` : undefined;

test('npm test, npm start and npm ci on an older Node stop before doing anything else', { skip: NO_OLD_NPM, timeout: 120_000 }, async () => {
  // A copy of the manifest, lock file, .npmrc and the check only: had the check let npm through,
  // it would fail later on a missing tsc or src/, and the assertions below would say so.
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-old-node-'));
  try {
    await copyFile(join(REPO, 'package.json'), join(dir, 'package.json'));
    await copyFile(join(REPO, '.npmrc'), join(dir, '.npmrc'));
    await copyFile(join(REPO, 'package-lock.json'), join(dir, 'package-lock.json'));
    await mkdir(join(dir, 'scripts'));
    await copyFile(CHECK, join(dir, 'scripts', 'check-node.cjs'));
    const oldBin = join(OLD_NODE!, '..');
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${oldBin}:/usr/bin:/bin`, npm_config_update_notifier: 'false' };
    for (const key of Object.keys(env)) if (/^npm_(lifecycle|package|config_(?!update))/i.test(key)) delete env[key];
    for (const command of [['test'], ['start'], ['ci', '--offline', '--ignore-scripts']]) {
      const run = spawnSync(OLD_NODE!, [NPM_CLI!, ...command], { cwd: dir, env, encoding: 'utf8', timeout: 30_000 });
      const output = `${run.stdout}\n${run.stderr}`;
      assert.notEqual(run.status, 0, `npm ${command.join(' ')} fails: ${output}`);
      if (command[0] === 'ci') {
        assert.match(output, /EBADENGINE/, `npm ci refuses on the engine: ${output}`);
        assert.equal(existsSync(join(dir, 'node_modules')), false, 'npm ci installed nothing');
      } else {
        assert.ok(output.includes(`needs Node.js ${NEEDED} or newer, found v`), `npm ${command[0]}: ${output}`);
        assert.doesNotMatch(output, /tsc|Unknown file extension|Could not find/, `npm ${command[0]} went past the check: ${output}`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
