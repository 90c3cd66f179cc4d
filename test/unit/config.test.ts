import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError, hashText, lineOfPath, parseConfig } from '../../src/config/load.ts';
import { SEED_CONFIG } from '../helpers/server.ts';

/** RegExp.escape arrived in Node 24; the package supports Node 22. */
const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');

const FILE = '/etc/mockllm/responses.yml';

/** The ConfigError message parseConfig throws for `text`; fails the test if it does not throw one. */
function errorOf(text: string): string {
  try {
    parseConfig(text, FILE);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be rejected`);
}

test('the seed config parses verbatim into its prompts and default answer', () => {
  const { doc, hash } = parseConfig(SEED_CONFIG, FILE);
  assert.deepEqual(doc, {
    responses: {
      'what colour is the sky?': 'The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.',
      'what is 2+2?': '2+2 equals 9.',
    },
    defaults: { unknown_response: "I don't know the answer to that. This is a mock response." },
  });
  assert.equal(hash, hashText(SEED_CONFIG));
});

test('the shipped config/responses.yml parses', () => {
  const text = readFileSync(new URL('../../config/responses.yml', import.meta.url), 'utf8');
  const { doc } = parseConfig(text, 'config/responses.yml');
  assert.equal(doc.responses?.['ping'], 'pong');
});

test('settings with match, strict and body_limit_bytes parse', () => {
  const { doc } = parseConfig('responses:\n  "hi": "there"\nsettings:\n  match: exact\n  strict: true\n  body_limit_bytes: 65536\n', FILE);
  assert.deepEqual(doc.settings, { match: 'exact', strict: true, body_limit_bytes: 65536 });
});

test('the hash changes with the bytes and only with them', () => {
  const a = parseConfig('responses:\n  "a": "b"\n', FILE).hash;
  assert.equal(parseConfig('responses:\n  "a": "b"\n', FILE).hash, a);
  assert.notEqual(parseConfig('responses:\n  "a":  "b"\n', FILE).hash, a);
});

test('a YAML syntax error names the file, line and column and says the YAML is invalid', () => {
  const message = errorOf('responses:\n  "hi": "there"\n  "bad: [unclosed\n');
  assert.match(message, new RegExp(`^${escapeRe(FILE)}:\\d+:\\d+: invalid YAML: `));
  const [, line] = /:(\d+):\d+: /.exec(message)!;
  assert.ok(Number(line) >= 3, `the error points at or after the broken line 3, got ${line}`);
});

test('a bad indentation error points at the offending line', () => {
  const message = errorOf('responses:\n  "a": "b"\n    "c": "d"\n');
  assert.ok(message.startsWith(`${FILE}:3:`), message);
  assert.match(message, /invalid YAML/);
});

test('an unknown settings.match value names the file, line 3, the path and the allowed values', () => {
  const message = errorOf('responses:\n  "hi": "there"\nsettings:\n  match: fuzzy\n');
  // `settings` is on line 3; `settings.match` on line 4. Either is a fair pointer; the path must be exact.
  assert.match(message, new RegExp(`^${escapeRe(FILE)}:[34]: settings\\.match `));
  assert.match(message, /"normalized"/);
  assert.match(message, /"exact"/);
});

test('a schema error points at the line of the offending key', () => {
  const message = errorOf('responses:\n  "hi": "there"\nsettings:\n  match: fuzzy\n');
  assert.ok(message.startsWith(`${FILE}:4: settings.match must be one of`), message);
});

test('a schema error inside a flow mapping names the line the mapping is on', () => {
  const message = errorOf('responses:\n  "hi": "there"\nsettings: {match: fuzzy}\n');
  assert.ok(message.startsWith(`${FILE}:3: settings.match must be one of "normalized", "exact"`), message);
  assert.ok(errorOf('responses: {"x": 5}\n').startsWith(`${FILE}:1: responses.x must be string`));
});

test('an unknown top-level key is named', () => {
  const message = errorOf('responses:\n  "hi": "there"\nrespones:\n  "typo": "x"\n');
  assert.ok(message.startsWith(`${FILE}:3: respones is not a known key`), message);
});

test('an unknown key under settings is named with its full path', () => {
  const message = errorOf('settings:\n  strict: true\n  stirct: false\n');
  assert.ok(message.startsWith(`${FILE}:3: settings.stirct is not a known key`), message);
});

test('a response that is not a string names responses.<prompt>', () => {
  const message = errorOf('responses:\n  "hi": "there"\n  "what is 2+2?": 4\n');
  assert.ok(message.startsWith(`${FILE}:3: responses.what is 2+2? must be string`), message);
});

test('a body limit below the minimum and a wrongly typed strict are both reported', () => {
  const message = errorOf('settings:\n  strict: "yes"\n  body_limit_bytes: 10\n');
  assert.match(message, new RegExp(`${escapeRe(FILE)}:2: settings\\.strict must be boolean`));
  assert.match(message, new RegExp(`${escapeRe(FILE)}:3: settings\\.body_limit_bytes must be >= 1024`));
});

test('an empty or blank file is rejected with a clear message', () => {
  for (const text of ['', '\n\n', '   \n']) {
    assert.equal(errorOf(text), `${FILE}: the file is empty; expected a mapping with "responses"`);
  }
});

test('a file with only comments is rejected as empty, not as invalid YAML', () => {
  const message = errorOf('# responses:\n#   "hi": "there"\n');
  assert.equal(message, `${FILE}: the file holds only comments; expected a mapping with "responses"`);
});

test('a document that is a list, a scalar or null is rejected as not a mapping, naming what it is', () => {
  const prefix = `${FILE}: the document must be a mapping with "responses", got `;
  assert.equal(errorOf('- "hi"\n- "there"\n'), `${prefix}a list`);
  assert.equal(errorOf('just some text\n'), `${prefix}string`);
  assert.equal(errorOf('42\n'), `${prefix}number`);
  assert.equal(errorOf('---\n'), `${prefix}null (an empty document)`);
  assert.equal(errorOf('~\n'), `${prefix}null (an empty document)`);
});

test('a file with several YAML documents is rejected', () => {
  const message = errorOf('responses:\n  "a": "b"\n---\nresponses:\n  "c": "d"\n');
  assert.ok(message.startsWith(`${FILE}: invalid YAML: expected one document, found 2`), message);
});

test('lineOfPath finds top-level and nested keys in block YAML', () => {
  const text = '# comment\nresponses:\n  "a": "b"\n\nsettings:\n  # inner comment\n  strict: true\n  match: exact\n';
  assert.equal(lineOfPath(text, ['responses']), 2);
  assert.equal(lineOfPath(text, ['responses', 'a']), 3);
  assert.equal(lineOfPath(text, ['settings']), 5);
  assert.equal(lineOfPath(text, ['settings', 'match']), 8);
  assert.equal(lineOfPath(text, ['settings', 'strict']), 7);
});

test('lineOfPath finds prompts that contain dots, colons and quotes', () => {
  const text = 'responses:\n  "what is 2.5+2.5?": "5"\n  \'v1.2: notes\': "x"\n  plain.key: "y"\n';
  assert.equal(lineOfPath(text, ['responses', 'what is 2.5+2.5?']), 2);
  assert.equal(lineOfPath(text, ['responses', 'v1.2: notes']), 3);
  assert.equal(lineOfPath(text, ['responses', 'plain.key']), 4);
});

test('lineOfPath does not match a key of the same name under another parent', () => {
  const text = 'defaults:\n  match: x\nsettings:\n  strict: true\n  match: exact\n';
  assert.equal(lineOfPath(text, ['settings', 'match']), 5);
});

test('lineOfPath returns undefined for the empty path and for a first key that is not there', () => {
  const text = 'responses:\n  "a": "b"\nsettings:\n  strict: true\n';
  assert.equal(lineOfPath(text, []), undefined);
  assert.equal(lineOfPath(text, ['nope']), undefined);
  assert.equal(lineOfPath(text, ['nope', 'strict']), undefined);
});

test('lineOfPath falls back to the deepest key it found when the rest of the path is not on its own line', () => {
  assert.equal(lineOfPath('responses:\n  "a": "b"\nsettings: {match: fuzzy}\n', ['settings', 'match']), 3);
  assert.equal(lineOfPath('responses: {"x": 5}\n', ['responses', 'x']), 1);
  // A key that is missing (a `required` error) points at its parent.
  assert.equal(lineOfPath('responses:\n  "a": "b"\nsettings:\n  strict: true\n', ['settings', 'match']), 3);
});

test('lineOfPath does not take a sibling after the parent block for a child', () => {
  const text = 'settings:\n  strict: true\nmatch: exact\n';
  assert.equal(lineOfPath(text, ['settings', 'match']), 1);
});
