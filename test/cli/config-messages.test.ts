// The config messages a person reads at start-up and from `mockllm validate` (issue 18, item 13):
// words they can act on, not JSON Schema's vocabulary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig, readConfigFile } from '../../src/config/load.ts';
import { checkRule, closestKey } from '../../src/config/validate.ts';

const FILE = 'responses.yml';

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, FILE);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be refused`);
}

test('responses given as a list is "a map of prompt → answer", not "must be object,null"', () => {
  const error = errorOf('responses:\n  - "what is 2+2?"\n');
  assert.match(error.message, /^responses\.yml:1: responses must be a map of prompt → answer/);
  assert.doesNotMatch(error.message, /object,null/);
});

test('rules, settings and a rule of the wrong type are named as a list or a mapping', () => {
  assert.match(errorOf('rules: "everything"\n').message, /rules must be a list of rules, each a mapping with `match` and `response`/);
  assert.match(errorOf('rules:\n  - hello\n').message, /rules\.0 must be a rule: a mapping with `match` and `response`/);
  assert.match(errorOf('settings: 3\n').message, /settings must be a mapping \(key: value\)/);
  assert.doesNotMatch(errorOf('settings: 3\n').message, /object,null/);
});

test('a misspelt key gets the known key it was probably meant to be', () => {
  assert.match(errorOf('respones:\n  "hi": "there"\n').message, /responses\.yml:1: respones is not a known key; did you mean `responses`\?/);
  assert.match(errorOf('settings:\n  stirct: true\n').message, /settings\.stirct is not a known key; did you mean `strict`\?/);
  assert.match(errorOf('rules:\n  - match: {promt: hi}\n    response: a\n').message, /rules\.0\.match\.promt is not a known key; did you mean `prompt`\?/);
});

test('a misspelt required key is reported once, as the typo, not also as a missing key', () => {
  const error = errorOf('rules:\n  - match: {contains: hi}\n    respons: a\n');
  assert.match(error.message, /responses\.yml:3: rules\.0\.respons is not a known key; did you mean `response`\?/);
  assert.doesNotMatch(error.message, /response is required/);
  assert.equal(error.problems.length, 1);
});

test('a key unlike any known one gets no guess', () => {
  const message = errorOf('settings:\n  colour: blue\n').message;
  assert.match(message, /settings\.colour is not a known key$/);
  assert.equal(closestKey('colour', ['match', 'strict', 'cors']), undefined);
  assert.equal(closestKey('Response', ['id', 'priority', 'match', 'response']), 'response');
});

test('a file rule without match is a catch-all, the same as match: {}', () => {
  const { doc } = parseConfig('rules:\n  - response: "You said: {{prompt}}"\n', FILE);
  assert.deepEqual(doc.rules, [{ match: {}, response: 'You said: {{prompt}}' }]);
});

test('an admin rule without match is still refused, saying how to write a catch-all', () => {
  assert.deepEqual(
    checkRule({ response: 'x' }).map((p) => `${p.path} ${p.message}`),
    ['match is required (use {} to match every request)'],
  );
  assert.deepEqual(checkRule({ match: {}, response: 'x' }), []);
});

test('problems carry file, line and path for tools', () => {
  const error = errorOf('responses:\n  "hi": "there"\nsettings:\n  match: fuzzy\n');
  assert.deepEqual(error.problems, [{ file: FILE, line: 4, path: 'settings.match', message: 'settings.match must be one of "normalized", "exact"' }]);
  const yaml = errorOf('responses:\n  "hi": "there\n  "x": [\n');
  assert.equal(yaml.problems[0]!.file, FILE);
  assert.equal(typeof yaml.problems[0]!.line, 'number');
  assert.equal(typeof yaml.problems[0]!.column, 'number');
});

test('reading a missing file or a directory says so in words, not ENOENT or EISDIR', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-read-'));
  try {
    const missing = join(dir, 'nope.yml');
    assert.throws(() => readConfigFile(missing, 'pass --config'), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, `no such file: ${missing}; pass --config`);
      return true;
    });
    await mkdir(join(dir, 'conf'));
    assert.throws(() => readConfigFile(join(dir, 'conf')), (error: Error) => {
      assert.match(error.message, /conf is a directory, not a config file; name the YAML file in it \(e\.g\. .*conf\/responses\.yml\)/);
      assert.doesNotMatch(error.message, /EISDIR/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
