// Validators compiled at build time (scripts/precompile-validators.mjs writes ajv's standalone
// code to dist/validators/) must accept, reject and explain exactly as the schema compiled at run
// time does: the config loader's messages and the providers' 400s are built from ajv's errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import * as standalone from 'ajv/dist/standalone/index.js';
import { load as parseYaml } from 'js-yaml';
import { declaredValidators, schemaHash, type DeclaredValidator } from '../../src/http/schema-validator.ts';
import { checkConfig } from '../../src/config/validate.ts';
import '../../src/providers/index.ts';

const requireFromRepo = createRequire(new URL('../../package.json', import.meta.url));
// A CommonJS module whose default export is the function.
const standaloneCode = standalone.default as unknown as (ajv: Ajv, validate: unknown) => string;

type Validate = ((data: unknown) => boolean) & { errors?: unknown };

/** What the build writes for one validator, loaded as the server loads it (CommonJS). */
function precompiled(declared: DeclaredValidator): Validate {
  const ajv = new Ajv({ ...declared.options, code: { source: true } });
  for (const ref of declared.refs) ajv.addSchema(ref);
  const code = standaloneCode(ajv, ajv.compile(declared.schema));
  const module = { exports: {} as { default?: Validate } };
  new Function('require', 'module', 'exports', code)(requireFromRepo, module, module.exports);
  return module.exports.default!;
}

function compiled(declared: DeclaredValidator): Validate {
  const ajv = new Ajv(declared.options);
  for (const ref of declared.refs) ajv.addSchema(ref);
  return ajv.compile(declared.schema);
}

const defaultConfig = parseYaml(readFileSync(new URL('../../config/responses.yml', import.meta.url), 'utf8'));
const SAMPLES: unknown[] = [
  defaultConfig,
  {},
  null,
  [],
  'text',
  { responses: { hi: { txt: 'x' } }, rules: [{ match: { prompt: 1 }, respons: 'x' }], setings: {} },
  { rules: [{ match: { prompt: 'a' }, response: { text: 'b', latency: { chunk_delay_ms: -1 } } }] },
  { match: { prompt: 'a' }, response: 'b' },
  { match: {}, response: { sequence: ['a', { text: 'b' }] } },
  { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
  { model: 'gpt-4o-mini', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], stream: true, stream_options: { include_usage: true } },
  { model: 'gpt-4o-mini', messages: [{ role: 'robot', content: 'hi' }] },
  { model: 1, messages: 'hi' },
  { model: 'text-embedding-3-small', input: ['a', 'b'] },
  { model: 'text-embedding-3-small', input: [[1, 2, 3]], encoding_format: 'base64', dimensions: 0 },
  { model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi', max_tokens: 5 },
  { model: 'gpt-3.5-turbo-instruct', prompt: [1, 2], n: 'two' },
  { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] },
  { model: 'gpt-4o', input: 'hi', tools: [{ type: 'function', name: 'f' }] },
  { model: 'gpt-4o', input: [{ role: 'user', content: 'hi' }], unknown_field: true },
];

test('every declared validator, precompiled to standalone code, accepts, rejects and reports errors as the runtime-compiled schema does', () => {
  assert.ok(declaredValidators.length >= 8, `only ${declaredValidators.length} validators declared`);
  for (const declared of declaredValidators) {
    const fromBuild = precompiled(declared);
    const atRunTime = compiled(declared);
    for (const sample of SAMPLES) {
      const copyA = structuredClone(sample);
      const copyB = structuredClone(sample);
      assert.equal(fromBuild(copyA), atRunTime(copyB), `${declared.name}: ${JSON.stringify(sample)?.slice(0, 100)}`);
      assert.deepEqual(fromBuild.errors, atRunTime.errors, `${declared.name} errors: ${JSON.stringify(sample)?.slice(0, 100)}`);
      assert.deepEqual(copyA, copyB, `${declared.name} leaves the data as the runtime schema does`);
    }
  }
});

test('a precompiled validator is stamped with its options and schemas: any change to them changes the stamp', () => {
  const [first] = declaredValidators;
  assert.ok(first);
  const stamp = schemaHash(first);
  assert.equal(schemaHash({ ...first }), stamp);
  assert.notEqual(schemaHash({ ...first, options: { ...first.options, allErrors: !first.options.allErrors } }), stamp);
  assert.notEqual(schemaHash({ ...first, schema: { ...(first.schema as object), title: 'changed' } }), stamp);
  assert.notEqual(schemaHash({ ...first, refs: [] }), schemaHash({ ...first, refs: [{ $id: 'urn:x' }] }));
});

test('the config validator compiled on first use reports unknown keys with a suggestion, as before', () => {
  const problems = checkConfig({ responses: { hi: { txt: 'x' } }, setings: {} });
  assert.deepEqual(
    problems.map((p) => `${p.path}: ${p.message}`),
    ['setings: is not a known key; did you mean `settings`?', 'responses.hi.txt: is not a known key; did you mean `text`?'],
  );
});
