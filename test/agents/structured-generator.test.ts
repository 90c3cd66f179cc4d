// The JSON-Schema instance generator (src/engine/schema-instance.ts) as a property: over a corpus of
// the schemas real clients send (OpenAI strict, zod v4's toJSONSchema, zod-to-json-schema draft-07,
// Anthropic, Gemini's OpenAPI style) and over random schemas built by fast-check, every generated
// value validates against the schema by an ajv of the test's own with the standard formats
// (ajv-formats), and the same seed gives the same value.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { z } from 'zod';
import { compileSchema, generateInstance, type SchemaDialect } from '../../src/engine/schema-instance.ts';
import { validatorFor } from './structured-support.ts';

const RUNS = Number(process.env.MOCKLLM_FUZZ_RUNS ?? 40);

interface Case {
  name: string;
  schema: unknown;
  dialect?: SchemaDialect;
  /** The JSON Schema the test validates with, when the schema sent is not one (Gemini's OpenAPI style). */
  check?: unknown;
}

const Node: z.ZodType<{ value: number; children: unknown[] }> = z.lazy(() => z.object({ value: z.number().int(), children: z.array(Node) }));

const CORPUS: Case[] = [
  {
    name: 'OpenAI strict: every property required, optional ones nullable, closed objects',
    schema: {
      type: 'object',
      properties: {
        title: { type: 'string' },
        rating: { type: ['number', 'null'] },
        status: { type: 'string', enum: ['draft', 'published'] },
        author: { type: 'object', properties: { name: { type: 'string' }, email: { type: ['string', 'null'], format: 'email' } }, required: ['name', 'email'], additionalProperties: false },
        steps: { type: 'array', items: { anyOf: [{ type: 'object', properties: { kind: { type: 'string', const: 'text' }, body: { type: 'string' } }, required: ['kind', 'body'], additionalProperties: false }, { type: 'null' }] } },
      },
      required: ['title', 'rating', 'status', 'author', 'steps'],
      additionalProperties: false,
    },
  },
  { name: 'zod v4: formats, bounds, enums, nullable, records', schema: z.toJSONSchema(z.object({ id: z.uuid(), at: z.iso.datetime(), day: z.iso.date(), site: z.url(), mail: z.email(), count: z.number().int().min(3).max(9), ratio: z.number().gt(0).lt(1), tags: z.array(z.string().min(2).max(8)).min(2).max(4), mood: z.enum(['happy', 'sad']), note: z.string().nullable(), scores: z.record(z.string(), z.number()) })) },
  { name: 'zod v4: recursion through $defs / #', schema: z.toJSONSchema(Node) },
  { name: 'zod v4: discriminated union and intersection', schema: z.toJSONSchema(z.object({ shape: z.discriminatedUnion('kind', [z.object({ kind: z.literal('circle'), radius: z.number().positive() }), z.object({ kind: z.literal('square'), side: z.number().min(1) })]), both: z.intersection(z.object({ a: z.string() }), z.object({ b: z.boolean() })) })) },
  {
    name: 'zod-to-json-schema draft-07: definitions and $ref, exclusive bounds, multipleOf',
    schema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      definitions: { money: { type: 'object', properties: { amount: { type: 'number', multipleOf: 0.01, exclusiveMinimum: 0 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } }, required: ['amount', 'currency'], additionalProperties: false } },
      type: 'object',
      properties: { price: { $ref: '#/definitions/money' }, discount: { $ref: '#/definitions/money' }, quantity: { type: 'integer', multipleOf: 5, minimum: 7, maximum: 40 } },
      required: ['price', 'quantity'],
    },
  },
  { name: 'patterns: postcodes, codes, alternations', schema: { type: 'object', properties: { zip: { type: 'string', pattern: '^\\d{5}(-\\d{4})?$' }, sku: { type: 'string', pattern: '^[A-Z]{2}-[0-9]{3,5}$' }, color: { type: 'string', pattern: '^(red|green|blue)$' }, hex: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$' }, slug: { type: 'string', pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$', maxLength: 20 } }, required: ['zip', 'sku', 'color', 'hex', 'slug'] } },
  { name: 'string lengths beyond a readable word', schema: { type: 'object', properties: { summary: { type: 'string', minLength: 120, maxLength: 140 }, code: { type: 'string', minLength: 2, maxLength: 2 }, empty: { type: 'string', maxLength: 0 } }, required: ['summary', 'code', 'empty'] } },
  { name: 'tuples (prefixItems) and unique items', schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { point: { type: 'array', prefixItems: [{ type: 'number' }, { type: 'number' }], items: false }, ids: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 4 }, uniqueItems: true, minItems: 3 } }, required: ['point', 'ids'] } },
  { name: 'oneOf with overlapping branches must match exactly one', schema: { oneOf: [{ type: 'integer', multipleOf: 2 }, { type: 'integer', multipleOf: 3 }] } },
  { name: 'a top-level array of enums and consts', schema: { type: 'array', items: { enum: ['a', 1, null, true] }, minItems: 4, maxItems: 4 } },
  { name: 'no type at all: inferred from keywords', schema: { properties: { n: { minimum: 5, maximum: 6 }, s: { minLength: 3 }, list: { items: { type: 'boolean' } } }, required: ['n', 's', 'list'] } },
  { name: 'an empty schema and true', schema: { type: 'object', properties: { anything: {}, yes: true }, required: ['anything', 'yes'] } },
  {
    name: "Gemini's OpenAPI style: upper-case types, nullable, counts as strings, format enum",
    dialect: 'openapi',
    schema: { type: 'ARRAY', minItems: '2', maxItems: '3', items: { type: 'OBJECT', properties: { recipeName: { type: 'STRING' }, servings: { type: 'INTEGER', format: 'int32', minimum: 1 }, rating: { type: 'NUMBER', nullable: true }, level: { type: 'STRING', format: 'enum', enum: ['easy', 'hard'] } }, required: ['recipeName', 'servings', 'level'], propertyOrdering: ['recipeName', 'servings', 'rating', 'level'] } },
    check: { type: 'array', minItems: 2, maxItems: 3, items: { type: 'object', properties: { recipeName: { type: 'string' }, servings: { type: 'integer', minimum: 1 }, rating: { type: ['number', 'null'] }, level: { enum: ['easy', 'hard'] } }, required: ['recipeName', 'servings', 'level'] } },
  },
  {
    name: 'Anthropic SDK transform: constraints moved into descriptions are still valid',
    schema: { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' }, description: 'Tags\n\n{minItems: 2, maxItems: 2}' }, level: { type: 'string', description: '{enum: ["low","high"]}' } }, required: ['tags', 'level'], additionalProperties: false },
    check: { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 2 }, level: { enum: ['low', 'high'] } }, required: ['tags', 'level'], additionalProperties: false },
  },
  { name: 'draft-04 boolean exclusive bounds', dialect: 'openapi', schema: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true }, check: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } },
];

const HINTS = ['', 'Plan a trip to Kyoto with Mariko and Jun next April.', 'Extract the invoice fields: ACME Corp owes 1,200 EUR by 2026-05-01.', '🎉 ünïcödé prompt — with emoji'];

function generate(c: Case, seed: string, hint: string) {
  return generateInstance(compileSchema(c.schema, c.dialect ?? 'json-schema'), { seed, hint });
}

describe('the generator over the corpus', () => {
  for (const c of CORPUS) {
    test(`${c.name}: every seed and prompt gives a valid value, the same one for the same seed`, () => {
      const validate = validatorFor(c.check ?? c.schema);
      const seen = new Set<string>();
      for (let i = 0; i < 25; i++) {
        const hint = HINTS[i % HINTS.length]!;
        const { value, error } = generate(c, `seed-${i}`, hint);
        assert.equal(error, undefined, `the server's own check failed for seed-${i}: ${error}`);
        assert.ok(validate(value), `seed-${i}: ${JSON.stringify(value)} fails: ${JSON.stringify(validate.errors)}`);
        assert.deepEqual(generate(c, `seed-${i}`, hint).value, value, 'the same seed gives the same value');
        seen.add(JSON.stringify(value));
      }
      // Schemas with room for more than one value get more than one across 25 seeds.
      if (!c.name.startsWith('an empty') && !c.name.startsWith('a top-level array')) assert.ok(seen.size > 1, `only one value: ${[...seen][0]}`);
    });
  }

  test('readable strings come from the property names and the prompt, not noise', () => {
    const schema = { type: 'object', properties: { name: { type: 'string' }, city: { type: 'string' }, email: { type: 'string' }, summary: { type: 'string' } }, required: ['name', 'city', 'email', 'summary'] };
    const { value } = generate({ name: 'people', schema }, 'readable', 'Mariko is flying from Lisbon to Kyoto next spring.') as { value: Record<string, string> };
    assert.ok(['Mariko', 'Lisbon', 'Kyoto'].includes(value.name!), String(value.name));
    assert.match(value.email!, /^[a-z.-]+@example\.com$/);
    assert.match(value.summary!, /^[A-Z].*\.$/);
    assert.ok(value.summary!.split(' ').every((word) => 'Mariko is flying from Lisbon to Kyoto next spring.'.toLowerCase().includes(word.replace(/\.$/, '').toLowerCase())), String(value.summary));
  });

  test('an unsatisfiable schema is reported, not passed off as valid', () => {
    const { error } = generate({ name: 'impossible', schema: { type: 'string', minLength: 5, maxLength: 2 } }, 's', '');
    assert.match(error ?? '', /must NOT have/);
  });

  test("the test's own checker rejects a value that breaks the schema (the property can fail)", () => {
    const validate = validatorFor(CORPUS[1]!.schema);
    const { value } = generate(CORPUS[1]!, 'x', '') as { value: Record<string, unknown> };
    assert.ok(validate(value));
    assert.equal(validate({ ...value, id: 'not-a-uuid' }), false);
    assert.equal(validate({ ...value, at: '2026-13-01T00:00:00Z' }), false);
  });
});

// Random schemas from the subsets clients send: each node is satisfiable by construction.
const leaf: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ type: fc.constant('string'), minLength: fc.integer({ min: 0, max: 30 }), maxLength: fc.integer({ min: 30, max: 60 }) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('string'), format: fc.constantFrom('date-time', 'date', 'time', 'email', 'uri', 'uuid', 'ipv4', 'hostname') }),
  fc.record({ type: fc.constant('string'), pattern: fc.constantFrom('^[A-Z]{3}$', '^\\d{3}-\\d{4}$', '^(yes|no)$', '^[a-z]+_[0-9]{2,4}$', '^v\\d+\\.\\d+\\.\\d+$') }),
  fc.integer({ min: -1000, max: 1000 }).chain((min) =>
    fc.record({ type: fc.constantFrom('integer', 'number'), minimum: fc.constant(min), maximum: fc.integer({ min: min + 10, max: min + 5000 }), multipleOf: fc.constantFrom(1, 2, 5, 0.5, 0.25) }, { requiredKeys: ['type', 'minimum', 'maximum'] }),
  ),
  fc.record({ type: fc.constantFrom('number', 'integer'), exclusiveMinimum: fc.integer({ min: -50, max: 50 }) }),
  fc.record({ type: fc.constant('boolean') }),
  fc.record({ enum: fc.uniqueArray(fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null)), { minLength: 1, maxLength: 4, selector: (v) => JSON.stringify(v) }) }),
  fc.record({ const: fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()) }),
  fc.record({ type: fc.constant('null') }),
);

const { tree } = fc.letrec<{ tree: Record<string, unknown> }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .uniqueArray(fc.tuple(fc.constantFrom('name', 'city', 'count', 'price', 'tags', 'createdAt', 'summary', 'id', 'email', 'items', 'x', 'age'), tie('tree')), { minLength: 1, maxLength: 5, selector: ([key]) => key })
      .chain((entries) =>
        fc.record({
          type: fc.constant('object'),
          properties: fc.constant(Object.fromEntries(entries)),
          required: fc.subarray(entries.map(([key]) => key)),
          additionalProperties: fc.boolean(),
        }),
      ),
    fc.integer({ min: 0, max: 3 }).chain((min) => fc.record({ type: fc.constant('array'), items: tie('tree'), minItems: fc.constant(min), maxItems: fc.integer({ min, max: min + 4 }) })),
    fc.array(tie('tree'), { minLength: 1, maxLength: 3 }).map((anyOf) => ({ anyOf })),
    tie('tree').map((inner) => ({ ...inner, ...(typeof inner.type === 'string' && inner.type !== 'null' ? { type: [inner.type, 'null'] } : {}) })),
  ),
}));

// Recursion as zod and OpenAI write it, at the root where `#/$defs/…` points: a linked list through
// $defs, and a tree through zod's `#`.
const schemas = fc.oneof(
  tree,
  tree.map((value) => ({ $defs: { node: { type: 'object', properties: { value, next: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }] } }, required: ['value', 'next'], additionalProperties: false } }, $ref: '#/$defs/node' })),
  tree.map((label) => ({ type: 'object', properties: { label, children: { type: 'array', items: { $ref: '#' } } }, required: ['label', 'children'] })),
);

describe('the generator over random schemas', () => {
  test('every value validates, by an independent ajv with the standard formats, and repeats for its seed', () => {
    fc.assert(
      fc.property(schemas, fc.string({ maxLength: 12 }), fc.constantFrom(...HINTS), (schema, seed, hint) => {
        const c: Case = { name: 'random', schema };
        const { value, error } = generate(c, seed, hint);
        assert.equal(error, undefined, `the server's own check failed: ${error} for ${JSON.stringify(value)}`);
        const validate = validatorFor(schema);
        assert.ok(validate(value), `${JSON.stringify(value)} fails ${JSON.stringify(schema)}: ${JSON.stringify(validate.errors)}`);
        assert.deepEqual(generate(c, seed, hint).value, value);
      }),
      { numRuns: RUNS * 3 },
    );
  });
});
