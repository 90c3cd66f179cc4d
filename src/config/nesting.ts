import type { ResponseSpec } from './schema.ts';
import type { SchemaProblem } from './validate.ts';

/**
 * How deeply a config document, an admin request body or a tool call's arguments may nest.
 *
 * JSON.parse (and the YAML parser) accept nesting far deeper than the recursive code after them
 * can walk: the schema validator, JSON.stringify when a rule is listed or a tool call is rendered.
 * Around 3,000 levels overflow the stack there, which turned one admin request into a 500 (and a
 * rule whose tool arguments were that deep into a 500 on every request it matched). No real
 * answer comes near this bound.
 */
export const MAX_NESTING_DEPTH = 64;

/** Path to the first value nested deeper than MAX_NESTING_DEPTH; iterative, so any depth is safe to measure. */
export function tooDeep(value: unknown): string[] | undefined {
  const stack: [unknown, string[]][] = [[value, []]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (path.length >= MAX_NESTING_DEPTH) return path;
    for (const [key, child] of Object.entries(node)) stack.push([child, [...path, key]]);
  }
  return undefined;
}

function deepProblem(segments: string[]): SchemaProblem {
  return { path: segments.join('.'), segments, message: `is nested more than ${MAX_NESTING_DEPTH} levels deep` };
}

/** The document itself, checked before anything recursive looks at it. */
export function nestingProblems(doc: unknown): SchemaProblem[] {
  const path = tooDeep(doc);
  return path ? [deepProblem(path)] : [];
}

/** Tool arguments given as a JSON string are parsed when the rule compiles: their nesting counts too. */
export function argumentNestingProblems(response: ResponseSpec, at: string[]): SchemaProblem[] {
  if (typeof response === 'string') return [];
  const problems: SchemaProblem[] = [];
  response.tool_calls?.forEach((call, i) => {
    if (typeof call.arguments !== 'string') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(call.arguments);
    } catch {
      return; // reported by the semantic checks
    }
    if (tooDeep(parsed)) problems.push(deepProblem([...at, 'tool_calls', String(i), 'arguments']));
  });
  response.sequence?.forEach((step, i) => problems.push(...argumentNestingProblems(step, [...at, 'sequence', String(i)])));
  return problems;
}
