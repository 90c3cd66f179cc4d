// The config file's JSON Schema. One schema, compiled once, shared by the file loader and
// (later) the admin API, so a rule means the same thing wherever it comes from.
// `responses` values are a plain string today; richer entries (rules with match conditions,
// tool calls, errors, latency) arrive as new keys without breaking this form.

export type MatchMode = 'normalized' | 'exact';

export interface Settings {
  /** How prompts are compared: `normalized` (trim, collapse whitespace, case-insensitive) or `exact`. */
  match?: MatchMode;
  /** Reject what the real APIs reject (missing max_tokens, unknown fields, …). */
  strict?: boolean;
  /** Largest accepted request body, in bytes. */
  body_limit_bytes?: number;
}

export interface ConfigFile {
  responses?: Record<string, string>;
  defaults?: {
    unknown_response?: string;
  };
  settings?: Settings;
}

export const DEFAULT_UNKNOWN_RESPONSE = "I don't know the answer to that. This is a mock response.";
export const DEFAULT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

export const configSchema = {
  $id: 'mockllm/config',
  type: 'object',
  additionalProperties: false,
  properties: {
    responses: {
      type: ['object', 'null'],
      description: 'Prompt → answer. The prompt is compared with the last user message.',
      additionalProperties: { type: 'string' },
    },
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
      },
    },
  },
} as const;
