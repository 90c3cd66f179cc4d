import { Ajv, type ErrorObject } from 'ajv';
import { configSchema, type ConfigFile } from './schema.ts';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validateConfig = ajv.compile<ConfigFile>(configSchema);

export interface SchemaProblem {
  /** Dotted path for people, e.g. `settings.match`; empty for the document itself. */
  path: string;
  /** The same path as keys, for tools (a prompt may itself contain dots). */
  segments: string[];
  message: string;
}

export function checkConfig(doc: unknown): SchemaProblem[] {
  if (validateConfig(doc)) return [];
  return (validateConfig.errors ?? []).map(describeSchemaError);
}

export function describeSchemaError(error: ErrorObject): SchemaProblem {
  const segments = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'additionalProperties') {
    segments.push(String(error.params.additionalProperty));
    return { path: segments.join('.'), segments, message: 'is not a known key' };
  }
  if (error.keyword === 'enum') {
    return { path: segments.join('.'), segments, message: `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
  }
  return { path: segments.join('.'), segments, message: error.message ?? 'is invalid' };
}
