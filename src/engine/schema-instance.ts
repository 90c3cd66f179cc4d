// A deterministic JSON-Schema instance generator, and the validators that check answers against a
// schema a request asked for (structured outputs, `arguments: auto`). Pure: the same schema, seed
// and hint give the same value in every process. Covers the subsets that OpenAI strict structured
// outputs, Anthropic structured outputs, Gemini's OpenAPI-style `responseSchema` and
// zod / zod-to-json-schema produce (https://platform.openai.com/docs/guides/structured-outputs,
// https://ai.google.dev/api/caching#Schema, https://json-schema.org/draft/2020-12/json-schema-validation).
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import type { Ajv2020 as Ajv2020Class } from 'ajv/dist/2020.js';
import { seededRandom } from './seeded-random.ts';

export type SchemaDialect = 'json-schema' | 'openapi';
type Node = Record<string, unknown>;

const isObject = (value: unknown): value is Node => value !== null && typeof value === 'object' && !Array.isArray(value);

// ---------------------------------------------------------------------------------------------
// Normalising: one JSON Schema shape for the validator and the generator alike.

const COUNT_KEYWORDS = ['minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties'];
const NUMBER_KEYWORDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'];
// Gemini's Schema.format values that name a number's width or mark an enum, not a JSON Schema format.
const MAX_SCHEMA_DEPTH = 64;
const OPENAPI_ONLY_FORMATS = new Set(['enum', 'int32', 'int64', 'float', 'double']);
const SUBSCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
const SUBSCHEMA_MAPS = ['properties', '$defs', 'definitions', 'patternProperties', 'dependentSchemas'];
const SUBSCHEMAS = ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'additionalItems', 'unevaluatedProperties', 'unevaluatedItems'];

/**
 * A copy in plain JSON Schema: Gemini's upper-case type names lower-cased and its int64 counts
 * (sent as strings) made numbers; OpenAPI's `nullable` written as a `null` type; draft-04's boolean
 * exclusive bounds as numbers; the root's `$schema` and every `$id` dropped (the validator picks its
 * draft from `$schema` before this runs, and ids would collide between requests' schemas).
 */
export function normalizeSchema(schema: unknown, dialect: SchemaDialect, root = true, depth = 0): unknown {
  // Nesting no real schema reaches (a hostile body) is cut off, not followed into a stack overflow.
  if (depth > MAX_SCHEMA_DEPTH) return {};
  const inner = (value: unknown) => normalizeSchema(value, dialect, false, depth + 1);
  if (Array.isArray(schema)) return schema.map(inner);
  if (!isObject(schema)) return schema;
  const out: Node = {};
  for (const [key, value] of Object.entries(schema)) {
    if ((root && key === '$schema') || key === '$id') continue;
    if (key === 'enum' || key === 'const' || key === 'default' || key === 'example' || key === 'examples' || key === 'required') out[key] = value;
    else if (SUBSCHEMA_MAPS.includes(key) && isObject(value)) out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inner(v)]));
    else if (SUBSCHEMA_LISTS.includes(key) && Array.isArray(value)) out[key] = value.map(inner);
    else if (SUBSCHEMAS.includes(key)) out[key] = inner(value);
    else if (COUNT_KEYWORDS.includes(key) && typeof value === 'string' && /^\d+$/.test(value)) out[key] = Number(value);
    else if (NUMBER_KEYWORDS.includes(key) && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) out[key] = Number(value);
    else out[key] = value;
  }
  if (typeof out.type === 'string') {
    const lower = out.type.toLowerCase();
    if (lower === 'type_unspecified') delete out.type;
    else out.type = lower;
  } else if (Array.isArray(out.type)) out.type = out.type.map((t) => (typeof t === 'string' ? t.toLowerCase() : t));
  if (typeof out.format === 'string' && OPENAPI_ONLY_FORMATS.has(out.format)) delete out.format;
  // Draft-04 wrote exclusive bounds as booleans beside minimum/maximum.
  if (typeof out.exclusiveMinimum === 'boolean') {
    if (out.exclusiveMinimum && typeof out.minimum === 'number') {
      out.exclusiveMinimum = out.minimum;
      delete out.minimum;
    } else delete out.exclusiveMinimum;
  }
  if (typeof out.exclusiveMaximum === 'boolean') {
    if (out.exclusiveMaximum && typeof out.maximum === 'number') {
      out.exclusiveMaximum = out.maximum;
      delete out.maximum;
    } else delete out.exclusiveMaximum;
  }
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type)) { if (!out.type.includes('null')) out.type = [...out.type, 'null']; }
    else if (!Array.isArray(out.enum)) return { anyOf: [out, { type: 'null' }] };
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  } else if (out.nullable === false) delete out.nullable;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validating: compiled once per distinct schema.

// Formats the generator writes, checked the way RFC 3339 / RFC 5322 (simplified) / RFC 3986 define
// them; other formats are not checked (a real model is not constrained by them either).
const FORMATS: Record<string, RegExp> = {
  'date-time': /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):?[0-5]\d)$/,
  date: /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/,
  time: /^([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):?[0-5]\d)?$/,
  email: /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i,
  uri: /^[a-z][a-z0-9+.-]*:[\x21-\x7e]*$/i,
  url: /^[a-z][a-z0-9+.-]*:\/\/[\x21-\x7e]+$/i,
  uuid: /^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i,
  hostname: /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-0-9a-z]{0,61}[0-9a-z])?)*\.?$/i,
  ipv4: /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/,
  duration: /^P(?!$)((\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?|(\d+W)?)$/,
};

function newAjv<T extends Ajv>(AjvClass: new (options: object) => T): T {
  // strict: false: client schemas carry keywords no draft knows (propertyOrdering, title-like extras).
  // Not addUsedSchema: false, which breaks `$ref: "#"` (zod's recursion): ids are dropped instead.
  // allErrors: a mismatch report names every problem (up to three), not only the first.
  const ajv = new AjvClass({ strict: false, allErrors: true, allowUnionTypes: true, logger: false, validateSchema: false });
  for (const [name, regex] of Object.entries(FORMATS)) ajv.addFormat(name, regex);
  return ajv;
}

let ajv07: Ajv | undefined;
let ajv2020: Ajv | undefined;
// ajv (~90 files, tens of ms) is loaded with the first schema a request brings, not at start-up
// (docs/benchmarks.md, S5): synchronously, through its CommonJS entry points.
const requireAjv = createRequire(import.meta.url);
const draft07 = () => newAjv((requireAjv('ajv') as { Ajv: new (options: object) => Ajv }).Ajv);
const draft2020 = () => newAjv((requireAjv('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020Class }).Ajv2020);

export interface CompiledSchema {
  /** The schema as the generator reads it (see normalizeSchema). */
  schema: unknown;
  /** Undefined when the schema does not compile (then answers cannot be checked, only generated). */
  validate: ValidateFunction | undefined;
  /** Why it did not compile. */
  compileError: string | undefined;
}

const UNUSABLE: CompiledSchema = { schema: {}, validate: undefined, compileError: 'the schema nests too deeply to read' };

// Request bodies are parsed afresh each time, so identity is the schema's JSON text. A client sends
// a handful of distinct schemas; the bound keeps a client that sends a new one each time from
// growing the cache without end.
const MAX_CACHED = 512;
const compiledCache = new Map<string, CompiledSchema>();

/** The schema normalised and compiled, from the cache when the same schema came before. */
export function compileSchema(schema: unknown, dialect: SchemaDialect): CompiledSchema {
  let key: string;
  try {
    key = `${dialect}\u0000${JSON.stringify(schema) ?? 'undefined'}`;
  } catch {
    // Too deep to serialise (the body parser took it): no schema anyone can use; answer without one.
    return UNUSABLE;
  }
  const cached = compiledCache.get(key);
  if (cached) return cached;
  const normalized = normalizeSchema(schema, dialect);
  let validate: ValidateFunction | undefined;
  let compileError: string | undefined;
  const draft = isObject(schema) && typeof schema.$schema === 'string' ? schema.$schema : '';
  try {
    if (typeof normalized === 'boolean') validate = (ajv07 ??= draft07()).compile(normalized);
    else if (!isObject(normalized)) throw new Error('a schema must be an object or a boolean');
    else validate = /2019-09|2020-12/.test(draft) ? (ajv2020 ??= draft2020()).compile(normalized) : (ajv07 ??= draft07()).compile(normalized);
  } catch (error) {
    compileError = (error as Error).message;
  }
  const compiled: CompiledSchema = { schema: normalized, validate, compileError };
  if (compiledCache.size >= MAX_CACHED) {
    const oldest = compiledCache.keys().next().value!;
    const evicted = compiledCache.get(oldest)!;
    compiledCache.delete(oldest);
    // ajv keeps every schema it compiled; let it forget the evicted one too.
    if (isObject(evicted.schema)) for (const instance of [ajv07, ajv2020]) instance?.removeSchema(evicted.schema);
  }
  compiledCache.set(key, compiled);
  return compiled;
}

/** ajv's errors in one line: where and what, e.g. `/age must be integer; (root) must have required property 'email'`. */
export function describeSchemaErrors(errors: readonly ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'does not match the schema';
  const shown = errors.slice(0, 3).map((error) => {
    const where = error.instancePath === '' ? '(root)' : error.instancePath;
    const extra = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : error.keyword === 'enum' ? ` (${JSON.stringify(error.params.allowedValues)})` : '';
    return `${where} ${error.message ?? error.keyword}${extra}`;
  });
  return errors.length > 3 ? `${shown.join('; ')}; and ${errors.length - 3} more` : shown.join('; ');
}

/** Whether a value validates; `undefined` error when it does (or when the schema cannot be checked). */
export function checkInstance(compiled: CompiledSchema, value: unknown): string | undefined {
  if (!compiled.validate) return undefined;
  return compiled.validate(value) ? undefined : describeSchemaErrors(compiled.validate.errors);
}

// ---------------------------------------------------------------------------------------------
// Seeding.

/** 32-bit FNV-1a: stable across processes and platforms. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Readable values.

const STOPWORDS = new Set(
  'a an the and or but of to in on at for from by with about as into than then that this these those is are was were be been being do does did have has had i you he she it we they me my your our their what which who whom whose when where why how please give me tell list extract return json answer using use can could would should will shall may might must some any all each every not no yes like them make made want need get got just also very really much many more most other over such only own same too there here its let lets'.split(' '),
);
// Capitalised, but not names: a proper-noun guess skips them.
const NOT_NAMES = new Set('monday tuesday wednesday thursday friday saturday sunday january february march april may june july august september october november december'.split(' '));
const PEOPLE = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Katherine Johnson', 'Margaret Hamilton', 'Tim Berners-Lee', 'Hedy Lamarr', 'Claude Shannon'];
const FIRST_NAMES = ['Ada', 'Alan', 'Grace', 'Katherine', 'Margaret', 'Tim', 'Hedy', 'Claude'];
const LAST_NAMES = ['Lovelace', 'Turing', 'Hopper', 'Johnson', 'Hamilton', 'Berners-Lee', 'Lamarr', 'Shannon'];
const CITIES = ['Paris', 'Tokyo', 'Lisbon', 'Nairobi', 'Montreal', 'Kyoto', 'Buenos Aires', 'Oslo'];
const COUNTRIES = ['France', 'Japan', 'Portugal', 'Kenya', 'Canada', 'Argentina', 'Norway', 'India'];
const COLORS = ['red', 'green', 'blue', 'teal', 'amber', 'violet'];
const LANGUAGES = ['English', 'French', 'Japanese', 'Portuguese', 'Swahili', 'Spanish'];
const CURRENCIES = ['EUR', 'USD', 'JPY', 'GBP', 'CAD'];
const STATUSES = ['active', 'pending', 'completed', 'draft'];

/** Words of a property name: `firstName`, `first_name`, `first-name` → first, name. */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

function singular(word: string): string {
  if (/ies$/.test(word) && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/(ss|us|is)$/.test(word)) return word;
  if (/(ches|shes|xes|sses)$/.test(word)) return word.slice(0, -2);
  if (/s$/.test(word) && word.length > 3) return word.slice(0, -1);
  return word;
}

const capitalize = (text: string) => (text === '' ? text : text[0]!.toUpperCase() + text.slice(1));

/** What the prompt offers readable strings: its words in order, its content words, its proper nouns. */
export interface PromptWords {
  words: string[];
  content: string[];
  proper: string[];
}

export function promptWords(prompt: string): PromptWords {
  const words = (prompt.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) ?? []).slice(0, 200);
  const content = words.filter((w) => w.length >= 3 && !STOPWORDS.has(w.toLowerCase()) && !/^\d+$/.test(w));
  // Capitalised words not at a sentence start are likely names ("… Alice and Bob …").
  const proper: string[] = [];
  const sentences = prompt.split(/[.!?\n]+/);
  for (const sentence of sentences) {
    const inSentence = sentence.match(/[\p{L}][\p{L}'’-]*/gu) ?? [];
    inSentence.slice(1).forEach((w) => {
      if (/^\p{Lu}\p{Ll}+$/u.test(w) && !STOPWORDS.has(w.toLowerCase()) && !NOT_NAMES.has(w.toLowerCase()) && !proper.includes(w)) proper.push(w);
    });
  }
  return { words, content, proper };
}

// ---------------------------------------------------------------------------------------------
// Patterns: a small generator for the regexes schemas use (`^[A-Z]{3}$`, `^\d{5}(-\d{4})?$`, …).

type Rx =
  | { kind: 'seq'; items: Rx[] }
  | { kind: 'alt'; options: Rx[] }
  | { kind: 'chars'; chars: string }
  | { kind: 'repeat'; item: Rx; min: number; max: number };

const DIGITS = '0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const WORD = `${LOWER}${UPPER}${DIGITS}_`;
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

class Unsupported extends Error {}

function parsePattern(source: string): Rx {
  let i = 0;
  const peek = () => source[i];
  const escapeClass = (c: string): string => {
    switch (c) {
      case 'd': return DIGITS;
      case 'w': return WORD;
      case 's': return ' ';
      case 'D': return LOWER + UPPER;
      case 'W': return ' -.';
      case 'S': return LOWER;
      case 'n': return '\n';
      case 't': return '\t';
      default:
        if (/[A-Za-z0-9]/.test(c)) throw new Unsupported(`\\${c}`);
        return c;
    }
  };
  const parseClass = (): string => {
    // after '['
    let negate = false;
    if (peek() === '^') { negate = true; i++; }
    let set = '';
    let first = true;
    while (i < source.length && (source[i] !== ']' || first)) {
      first = false;
      let c = source[i++]!;
      let chars: string;
      if (c === '\\') chars = escapeClass(source[i++] ?? '');
      else chars = c;
      if (chars.length === 1 && source[i] === '-' && source[i + 1] !== undefined && source[i + 1] !== ']') {
        i++;
        let end = source[i++]!;
        if (end === '\\') end = escapeClass(source[i++] ?? '');
        if (end.length !== 1) throw new Unsupported('range');
        c = chars;
        chars = '';
        for (let code = c.charCodeAt(0); code <= end.charCodeAt(0) && chars.length < 2000; code++) chars += String.fromCharCode(code);
      }
      set += chars;
    }
    if (source[i] !== ']') throw new Unsupported('unterminated class');
    i++;
    if (negate) set = Array.from(PRINTABLE).filter((c) => !set.includes(c)).join('');
    if (set === '') throw new Unsupported('empty class');
    return set;
  };
  const parseAtom = (): Rx | undefined => {
    const c = source[i]!;
    if (c === '(') {
      i++;
      if (source[i] === '?') {
        if (source[i + 1] === ':') i += 2;
        else throw new Unsupported('group syntax');
      }
      const inner = parseAlt();
      if (source[i] !== ')') throw new Unsupported('unterminated group');
      i++;
      return inner;
    }
    if (c === '[') { i++; return { kind: 'chars', chars: parseClass() }; }
    if (c === '.') { i++; return { kind: 'chars', chars: LOWER }; }
    if (c === '^' || c === '$') { i++; return undefined; }
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      i += 2;
      if (next === 'b' || next === 'B') return undefined;
      return { kind: 'chars', chars: escapeClass(next) };
    }
    if ('*+?{'.includes(c)) throw new Unsupported('quantifier without atom');
    i++;
    return { kind: 'chars', chars: c };
  };
  const parseSeq = (): Rx => {
    const items: Rx[] = [];
    while (i < source.length && source[i] !== '|' && source[i] !== ')') {
      const atom = parseAtom();
      let min = 1;
      let max = 1;
      const q = source[i];
      if (q === '*' || q === '+' || q === '?') {
        i++;
        [min, max] = q === '*' ? [0, 3] : q === '+' ? [1, 3] : [0, 1];
      } else if (q === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
        if (!m) throw new Unsupported('brace');
        i += m[0].length;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? min + 3 : Number(m[3]);
      }
      if (source[i] === '?' && (min !== 1 || max !== 1)) i++; // lazy
      if (!atom) continue;
      items.push(min === 1 && max === 1 ? atom : { kind: 'repeat', item: atom, min, max });
    }
    return { kind: 'seq', items };
  };
  const parseAlt = (): Rx => {
    const options = [parseSeq()];
    while (source[i] === '|') {
      i++;
      options.push(parseSeq());
    }
    return options.length === 1 ? options[0]! : { kind: 'alt', options };
  };
  const tree = parseAlt();
  if (i !== source.length) throw new Unsupported('trailing input');
  return tree;
}

function emitPattern(rx: Rx, random: () => number, budget: { left: number }): string {
  switch (rx.kind) {
    case 'chars': {
      // Readable first: prefer letters and digits the class allows.
      const nice = Array.from(rx.chars).filter((c) => /[a-z0-9]/i.test(c));
      const from = nice.length > 0 ? nice : Array.from(rx.chars);
      return from[Math.floor(random() * from.length)]!;
    }
    case 'seq':
      return rx.items.map((item) => emitPattern(item, random, budget)).join('');
    case 'alt':
      return emitPattern(rx.options[Math.floor(random() * rx.options.length)]!, random, budget);
    case 'repeat': {
      const span = Math.min(rx.max, rx.min + 3) - rx.min;
      let count = rx.min + Math.floor(random() * (span + 1));
      count = Math.max(rx.min, Math.min(count, budget.left));
      budget.left -= count;
      let out = '';
      for (let n = 0; n < count; n++) out += emitPattern(rx.item, random, budget);
      return out;
    }
  }
}

const patternCache = new Map<string, { tree: Rx | undefined; regex: RegExp | undefined }>();

function compiledPattern(pattern: string): { tree: Rx | undefined; regex: RegExp | undefined } {
  let entry = patternCache.get(pattern);
  if (!entry) {
    let regex: RegExp | undefined;
    let tree: Rx | undefined;
    try {
      regex = new RegExp(pattern, 'u');
    } catch {
      regex = undefined;
    }
    try {
      tree = parsePattern(pattern);
    } catch {
      tree = undefined;
    }
    entry = { tree, regex };
    if (patternCache.size >= MAX_CACHED) patternCache.delete(patternCache.keys().next().value!);
    patternCache.set(pattern, entry);
  }
  return entry;
}

/** A string matching the pattern within the length bounds, or undefined when none was found. */
function stringForPattern(pattern: string, random: () => number, minLength: number, maxLength: number, readable: string): string | undefined {
  const { tree, regex } = compiledPattern(pattern);
  if (!regex) return undefined;
  const fits = (s: string) => {
    const length = [...s].length;
    return length >= minLength && length <= maxLength && regex.test(s);
  };
  if (fits(readable)) return readable;
  if (tree) {
    for (let attempt = 0; attempt < 8; attempt++) {
      const candidate = emitPattern(tree, random, { left: 64 });
      if (fits(candidate)) return candidate;
    }
  }
  for (const candidate of [readable.toLowerCase(), readable.replace(/\s+/g, '_'), 'a', '0', 'A', '']) if (fits(candidate)) return candidate;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Generating.

export interface GenerateOptions {
  /** What makes the value this request's own: the same seed, the same value. */
  seed: string;
  /** Text readable strings are drawn from (the prompt). */
  hint?: string;
  /** How many times one `$ref` may unfold inside itself before the value takes its shortest form. */
  maxRecursion?: number;
}

interface Context {
  root: unknown;
  seed: string;
  words: PromptWords;
  maxRecursion: number;
}

const MAX_DEPTH = 48;

// Keywords a client moved into a description, which a model reads and obeys.
const HINTED = new Set(['enum', 'const', 'format', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties']);
const hintCache = new WeakMap<Node, Node>();

/**
 * A schema with the constraints its description carries: clients that send Anthropic a schema
 * without keywords its structured outputs do not take append them to the description as
 * `{minItems: 2, pattern: "…"}` (@anthropic-ai/sdk's transformJSONSchema; LangChain's ChatAnthropic
 * moves `enum` there too). A model reads and follows them; so does the generator, for values only:
 * validation still uses the schema as sent.
 */
function withDescriptionHints(schema: Node): Node {
  const description = schema.description;
  if (typeof description !== 'string' || !description.endsWith('}')) return schema;
  let cached = hintCache.get(schema);
  if (cached) return cached;
  cached = schema;
  const start = description.lastIndexOf('\n\n{') >= 0 ? description.lastIndexOf('\n\n{') + 2 : description.startsWith('{') ? 0 : -1;
  if (start >= 0) {
    try {
      const json = description.slice(start).replace(/([{,]\s*)([A-Za-z$_][\w$]*): /g, '$1"$2": ');
      const hints = JSON.parse(json) as unknown;
      if (isObject(hints)) {
        const extra = Object.fromEntries(Object.entries(hints).filter(([key]) => HINTED.has(key) && !(key in schema)));
        if (Object.keys(extra).length > 0) cached = { ...schema, ...extra };
      }
    } catch {
      // Not a hint after all: an ordinary description that ends with a brace.
    }
  }
  hintCache.set(schema, cached);
  return cached;
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!;
}

function resolvePointer(root: unknown, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObject(node)) node = node[key];
    else return undefined;
  }
  return node;
}

const MIN_KEYS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'];
const MAX_KEYS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'];

/** allOf's members folded into one schema: properties and requirements together, the tighter bounds. */
function mergeAll(parts: Node[]): Node {
  const out: Node = {};
  for (const part of parts) {
    for (const [key, value] of Object.entries(part)) {
      const existing = out[key];
      if (existing === undefined) out[key] = value;
      else if (key === 'properties' && isObject(existing) && isObject(value)) {
        const merged: Node = { ...existing };
        for (const [name, sub] of Object.entries(value)) merged[name] = merged[name] === undefined ? sub : { allOf: [merged[name], sub] };
        out[key] = merged;
      } else if (key === 'required' && Array.isArray(existing) && Array.isArray(value)) out[key] = [...new Set([...existing, ...value])];
      else if (MIN_KEYS.includes(key) && typeof existing === 'number' && typeof value === 'number') out[key] = Math.max(existing, value);
      else if (MAX_KEYS.includes(key) && typeof existing === 'number' && typeof value === 'number') out[key] = Math.min(existing, value);
      else if (key === 'type') {
        const a = Array.isArray(existing) ? existing : [existing];
        const b = Array.isArray(value) ? value : [value];
        const both = a.filter((t) => b.includes(t) || (t === 'integer' && b.includes('number')));
        const extra = b.filter((t) => t === 'integer' && a.includes('number'));
        const types = [...new Set([...both, ...extra])];
        out[key] = types.length === 1 ? types[0] : types.length > 0 ? types : existing;
      } else if (key === 'enum' && Array.isArray(existing) && Array.isArray(value)) {
        const kept = existing.filter((e) => value.some((v) => JSON.stringify(v) === JSON.stringify(e)));
        out[key] = kept.length > 0 ? kept : existing;
      } else if (key === 'allOf' && Array.isArray(existing) && Array.isArray(value)) out[key] = [...existing, ...value];
      else if ((key === 'anyOf' || key === 'oneOf') && Array.isArray(value)) out.allOf = [...((out.allOf as unknown[]) ?? []), { [key]: value }];
    }
  }
  return out;
}

const TYPE_HINTS: [string, string][] = [
  ['properties', 'object'], ['additionalProperties', 'object'], ['required', 'object'], ['minProperties', 'object'],
  ['items', 'array'], ['prefixItems', 'array'], ['minItems', 'array'], ['maxItems', 'array'],
  ['minLength', 'string'], ['maxLength', 'string'], ['pattern', 'string'], ['format', 'string'],
  ['minimum', 'number'], ['maximum', 'number'], ['exclusiveMinimum', 'number'], ['exclusiveMaximum', 'number'], ['multipleOf', 'number'],
];

/** Whether a subschema (shallowly) unfolds a `$ref`: the branch to avoid when a value must end. */
function refersOn(schema: unknown): boolean {
  return JSON.stringify(schema)?.includes('"$ref"') ?? false;
}

class Generator {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  #random(path: string): () => number {
    return seededRandom(hashString(`${this.#ctx.seed}\u0000${path}`));
  }

  /** `name`: the property (or the array's property, singular) the value is for. */
  generate(input: unknown, path: string, name: string, depth: number, refs: ReadonlyMap<string, number>, minimal: boolean): unknown {
    if (input === true || input === undefined) return this.#string({}, path, name);
    if (input === false || !isObject(input)) return null;
    if (depth > MAX_DEPTH) return null;
    const schema = withDescriptionHints(input);
    const random = this.#random(path);

    if (typeof schema.$ref === 'string') {
      const ref = schema.$ref;
      const seen = refs.get(ref) ?? 0;
      const target = resolvePointer(this.#ctx.root, ref);
      const { $ref: _ref, ...rest } = schema;
      const next = new Map(refs).set(ref, seen + 1);
      const merged = Object.keys(rest).length > 0 && isObject(target) ? mergeAll([target, rest]) : target;
      return this.generate(merged, path, name, depth + 1, next, minimal || seen >= this.#ctx.maxRecursion);
    }
    if ('const' in schema) return schema.const;
    if (Array.isArray(schema.enum) && schema.enum.length > 0) {
      const nonNull = schema.enum.filter((e) => e !== null);
      return minimal && schema.enum.includes(null) ? null : pick(nonNull.length > 0 ? nonNull : schema.enum, random);
    }
    if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
      const { allOf, ...rest } = schema;
      const parts = [rest, ...allOf].map((p) => this.#deref(p)).filter(isObject);
      return this.generate(mergeAll(parts), path, name, depth + 1, refs, minimal);
    }
    const branches = (Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined) as unknown[] | undefined;
    if (branches && branches.length > 0) {
      const { anyOf: _a, oneOf: _o, ...rest } = schema;
      const branch = this.#chooseBranch(branches, random, minimal);
      const merged = Object.keys(rest).length > 0 && isObject(branch) ? mergeAll([rest, this.#deref(branch) as Node]) : branch;
      return this.generate(merged, `${path}|`, name, depth + 1, refs, minimal);
    }

    let type = schema.type;
    if (Array.isArray(type)) {
      const nonNull = type.filter((t) => t !== 'null');
      type = minimal && type.includes('null') ? 'null' : nonNull.length > 0 ? pick(nonNull, random) : 'null';
    }
    if (type === undefined) type = TYPE_HINTS.find(([keyword]) => keyword in schema)?.[1] ?? 'string';
    switch (type) {
      case 'object': return this.#object(schema, path, depth, refs, minimal);
      case 'array': return this.#array(schema, path, name, depth, refs, minimal);
      case 'integer': return this.#number(schema, path, name, true);
      case 'number': return this.#number(schema, path, name, false);
      case 'boolean': return random() < 0.5;
      case 'null': return null;
      default: return this.#string(schema, path, name);
    }
  }

  #deref(schema: unknown): unknown {
    let node = schema;
    for (let hops = 0; isObject(node) && typeof node.$ref === 'string' && hops < 16; hops++) {
      const { $ref, ...rest } = node;
      const target = resolvePointer(this.#ctx.root, $ref as string);
      node = Object.keys(rest).length > 0 && isObject(target) ? mergeAll([target, rest]) : target;
    }
    return node;
  }

  #chooseBranch(branches: unknown[], random: () => number, minimal: boolean): unknown {
    const isNull = (b: unknown) => isObject(b) && b.type === 'null';
    if (minimal) return branches.find(isNull) ?? branches.find((b) => !refersOn(b)) ?? branches[0];
    // A value reads better than null: OpenAI strict schemas write optional fields as anyOf [T, null].
    const real = branches.filter((b) => !isNull(b));
    return real.length > 0 ? pick(real, random) : branches[0];
  }

  #object(schema: Node, path: string, depth: number, refs: ReadonlyMap<string, number>, minimal: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const properties = isObject(schema.properties) ? schema.properties : {};
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    for (const [key, sub] of Object.entries(properties)) {
      // Every property reads better than a sparse object; an unfolding recursion keeps only what it must.
      if (minimal && !required.has(key)) continue;
      out[key] = this.generate(sub, `${path}.${key}`, key, depth + 1, refs, minimal);
    }
    for (const key of required) if (!(key in out)) out[key] = this.generate(true, `${path}.${key}`, key, depth + 1, refs, minimal);
    const additional = schema.additionalProperties;
    const minProperties = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
    // A map (zod's record: no properties, a schema for the values) gets an entry or two to show its shape.
    const wanted = Math.max(minProperties, Object.keys(properties).length === 0 && isObject(additional) && !minimal ? 1 : 0);
    const names = isObject(schema.propertyNames) && Array.isArray(schema.propertyNames.enum) ? (schema.propertyNames.enum as unknown[]).filter((n): n is string => typeof n === 'string') : [];
    const valueSchema = additional === false ? undefined : isObject(additional) ? additional : true;
    for (let n = 1; Object.keys(out).length < wanted && n <= wanted + names.length + 1; n++) {
      const key = names[n - 1] ?? `key_${n}`;
      if (key in out) continue;
      out[key] = this.generate(valueSchema, `${path}.${key}`, 'value', depth + 1, refs, minimal);
    }
    return out;
  }

  #array(schema: Node, path: string, name: string, depth: number, refs: ReadonlyMap<string, number>, minimal: boolean): unknown[] {
    const random = this.#random(`${path}#`);
    const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : [];
    const items = Array.isArray(schema.items) ? schema.additionalItems : schema.items;
    const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
    const max = typeof schema.maxItems === 'number' ? schema.maxItems : Infinity;
    let count = minimal ? min : Math.max(min, Math.min(max, prefix.length > 0 ? prefix.length : 2 + Math.floor(random() * 2)));
    if (items === false) count = Math.min(count, prefix.length);
    const itemName = singular(name);
    const out: unknown[] = [];
    const seen = new Set<string>();
    for (let i = 0; out.length < count && i < count + 8; i++) {
      const sub = i < prefix.length ? prefix[i] : items;
      const value = this.generate(sub, `${path}[${i}]`, itemName, depth + 1, refs, minimal);
      if (schema.uniqueItems === true) {
        const key = JSON.stringify(value);
        if (seen.has(key)) continue;
        seen.add(key);
      }
      out.push(value);
    }
    return out;
  }

  #number(schema: Node, path: string, name: string, integer: boolean): number {
    const random = this.#random(path);
    const words = nameWords(name);
    const has = (...w: string[]) => w.some((x) => words.includes(x));
    let [lo, hi, decimals] = has('age') ? [18, 90, 0] : has('year') ? [1990, 2030, 0] : has('price', 'cost', 'amount', 'total', 'salary') ? [5, 500, 2]
      : has('rating', 'stars') ? [1, 5, 1] : has('score') ? [1, 100, 0] : has('percent', 'percentage') ? [0, 100, 1]
      : has('lat', 'latitude') ? [-60, 70, 4] : has('lon', 'lng', 'longitude') ? [-150, 150, 4]
      : has('count', 'quantity', 'qty', 'number', 'num', 'servings') ? [1, 12, 0] : [1, 100, integer ? 0 : 1];
    const minimum = typeof schema.minimum === 'number' ? schema.minimum : -Infinity;
    const maximum = typeof schema.maximum === 'number' ? schema.maximum : Infinity;
    const exMin = typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : -Infinity;
    const exMax = typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum : Infinity;
    const ok = (v: number) => v >= minimum && v <= maximum && v > exMin && v < exMax && (!integer || Number.isInteger(v));
    const floor = Math.max(minimum, exMin);
    const ceiling = Math.min(maximum, exMax);
    // Keep the readable range where the bounds allow; otherwise the bounds decide.
    // Where the bounds leave no room inside it (exclusive bounds included), the bounds decide.
    if (Math.min(hi, ceiling) - Math.max(lo, floor) <= 0 && ceiling > floor) [lo, hi] = [Number.isFinite(floor) ? floor : ceiling - 100, Number.isFinite(ceiling) ? ceiling : floor + 100];
    else [lo, hi] = [Math.max(lo, floor), Math.min(hi, ceiling)];
    const multipleOf = typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : undefined;
    // ajv checks multipleOf as `value / multipleOf` being an integer: candidates are held to that test.
    const fitsMultiple = (v: number) => multipleOf === undefined || Number.isInteger(v / multipleOf);
    const candidates: number[] = [];
    if (multipleOf !== undefined) {
      const kLo = Math.ceil(lo / multipleOf);
      const kHi = Math.floor(hi / multipleOf);
      const k = kHi >= kLo ? kLo + Math.floor(random() * (kHi - kLo + 1)) : kLo;
      const step = (multipleOf.toString().split('.')[1] ?? '').length;
      for (const kk of [k, kLo, kHi, k + 1, k - 1, Math.ceil(floor / multipleOf), Math.floor(ceiling / multipleOf)]) {
        if (!Number.isFinite(kk)) continue;
        const v = Number((kk * multipleOf).toFixed(Math.min(step, 20)));
        candidates.push(v, kk * multipleOf);
      }
      if (integer || multipleOf < 1) for (let v = Math.ceil(lo); v <= Math.min(hi, Math.ceil(lo) + 1000); v++) if (Number.isInteger(v / multipleOf)) { candidates.push(v); break; }
    } else {
      const raw = lo + random() * (hi - lo);
      const rounded = integer || decimals === 0 ? Math.round(raw) : Number(raw.toFixed(decimals));
      candidates.push(rounded, raw, Math.ceil(lo), Math.floor(hi), lo, hi, (lo + hi) / 2);
      if (Number.isFinite(exMin)) candidates.push(integer ? Math.floor(exMin) + 1 : exMin + (Number.isFinite(ceiling) ? (ceiling - exMin) / 2 : 1));
      if (Number.isFinite(exMax)) candidates.push(integer ? Math.ceil(exMax) - 1 : exMax - (Number.isFinite(floor) ? (exMax - floor) / 2 : 1));
    }
    for (const v of candidates) if (Number.isFinite(v) && ok(v) && fitsMultiple(v)) return Object.is(v, -0) ? 0 : v;
    return Number.isFinite(lo) ? (integer ? Math.ceil(lo) : lo) : 0;
  }

  #readable(name: string, random: () => number): string {
    const words = nameWords(name);
    const has = (...w: string[]) => w.some((x) => words.includes(x));
    const { proper, content, words: all } = this.#ctx.words;
    const last = words.at(-1) ?? '';
    const number = 1 + Math.floor(random() * 99);
    if (has('email', 'mail')) return `${pick(FIRST_NAMES, random).toLowerCase()}.${pick(LAST_NAMES, random).toLowerCase().replace(/[^a-z]/g, '')}@example.com`;
    if (has('url', 'uri', 'website', 'link', 'href', 'homepage')) {
      const slug = (content[Math.floor(random() * content.length)] ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
      return `https://example.com/${slug || 'page'}`;
    }
    if (has('phone', 'tel', 'mobile')) return `+1-555-01${String(number).padStart(2, '0')}`;
    if (last === 'first' || (has('first') && has('name')) || has('firstname', 'given')) return proper.length > 0 ? pick(proper, random) : pick(FIRST_NAMES, random);
    if ((has('last') && has('name')) || has('surname', 'lastname', 'family')) return pick(LAST_NAMES, random);
    if (has('name', 'author', 'person', 'owner', 'user', 'username', 'participant', 'attendee', 'customer', 'contact') && !has('file', 'product', 'company', 'project', 'event', 'tool')) {
      return proper.length > 0 ? pick(proper, random) : pick(PEOPLE, random);
    }
    if (has('city', 'town')) return pick(CITIES, random);
    if (has('country', 'nation')) return pick(COUNTRIES, random);
    if (has('color', 'colour')) return pick(COLORS, random);
    if (has('language', 'lang')) return pick(LANGUAGES, random);
    if (has('currency')) return pick(CURRENCIES, random);
    if (has('status', 'state')) return pick(STATUSES, random);
    if (has('address', 'street')) return `${number} Example Street`;
    if (has('zip', 'postal', 'postcode')) return String(10000 + Math.floor(random() * 89999));
    if (has('date', 'day', 'birthday', 'dob')) return this.#date(random);
    if (has('time', 'timestamp', 'at')) return this.#dateTime(random);
    if (last === 'id' || has('uuid', 'guid')) return this.#uuid(random);
    if (has('description', 'summary', 'answer', 'explanation', 'reason', 'reasoning', 'text', 'content', 'message', 'comment', 'body', 'response', 'details', 'notes', 'note', 'sentence', 'output', 'result', 'value', 'justification')) {
      return this.#sentence(random) ?? `${capitalize(words.join(' ') || 'example')} ${number}.`;
    }
    if (has('title', 'headline', 'subject', 'topic', 'label', 'category', 'tag', 'keyword', 'heading')) {
      const window = content.length > 0 ? content.slice(Math.floor(random() * content.length)).slice(0, 3) : [];
      if (window.length > 0) return window.map(capitalize).join(' ');
    }
    if (words.length === 0) return this.#sentence(random) ?? (all.slice(0, 6).join(' ') || 'example');
    // Otherwise a word of the prompt (what the request is about), or the property's own name, numbered.
    if (content.length > 0 && random() < 0.75) return pick(content, random).toLowerCase();
    return `${singular(words.join(' '))} ${number}`;
  }

  /** A few words of the prompt, as a sentence; undefined when the prompt has none. */
  #sentence(random: () => number): string | undefined {
    const { words } = this.#ctx.words;
    if (words.length === 0) return undefined;
    const length = Math.min(words.length, 4 + Math.floor(random() * 6));
    const start = Math.floor(random() * (words.length - length + 1));
    return `${capitalize(words.slice(start, start + length).join(' '))}.`;
  }

  #date(random: () => number): string {
    const day = new Date(Date.UTC(2024, 0, 1) + Math.floor(random() * 730) * 86_400_000);
    return day.toISOString().slice(0, 10);
  }

  #dateTime(random: () => number): string {
    const at = new Date(Date.UTC(2024, 0, 1) + Math.floor(random() * 730 * 86_400) * 1000);
    return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  #uuid(random: () => number): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
    hex[12] = '4';
    hex[16] = '89ab'[Math.floor(random() * 4)]!;
    const s = hex.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  #string(schema: Node, path: string, name: string): string {
    const random = this.#random(path);
    const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
    const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
    let text: string;
    switch (schema.format) {
      case 'date-time': text = this.#dateTime(random); break;
      case 'date': text = this.#date(random); break;
      case 'time': text = `${this.#dateTime(random).slice(11, 19)}Z`; break;
      case 'email': case 'idn-email': text = this.#readable(name.includes('mail') ? name : 'email', random); break;
      case 'uri': case 'url': case 'iri': case 'uri-reference': case 'iri-reference': text = this.#readable('url', random); break;
      case 'uuid': text = this.#uuid(random); break;
      case 'hostname': case 'idn-hostname': text = 'example.com'; break;
      case 'ipv4': text = `192.0.2.${1 + Math.floor(random() * 254)}`; break;
      case 'ipv6': text = `2001:db8::${(1 + Math.floor(random() * 0xfffe)).toString(16)}`; break;
      case 'duration': text = `P${1 + Math.floor(random() * 30)}D`; break;
      case 'byte': text = 'ZXhhbXBsZQ=='; break;
      default: text = this.#readable(name, random);
    }
    if (typeof schema.pattern === 'string') {
      const matched = stringForPattern(schema.pattern, random, minLength, maxLength, text);
      if (matched !== undefined) return matched;
    }
    return fitLength(text, minLength, maxLength, this.#ctx.words);
  }
}

/** Pads a readable string with more readable words, or cuts it, to fit the length bounds (in code points). */
function fitLength(text: string, minLength: number, maxLength: number, words: PromptWords): string {
  let chars = [...text];
  if (chars.length < minLength) {
    const filler = (words.content.length > 0 ? words.content : ['lorem', 'ipsum', 'dolor', 'sit', 'amet']).map((w) => w.toLowerCase());
    let extra = chars.length > 0 ? ' ' : '';
    for (let i = 0; [...extra].length < minLength - chars.length; i++) extra += `${filler[i % filler.length]} `;
    chars = [...`${text}${extra}`.slice(0, Math.max(minLength, 0) + 8)];
    chars = chars.slice(0, Math.max(minLength, Math.min(chars.length, maxLength)));
    if (chars.at(-1) === ' ') chars[chars.length - 1] = '.';
  }
  if (chars.length > maxLength) {
    chars = chars.slice(0, maxLength);
    while (chars.length > minLength && chars.at(-1) === ' ') chars.pop();
  }
  return chars.join('');
}

export interface Instance {
  value: unknown;
  /** Why the value fails the schema, when no attempt validated (an unsatisfiable or unsupported schema). */
  error: string | undefined;
}

/**
 * A value valid against the schema, the same for the same seed: generated, checked with the
 * compiled validator, and generated again with another salt (then in its shortest form) when the
 * check fails, as it can where the generator approximates (oneOf overlaps, `not`, odd patterns).
 */
export function generateInstance(compiled: CompiledSchema, options: GenerateOptions): Instance {
  const words = promptWords(options.hint ?? '');
  let last: Instance = { value: null, error: 'not generated' };
  for (let attempt = 0; attempt < 4; attempt++) {
    const ctx: Context = { root: compiled.schema, seed: attempt === 0 ? options.seed : `${options.seed}\u0000${attempt}`, words, maxRecursion: options.maxRecursion ?? 2 };
    const value = new Generator(ctx).generate(compiled.schema, '$', '', 0, new Map(), attempt === 3);
    const error = checkInstance(compiled, value);
    last = { value, error };
    if (error === undefined) return last;
  }
  return last;
}
