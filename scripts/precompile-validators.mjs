// Build step (npm run build / prepare, after tsc): every JSON Schema validator the server declares
// (src/http/schema-validator.ts) compiled once, now, to ajv's standalone code in
// <dist>/validators/<name>.cjs (https://ajv.js.org/standalone.html), so the built server loads
// plain functions instead of generating them at start-up. Each file is stamped with the hash of
// the options and schemas it was compiled from; the server ignores a file whose stamp differs.
//   node scripts/precompile-validators.mjs dist
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import standaloneModule from 'ajv/dist/standalone/index.js';

const standaloneCode = standaloneModule.default ?? standaloneModule;
const dist = resolve(process.argv[2] ?? 'dist');
const at = (path) => pathToFileURL(join(dist, path)).href;

const { declaredValidators, schemaHash } = await import(at('http/schema-validator.js'));
// Importing the modules that declare validators declares them: the config's, and every provider's.
await import(at('config/validate.js'));
await import(at('providers/index.js'));

const out = join(dist, 'validators');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const declared of declaredValidators) {
  const ajv = new Ajv({ ...declared.options, code: { ...declared.options.code, source: true } });
  for (const ref of declared.refs) ajv.addSchema(ref);
  const code = standaloneCode(ajv, ajv.compile(declared.schema));
  writeFileSync(join(out, `${declared.name}.cjs`), `${code}\nmodule.exports.schemaHash = ${JSON.stringify(schemaHash(declared))};\n`);
}
process.stdout.write(`precompiled ${declaredValidators.length} validators into ${out}\n`);
