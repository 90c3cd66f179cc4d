import { Ajv, type ErrorObject } from 'ajv';
import { configSchema, responseSchema, ruleSchema, type ConfigFile, type RuleSpec } from './schema.ts';
import { argumentNestingProblems, nestingProblems } from './nesting.ts';
import { checkConfigSemantics, checkRuleSemantics } from './semantics.ts';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema(responseSchema);
ajv.addSchema(ruleSchema);
const validateConfig = ajv.compile<ConfigFile>(configSchema);
const validateRule = ajv.getSchema<RuleSpec>('urn:mockllm:rule')!;

export interface SchemaProblem {
  /** Dotted path for people, e.g. `settings.match`; empty for the document itself. */
  path: string;
  /** The same path as keys, for tools (a prompt may itself contain dots). */
  segments: string[];
  message: string;
}

export function checkConfig(doc: unknown): SchemaProblem[] {
  const deep = nestingProblems(doc);
  if (deep.length > 0) return deep;
  if (!validateConfig(doc)) return describeSchemaErrors(validateConfig.errors ?? []);
  const problems = checkConfigSemantics(doc);
  for (const [prompt, response] of Object.entries(doc.responses ?? {})) problems.push(...argumentNestingProblems(response, ['responses', prompt]));
  (doc.rules ?? []).forEach((rule, i) => problems.push(...argumentNestingProblems(rule.response, ['rules', String(i), 'response'])));
  return problems;
}

/** The admin API validates rules with the very schema the file's `rules` entries use. */
export function checkRule(doc: unknown): SchemaProblem[] {
  const deep = nestingProblems(doc);
  if (deep.length > 0) return deep;
  if (!validateRule(doc)) return describeSchemaErrors(validateRule.errors ?? []);
  return [...checkRuleSemantics(doc as RuleSpec, []), ...argumentNestingProblems((doc as RuleSpec).response, ['response'])];
}

/**
 * A `oneOf` failure repeats every branch's complaint. A reader wants the branch that fits the
 * value's type: for an object `response`, what is wrong inside the object, not "must be string".
 */
function describeSchemaErrors(errors: readonly ErrorObject[]): SchemaProblem[] {
  const alternatives = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const hasDeeperComplaint = (path: string) =>
    errors.some(
      (e) => e.instancePath.startsWith(`${path}/`) || (e.instancePath === path && e.keyword !== 'oneOf' && e.keyword !== 'type'),
    );
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  const add = (problem: SchemaProblem) => {
    const key = `${problem.path}\u0000${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  };
  for (const error of errors) {
    if (error.keyword === 'oneOf') continue;
    if (error.keyword === 'type' && alternatives.has(error.instancePath)) {
      if (hasDeeperComplaint(error.instancePath)) continue;
      // No branch got further than its type check: name every type the value could have had.
      const types = errors.filter((e) => e.keyword === 'type' && e.instancePath === error.instancePath).map((e) => e.params.type);
      add({ ...describeSchemaError(error), message: `must be ${types.join(' or ')}` });
      continue;
    }
    add(describeSchemaError(error));
  }
  return problems;
}

export function describeSchemaError(error: ErrorObject): SchemaProblem {
  const segments = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'additionalProperties') {
    segments.push(String(error.params.additionalProperty));
    return { path: segments.join('.'), segments, message: 'is not a known key' };
  }
  if (error.keyword === 'required') {
    segments.push(String(error.params.missingProperty));
    return { path: segments.join('.'), segments, message: 'is required' };
  }
  if (error.keyword === 'enum') {
    return { path: segments.join('.'), segments, message: `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
  }
  return { path: segments.join('.'), segments, message: error.message ?? 'is invalid' };
}
