import type { ErrorObject } from 'ajv';
import { schemaValidator } from '../http/schema-validator.ts';
import { configSchema, responseSchema, ruleSchema, type ConfigFile, type RuleSpec } from './schema.ts';
import { argumentNestingProblems, nestingProblems } from './nesting.ts';
import { checkConfigSemantics, checkRuleSemantics } from './semantics.ts';

// verbose: errors carry their schema, so an unknown key can be compared with the known ones.
const OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true, verbose: true };
// Compiled on first use, or precompiled in dist/ (src/http/schema-validator.ts): the admin API's
// rule validator is not needed to start.
const validateConfig = schemaValidator<ConfigFile>('config', OPTIONS, configSchema, [responseSchema, ruleSchema]);
const validateRule = schemaValidator<RuleSpec>('config-rule', OPTIONS, ruleSchema, [responseSchema]);

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
  // A file rule without `match` is a catch-all: the same as `match: {}` (README, "Rules").
  for (const rule of doc.rules ?? []) rule.match ??= {};
  const problems = checkConfigSemantics(doc);
  for (const [prompt, response] of Object.entries(doc.responses ?? {})) problems.push(...argumentNestingProblems(response, ['responses', prompt]));
  (doc.rules ?? []).forEach((rule, i) => problems.push(...argumentNestingProblems(rule.response, ['rules', String(i), 'response'])));
  return problems;
}

/** The admin API validates rules with the very schema the file's `rules` entries use. */
export function checkRule(doc: unknown): SchemaProblem[] {
  const deep = nestingProblems(doc);
  if (deep.length > 0) return deep;
  // Unlike a file rule, an admin rule must say what it matches: a body that lost its conditions
  // (a client bug) would otherwise take over every request as a catch-all. `{}` says so explicitly.
  const noMatch: SchemaProblem[] =
    doc !== null && typeof doc === 'object' && !Array.isArray(doc) && !Object.hasOwn(doc, 'match')
      ? [{ path: 'match', segments: ['match'], message: 'is required (use {} to match every request)' }]
      : [];
  if (!validateRule(doc)) return [...noMatch, ...describeSchemaErrors(validateRule.errors ?? [])];
  if (noMatch.length > 0) return noMatch;
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
  // "response is required" beside "respons is not a known key; did you mean `response`?" says the
  // same thing twice: keep the one that points at the line to fix.
  const suggested = new Set(
    problems.flatMap((p) => {
      const guess = /did you mean `(.+)`\?$/.exec(p.message)?.[1];
      return guess === undefined ? [] : [[...p.segments.slice(0, -1), guess].join('\u0000')];
    }),
  );
  return problems.filter((p) => !(p.message === 'is required' && suggested.has(p.segments.join('\u0000'))));
}

export function describeSchemaError(error: ErrorObject): SchemaProblem {
  const segments = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'additionalProperties') {
    const key = String(error.params.additionalProperty);
    segments.push(key);
    const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    const guess = closestKey(key, known);
    return { path: segments.join('.'), segments, message: `is not a known key${guess ? `; did you mean \`${guess}\`?` : ''}` };
  }
  if (error.keyword === 'type') {
    const message = typeMessage(segments, error.params.type as string | string[]);
    if (message) return { path: segments.join('.'), segments, message };
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

/** Words for the container types, which ajv names as JSON Schema does ("must be object,null"). */
const TYPE_WORDS: Record<string, string> = { object: 'a mapping (key: value)', array: 'a list' };

/**
 * A type error said as a person fixes it. The top-level sections get their own words; a mapping
 * or a list elsewhere is named as such; scalar types keep ajv's words ("must be string").
 */
function typeMessage(segments: readonly string[], type: string | string[]): string | undefined {
  const types = (Array.isArray(type) ? type : String(type).split(',')).filter((t) => t !== 'null');
  const path = segments.join('.');
  if (path === 'responses') return 'must be a map of prompt → answer, e.g. responses: {"what is 2+2?": "4"}';
  if (path === 'rules') return 'must be a list of rules, each a mapping with `match` and `response`';
  if (segments.length === 2 && segments[0] === 'rules') return 'must be a rule: a mapping with `match` and `response`';
  if (path === 'models') return 'must be a list of model ids (or {id: …} mappings)';
  if (types.length > 0 && types.every((t) => TYPE_WORDS[t])) return `must be ${types.map((t) => TYPE_WORDS[t]).join(' or ')}`;
  return undefined;
}

/**
 * The known key an unknown one was probably meant to be: the nearest by edit distance (a swap of
 * two neighbouring letters counts as one edit), when it is near enough to be a typo.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(Math.max(key.length, best?.length ?? 0) / 3)));
  return bestDistance <= allowed ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = value;
    }
  }
  return rows[a.length]![b.length]!;
}
