// JSON Schema validators that cost nothing at start-up. Compiling a schema with ajv generates and
// evaluates JavaScript: ~100-200 ms each for the request and config schemas, which used to be paid
// at module load for every schema, used or not (docs/benchmarks.md, S5). Here a validator compiles
// on its first call, and the built package (dist/) carries each one already compiled: the build
// (scripts/precompile-validators.mjs) writes ajv's standalone code for every validator declared
// below to dist/validators/<name>.cjs (https://ajv.js.org/standalone.html), stamped with a hash of
// the options and schemas it came from. A stamp that does not match what the running code declares
// (dist/ built from other sources) is ignored and the schema is compiled as before, so the
// validator is always the one the code declares. Running from src/ always compiles (lazily).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, AnySchema, ErrorObject, Options } from 'ajv';

export interface Validator<T> {
  (data: unknown): data is T;
  /** The last call's errors (null after a success), as ajv's own validate functions have them. */
  errors?: ErrorObject[] | null;
}

export interface DeclaredValidator {
  name: string;
  options: Options;
  schema: AnySchema;
  /** Schemas the main one refers to by $id. */
  refs: readonly AnySchema[];
}

/** Every validator declared so far, in order: what the build precompiles. */
export const declaredValidators: DeclaredValidator[] = [];

/** The stamp a precompiled validator must carry to be used for this declaration. */
export function schemaHash(declared: Pick<DeclaredValidator, 'options' | 'schema' | 'refs'>): string {
  return createHash('sha256').update(JSON.stringify([declared.options, declared.schema, declared.refs])).digest('hex');
}

const requireFromHere = createRequire(import.meta.url);
// This file is src/http/schema-validator.ts, or dist/http/schema-validator.js once built.
const PRECOMPILED = new URL('../validators/', import.meta.url);

function load<T>(declared: DeclaredValidator): Validator<T> {
  let module: { default?: Validator<T>; schemaHash?: string } | undefined;
  try {
    module = requireFromHere(new URL(`${declared.name}.cjs`, PRECOMPILED).pathname) as typeof module;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
  }
  if (module?.default && module.schemaHash === schemaHash(declared)) return module.default;
  // ajv itself (~100 ms of module loading) is loaded only when something must be compiled.
  const { Ajv } = requireFromHere('ajv') as { Ajv: typeof AjvClass };
  const ajv = new Ajv(declared.options);
  for (const ref of declared.refs) ajv.addSchema(ref);
  return ajv.compile<T>(declared.schema) as Validator<T>;
}

/**
 * A validator for `schema`, compiled (or loaded precompiled) on its first call. `name` names the
 * precompiled file and must be unique.
 */
export function schemaValidator<T>(name: string, options: Options, schema: AnySchema, refs: readonly AnySchema[] = []): Validator<T> {
  if (declaredValidators.some((d) => d.name === name)) throw new Error(`schema validator "${name}" is declared twice`);
  const declared: DeclaredValidator = { name, options, schema, refs };
  declaredValidators.push(declared);
  let compiled: Validator<T> | undefined;
  const validate = ((data: unknown): data is T => {
    compiled ??= load<T>(declared);
    const valid = compiled(data);
    validate.errors = compiled.errors;
    return valid;
  }) as Validator<T>;
  return validate;
}
