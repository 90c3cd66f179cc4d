// The config file's JSON Schema. One schema, compiled once, shared by the file loader and the admin
// API, so a rule means the same thing wherever it comes from. The seed's `responses` map (prompt →
// text) stays valid forever; `rules` is the general form that richer matches and response kinds
// (tool calls, errors, latency) extend with new keys.

export type MatchMode = 'normalized' | 'exact';

/** A rule's answer: plain text, or an object form that later issues extend. */
export type ResponseSpec = string | { text: string };

export interface RuleSpec {
  id?: string;
  match: { prompt: string };
  response: ResponseSpec;
}

export interface Settings {
  /** How prompts are compared: `normalized` (trim, collapse whitespace, case-insensitive) or `exact`. */
  match?: MatchMode;
  /** Reject what the real APIs reject (missing max_tokens, unknown fields, …). */
  strict?: boolean;
  /** Largest accepted request body, in bytes. */
  body_limit_bytes?: number;
  /** How many recent requests `/admin/requests` keeps (0 turns the journal off). */
  journal_size?: number;
  admin?: {
    /** false removes every /admin route. */
    enabled?: boolean;
    /** When set, /admin calls need `Authorization: Bearer <token>`. */
    token?: string;
  };
}

export interface ConfigFile {
  responses?: Record<string, string> | null;
  rules?: RuleSpec[] | null;
  defaults?: {
    unknown_response?: string;
  } | null;
  settings?: Settings | null;
}

export const DEFAULT_UNKNOWN_RESPONSE = "I don't know the answer to that. This is a mock response.";
export const DEFAULT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
export const DEFAULT_JOURNAL_SIZE = 1000;

export const ruleIdSchema = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' } as const;

export const responseSchema = {
  oneOf: [
    { type: 'string' },
    {
      type: 'object',
      required: ['text'],
      additionalProperties: false,
      properties: { text: { type: 'string' } },
    },
  ],
} as const;

export const ruleSchema = {
  $id: 'urn:mockllm:rule',
  type: 'object',
  required: ['match', 'response'],
  additionalProperties: false,
  properties: {
    id: ruleIdSchema,
    match: {
      type: 'object',
      required: ['prompt'],
      additionalProperties: false,
      properties: { prompt: { type: 'string' } },
    },
    response: responseSchema,
  },
} as const;

export const configSchema = {
  $id: 'urn:mockllm:config',
  type: 'object',
  additionalProperties: false,
  properties: {
    responses: {
      type: ['object', 'null'],
      description: 'Prompt → answer. The prompt is compared with the last user message.',
      additionalProperties: { type: 'string' },
    },
    rules: { type: ['array', 'null'], items: { $ref: 'urn:mockllm:rule' } },
    defaults: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        unknown_response: { type: 'string' },
      },
    },
    settings: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        match: { enum: ['normalized', 'exact'] },
        strict: { type: 'boolean' },
        body_limit_bytes: { type: 'integer', minimum: 1024 },
        journal_size: { type: 'integer', minimum: 0, maximum: 1_000_000 },
        admin: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean' },
            token: { type: 'string', minLength: 1 },
          },
        },
      },
    },
  },
} as const;
