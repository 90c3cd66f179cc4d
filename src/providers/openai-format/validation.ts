// OpenAI's words for request-body violations, shared by every OpenAI endpoint (chat, responses,
// completions, embeddings).
import type { ErrorObject } from 'ajv';
import { invalidRequest, type ApiError } from '../../http/errors.ts';

/** `/input/0/role` → `input[0].role`, the way OpenAI names a param. */
export function paramOf(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (extra !== undefined) parts.push(extra);
  return parts.reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

const TYPE_NAMES: Record<string, string> = {
  array: 'an array',
  object: 'an object',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  null: 'null',
};

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  return TYPE_NAMES[typeof value] ?? typeof value;
}

function valueAt(body: unknown, instancePath: string): unknown {
  let node: unknown = body;
  for (const part of instancePath.split('/').slice(1)) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

/** `'a', 'b', and 'c'`: how OpenAI lists the values it supports. */
export function listValues(values: readonly unknown[]): string {
  const quoted = values.map((v) => `'${String(v)}'`);
  return quoted.length <= 2 ? quoted.join(' and ') : `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1)}`;
}

export interface WordingOptions {
  /** The message for a missing `model` (chat and completions: `you must provide a model parameter`). */
  missingModel?: 'legacy' | 'param';
  /** How strict mode names an unknown field: chat-era `Unrecognized request argument`, or Responses' `Unknown parameter`. */
  unknownField?: 'unrecognized' | 'unknown_parameter';
}

/**
 * Whether a JSON value nests deeper than `max` arrays/objects. Iterative: it must not itself
 * overflow on the values it exists to catch (JSON.parse accepts nesting JSON.stringify cannot echo).
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(node)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/** The first ajv violation of a body, in the words the real API uses (see API-FORMATS §1). */
export function openAiValidationError(error: ErrorObject, body: unknown, options: WordingOptions = {}): ApiError {
  const param = paramOf(error.instancePath);
  switch (error.keyword) {
    case 'required': {
      const missing = paramOf(error.instancePath, String(error.params.missingProperty));
      if (missing === 'model' && options.missingModel !== 'param') return invalidRequest('you must provide a model parameter');
      return invalidRequest(`Missing required parameter: '${missing}'.`, missing, 'missing_required_parameter');
    }
    case 'type': {
      if (param === '') return invalidRequest('The request body must be a JSON object.', null, 'invalid_type');
      const expected = String(error.params.type).split(',').map((t) => TYPE_NAMES[t] ?? t).join(' or ');
      return invalidRequest(
        `Invalid type for '${param}': expected ${expected}, but got ${describeValue(valueAt(body, error.instancePath))} instead.`,
        param,
        'invalid_type',
      );
    }
    case 'minItems':
      return invalidRequest(
        `Invalid '${param}': empty array. Expected an array with minimum length ${error.params.limit}, but got an empty array instead.`,
        param,
        'empty_array',
      );
    case 'maxItems': {
      const value = valueAt(body, error.instancePath);
      return invalidRequest(
        `Invalid '${param}': array too long. Expected an array with maximum length ${error.params.limit}, but got an array with length ${Array.isArray(value) ? value.length : '?'} instead.`,
        param,
        'array_above_max_length',
      );
    }
    case 'minLength':
      return invalidRequest(`Invalid '${param}': empty string. Expected a string with minimum length ${error.params.limit}, but got an empty string instead.`, param, 'empty_string');
    case 'enum': {
      const value = valueAt(body, error.instancePath);
      // Only a scalar is quoted back: String() of an object can throw, or recurse without end.
      if (value !== null && typeof value === 'object') {
        return invalidRequest(`Invalid type for '${param}': expected a string, but got ${describeValue(value)} instead.`, param, 'invalid_type');
      }
      return invalidRequest(`Invalid value: '${String(value)}'. Supported values are: ${listValues(error.params.allowedValues as unknown[])}.`, param, 'invalid_value');
    }
    case 'maxProperties': {
      const value = valueAt(body, error.instancePath);
      const count = value !== null && typeof value === 'object' ? Object.keys(value).length : '?';
      return invalidRequest(
        `Invalid '${param}': too many properties. Expected an object with at most ${error.params.limit} properties, but got an object with ${count} properties instead.`,
        param,
        'object_above_max_properties',
      );
    }
    case 'maxLength': {
      const key = (error as { propertyName?: string }).propertyName;
      if (key !== undefined) {
        return invalidRequest(
          `Invalid '${param}': key too long. Expected keys with maximum length ${error.params.limit}, but got a key with length ${key.length} instead.`,
          param,
          'string_above_max_length',
        );
      }
      return invalidRequest(
        `Invalid '${param}': string too long. Expected a string with maximum length ${error.params.limit}, but got a string with length ${String(valueAt(body, error.instancePath)).length} instead.`,
        param,
        'string_above_max_length',
      );
    }
    case 'maximum':
    case 'minimum': {
      const above = error.keyword === 'maximum';
      const value = valueAt(body, error.instancePath);
      const kind = Number.isInteger(value) ? 'integer' : 'decimal';
      return invalidRequest(
        `Invalid '${param}': ${kind} ${above ? 'above maximum' : 'below minimum'} value. Expected a value ${above ? '<=' : '>='} ${error.params.limit}, but got ${value} instead.`,
        param,
        `${kind}_${above ? 'above_max' : 'below_min'}_value`,
      );
    }
    case 'additionalProperties': {
      const field = paramOf(error.instancePath, String(error.params.additionalProperty));
      if (options.unknownField === 'unknown_parameter') return invalidRequest(`Unknown parameter: '${field}'.`, field, 'unknown_parameter');
      return invalidRequest(`Unrecognized request argument supplied: ${field}`);
    }
    default:
      return invalidRequest(`Invalid '${param}': ${error.message}.`, param || null, 'invalid_value');
  }
}
