// An ajv of the tests' own (not the server's): draft-07 or 2020-12 by `$schema`, the standard
// formats from ajv-formats, so a generated value is checked by an implementation the server does
// not share.
import assert from 'node:assert/strict';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: its default export arrives as the module object under Node's ESM loader.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

const draft07 = addFormats(new Ajv({ strict: false, allErrors: true }));
const draft2020 = addFormats(new Ajv2020({ strict: false, allErrors: true }) as unknown as Ajv);

export function validatorFor(schema: unknown): ValidateFunction {
  const draft = typeof schema === 'object' && schema !== null && typeof (schema as { $schema?: unknown }).$schema === 'string' ? (schema as { $schema: string }).$schema : '';
  const copy = typeof schema === 'object' && schema !== null ? { ...(schema as object) } : schema;
  if (typeof copy === 'object' && copy !== null) {
    delete (copy as { $schema?: unknown }).$schema;
    delete (copy as { $id?: unknown }).$id;
  }
  return (/2019-09|2020-12/.test(draft) ? draft2020 : draft07).compile(copy as object);
}

/** Fails the test, showing the value and ajv's errors, unless the value validates. */
export function assertValid(schema: unknown, value: unknown): void {
  const validate = validatorFor(schema);
  assert.ok(validate(value), `${JSON.stringify(value)} fails the schema: ${JSON.stringify(validate.errors)}`);
}
