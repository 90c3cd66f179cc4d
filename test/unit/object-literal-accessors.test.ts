// V8 keeps an object literal's getter or setter in the object's hidden class, which lives in the
// old generation: whatever the accessor closes over stays reachable from there until a full GC.
// Made per request, such a literal had every request promoted (docs/benchmarks.md, S1: ~10 MB per
// scavenge, 25 ms pauses, 10-12% of the throughput). Classes and plain methods do not do this, so
// the source keeps to them; this test names any accessor that creeps back into an object literal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAst } from 'rolldown/parseAst';

const root = join(import.meta.dirname, '..', '..');

/** Every `get x()` / `set x(v)` written inside an object literal, as file:line (ESTree: a class's accessors are MethodDefinitions, a literal's are Properties). */
function literalAccessors(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(visit);
    const { type, kind, start } = node as { type?: string; kind?: string; start?: number };
    if (type === 'Property' && (kind === 'get' || kind === 'set')) found.push(`${relative(root, path)}:${text.slice(0, start).split('\n').length}`);
    for (const child of Object.values(node)) visit(child);
  };
  visit(parseAst(text, { lang: 'ts' }, path));
  return found;
}

test('no object literal in src/ defines a getter or setter (classes or methods instead)', () => {
  const files = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts')).map((file) => join(root, 'src', file));
  assert.ok(files.length > 50, `found only ${files.length} source files`);
  assert.deepEqual(files.flatMap(literalAccessors), []);
});

test('the check finds an accessor in an object literal, nested or not, and ignores a class\'s', () => {
  const probe = join(root, 'test', 'unit', 'object-literal-accessors.probe.ts');
  assert.deepEqual(literalAccessors(probe).map((at) => at.split(':')[1]), ['3', '5', '9']);
});
