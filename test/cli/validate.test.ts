// `mockllm validate FILE...`: the start-up checks, offline, for people and for CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, escapeRe, runCli, withConfig } from './support.ts';

const BAD = 'responses:\n  "hi": "there"\nsettings:\n  match: fuzzy\n';

test('validate exits 0 for valid files and says how many answers each holds', async () => {
  const examples = readdirSync(join(REPO, 'config', 'examples')).filter((f) => f.endsWith('.yml')).map((f) => join('config', 'examples', f));
  const { code, stdout, stderr } = await runCli(['validate', 'config/responses.yml', ...examples]);
  assert.equal(code, 0, stdout + stderr);
  assert.match(stdout, /^config\/responses\.yml: ok \(\d+ responses, 0 rules\)$/m);
  for (const file of examples) assert.match(stdout, new RegExp(`^${escapeRe(file)}: ok \\(`, 'm'));
  assert.match(stdout, new RegExp(`^${examples.length + 1} files: all valid$`, 'm'));
});

test('validate exits 1 for an invalid file with the very message the server gives at start-up', async () => {
  await withConfig(BAD, async (path) => {
    const checked = await runCli(['validate', path]);
    assert.equal(checked.code, 1);
    assert.equal(checked.stdout, `${path}:4: settings.match must be one of "normalized", "exact"`);
    const started = await runCli(['--config', path, '--port', '0']);
    assert.equal(started.code, 1);
    assert.ok(started.stderr.includes(checked.stdout), `start-up says the same: ${started.stderr}`);
  });
});

test('validate checks every file even after a bad one, and a missing file or a directory is named in words', async () => {
  await withConfig(BAD, async (path, dir) => {
    const good = join(dir, 'good.yml');
    await writeFile(good, 'rules:\n  - response: "catch-all"\n');
    const missing = join(dir, 'missing.yml');
    const { code, stdout } = await runCli(['validate', path, missing, dir, good]);
    assert.equal(code, 1);
    assert.deepEqual(stdout.split('\n'), [
      `${path}:4: settings.match must be one of "normalized", "exact"`,
      `no such file: ${missing}`,
      `${dir} is a directory, not a config file; name the YAML file in it (e.g. ${join(dir, 'responses.yml')})`,
      `${good}: ok (0 responses, 1 rule)`,
      '4 files: 3 invalid',
    ]);
  });
});

test('validate --json prints one document with each file, line, path and message, for CI', async () => {
  await withConfig(BAD, async (path, dir) => {
    const yamlError = join(dir, 'syntax.yml');
    await writeFile(yamlError, 'responses:\n  "hi": "there\n  "x": [\n');
    const { code, stdout } = await runCli(['validate', '--json', 'config/responses.yml', path, yamlError]);
    assert.equal(code, 1);
    const report = JSON.parse(stdout) as { valid: boolean; files: Record<string, unknown>[] };
    assert.equal(report.valid, false);
    assert.deepEqual(report.files[0], { file: 'config/responses.yml', valid: true, responses: report.files[0]!.responses, rules: 0 });
    assert.deepEqual(report.files[1], {
      file: path,
      valid: false,
      problems: [{ file: path, line: 4, path: 'settings.match', message: 'settings.match must be one of "normalized", "exact"' }],
    });
    const [problem] = (report.files[2] as { problems: { line: number; column: number; message: string }[] }).problems;
    assert.equal(typeof problem!.line, 'number');
    assert.equal(typeof problem!.column, 'number');
    assert.match(problem!.message, /^invalid YAML: /);
    const ok = await runCli(['validate', '--json', 'config/responses.yml']);
    assert.equal(ok.code, 0);
    assert.equal((JSON.parse(ok.stdout) as { valid: boolean }).valid, true);
  });
});

test('validate with no file, or an unknown flag, is a usage error (exit 2)', async () => {
  const none = await runCli(['validate']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /validate needs at least one config file/);
  assert.match(none.stderr, /Usage: mockllm validate/);
  const unknown = await runCli(['validate', '--port', '1', 'config/responses.yml']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--port/);
  const help = await runCli(['validate', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: mockllm validate \[--json\] FILE\.\.\./);
});
