// The config file's JSON Schema. One schema, compiled once, shared by the file loader and the admin
// API, so a rule means the same thing wherever it comes from. The seed's `responses` map (prompt →
// text) stays valid forever: each entry is a rule that matches the prompt exactly (after
// normalisation). `rules` is the general form. Cross-field checks that JSON Schema words badly
// (which response kinds combine, whether a regex compiles) live in semantics.ts.

export type MatchMode = 'normalized' | 'exact';
export type Chunking = 'char' | 'word' | 'token' | 'whole';
export type MatchTarget = 'last_user' | 'system' | 'any';
export type OpenAiFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';
export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal' | 'pause_turn';

export interface LatencySpec {
  /** Delay before the first content chunk. */
  ttft_ms?: number;
  /** Delay between content chunks; or derive it from `tokens_per_second`. */
  chunk_delay_ms?: number;
  tokens_per_second?: number;
  /** Uniform noise of ± this many ms on each delay, from a PRNG seeded with `seed`. */
  jitter_ms?: number;
  seed?: number;
  /** Make non-stream answers wait as long as the stream would have taken. */
  simulate_non_stream_latency?: boolean;
}

export interface FaultSpec {
  /** Content chunks sent before the stream fails. */
  fail_after_chunks: number;
  /** `error_event`: the provider's in-stream error; `disconnect`: the socket closes, no terminator. */
  mode?: 'error_event' | 'disconnect';
  message?: string;
}

export interface ToolCallSpec {
  name: string;
  /**
   * An object, or a string holding a JSON object, or `auto`: generated per request, valid against
   * the input schema the request declares for this tool.
   */
  arguments?: Record<string, unknown> | string;
  id?: string;
}

export interface ErrorSpec {
  status: number;
  message?: string;
  /** Overrides the provider's error type for the status (e.g. `insufficient_quota`). */
  type?: string;
  code?: string;
  /** Seconds, sent as `retry-after` (and `retry-after-ms`). */
  retry_after?: number;
}

export interface UsageSpec {
  /** The prompt tokens outside any cache (Anthropic's meaning): cache figures are added to it for the prompt's total. */
  input_tokens?: number;
  output_tokens?: number;
  /** The prompt's total, cached part included (OpenAI's meaning). */
  prompt_tokens?: number;
  completion_tokens?: number;
  /** Prompt tokens read from the prompt cache (OpenAI `cached_tokens`, Gemini `cachedContentTokenCount`). */
  cache_read_input_tokens?: number;
  /** Prompt tokens written to the prompt cache (Anthropic, Bedrock `cacheWriteInputTokens`). */
  cache_creation_input_tokens?: number;
  /** Reasoning (thinking) tokens, part of the output tokens; default: the `thinking` text's count. */
  reasoning_tokens?: number;
}

export interface ResponseObject {
  text?: string;
  /**
   * Structured output: the answer's JSON as a value (sent as its text), or `auto` to generate JSON
   * valid against the schema the request asks for (engine/structured-output.ts).
   */
  json?: unknown;
  tool_calls?: ToolCallSpec[];
  error?: ErrorSpec;
  sequence?: ResponseSpec[];
  /** After the last step of a sequence: start again (`loop`) or keep answering with it (`repeat_last`, the default). */
  then?: 'loop' | 'repeat_last';
  finish_reason?: OpenAiFinishReason;
  stop_reason?: AnthropicStopReason;
  usage?: UsageSpec;
  latency?: LatencySpec;
  chunking?: Chunking;
  fault?: FaultSpec;
  /** What the model thought before answering: Anthropic thinking blocks, OpenAI reasoning items, Gemini thought parts. */
  thinking?: string;
  /** The thinking is redacted: Anthropic `redacted_thinking`, no visible summary elsewhere (its tokens still count). */
  redacted?: boolean;
}

/** A rule's answer: plain text, or an object of one kind (text, tool calls, error, sequence). */
export type ResponseSpec = string | ResponseObject;

/** A count, exactly, or within bounds (both inclusive). */
export type TurnMatch = number | { gte?: number; lte?: number };

export interface ToolResultMatch {
  /** The tool the result belongs to (named by the call it answers). */
  name?: string;
  /** A substring of the result's text (case-insensitive unless `settings.match: exact`). */
  contains?: string;
  /** The id of the call it answers: Anthropic `tool_use_id`, OpenAI `tool_call_id` / `call_id`. */
  tool_call_id?: string;
}

export interface MatchSpec {
  prompt?: string;
  contains?: string;
  /** A JavaScript regular expression, or `/pattern/flags`. */
  regex?: string;
  /** Which text prompt/contains/regex look at (default: the last user message). */
  on?: MatchTarget;
  provider?: string | string[];
  endpoint?: string | string[];
  /** Exact, or a glob with `*` and `?`. */
  model?: string | string[];
  /** The request offers a tool by each of these names. */
  tools?: string | string[];
  /**
   * The last message is a tool result: for this tool, when a name is given; an object narrows it by
   * the tool's name, a substring of the result, and the id of the call it answers.
   */
  tool_result?: boolean | string | ToolResultMatch;
  /**
   * How many assistant turns the conversation already holds (0: its first turn), exactly or as a
   * range: tells the steps of one agent loop apart. Consecutive assistant items are one turn.
   */
  turn?: TurnMatch;
  /** The same condition as `turn`, by its older name (recorded rules use it). */
  assistant_turns?: TurnMatch;
  /** The system prompt contains this (shorthand for `contains` with `on: system`, alongside a prompt condition). */
  system_contains?: string;
  /** The system prompt matches this regex (shorthand for `regex` with `on: system`). */
  system_regex?: string;
  /** Who spoke last: `user`, `assistant` (a prefill), or `tool` (the last turn carries tool results). */
  last_role?: 'user' | 'assistant' | 'tool';
  /** Exact header values; names are case-insensitive. */
  headers?: Record<string, string>;
}

export interface RuleSpec {
  id?: string;
  /** Higher wins; default 0. */
  priority?: number;
  /**
   * Every condition given must hold; `{}` matches everything. A file rule may leave it out (a
   * catch-all): validation fills in `{}`, so a validated rule always has one. The admin API
   * requires it, so that a body missing its conditions is not taken for a catch-all.
   */
  match: MatchSpec;
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
  /** Default chunking of streamed text (a rule's own `chunking` wins). */
  chunking?: Chunking;
  /** Default latency (a rule's own `latency` keys win, key by key). */
  latency?: LatencySpec;
  /** CORS is off unless origins are listed here ("*" for any), for browser apps calling the mock directly. */
  cors?: {
    origins: string[];
  };
  /**
   * Simulate prompt caching (off by default): Anthropic `cache_control` breakpoints and OpenAI
   * prompts of 1,024 tokens or more report cache writes and reads for repeated prefixes.
   */
  prompt_cache?: boolean;
  admin?: {
    /** false removes every /admin route. */
    enabled?: boolean;
    /** When set, /admin calls need `Authorization: Bearer <token>`. */
    token?: string;
  };
}

/** `embeddings:`: what POST /v1/embeddings answers besides its generated vectors. */
export interface EmbeddingsSpec {
  /** Fixed vectors by exact input text, sent back as written (tests that need exact values). */
  vectors?: Record<string, number[]>;
  /** Size of generated vectors for models the server does not know (default 1536). */
  default_dimensions?: number;
}

/** One entry of `models:`: what GET /v1/models lists. */
export interface ModelSpec {
  id: string;
  /** Which provider lists it (a registered provider's name); by default the provider that owns such ids (`claude…`: `anthropic`). */
  provider?: string;
  /** Anthropic's `display_name` (derived from the id when absent). */
  display_name?: string;
  /** Unix seconds or an RFC 3339 date: OpenAI's `created`, Anthropic's `created_at`. */
  created?: number | string;
  /** OpenAI's `owned_by` (default `system`). */
  owned_by?: string;
  /** Anthropic's `max_input_tokens` / `max_tokens` (null when absent). */
  max_input_tokens?: number;
  max_tokens?: number;
}


export interface ConfigFile {
  responses?: Record<string, ResponseSpec> | null;
  rules?: RuleSpec[] | null;
  embeddings?: EmbeddingsSpec | null;
  /** Replaces the built-in model list when set. */
  models?: (string | ModelSpec)[] | null;
  defaults?: {
    unknown_response?: string;
    /** `error`: an unmatched request gets a 404 in the provider's shape naming the closest rules. */
    on_unmatched?: 'default' | 'error';
  } | null;
  settings?: Settings | null;
}

export const DEFAULT_UNKNOWN_RESPONSE = "I don't know the answer to that. This is a mock response.";
export const DEFAULT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
export const DEFAULT_JOURNAL_SIZE = 1000;
/** Generated embedding size for models the server does not know: ada-002's and 3-small's. */
export const DEFAULT_EMBEDDING_DIMENSIONS = 1536;
/** The largest generated embedding: text-embedding-3-large's size. */
export const MAX_EMBEDDING_DIMENSIONS = 3072;

const nonNegative = { type: 'number', minimum: 0 } as const;
const oneOrMany = { type: ['string', 'array'], items: { type: 'string' }, minItems: 1 } as const;

export const latencySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ttft_ms: nonNegative,
    chunk_delay_ms: nonNegative,
    tokens_per_second: { type: 'number', exclusiveMinimum: 0 },
    jitter_ms: nonNegative,
    seed: { type: 'integer' },
    simulate_non_stream_latency: { type: 'boolean' },
  },
} as const;

const chunkingSchema = { enum: ['char', 'word', 'token', 'whole'] } as const;

export const responseSchema = {
  $id: 'urn:mockllm:response',
  oneOf: [
    { type: 'string' },
    {
      type: 'object',
      additionalProperties: false,
      properties: {
        text: { type: 'string' },
        json: {},
        tool_calls: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['name'],
            additionalProperties: false,
            properties: {
              name: { type: 'string', minLength: 1 },
              arguments: { type: ['object', 'string'] },
              id: { type: 'string', minLength: 1 },
            },
          },
        },
        error: {
          type: 'object',
          required: ['status'],
          additionalProperties: false,
          properties: {
            status: { type: 'integer', minimum: 400, maximum: 599 },
            message: { type: 'string' },
            type: { type: 'string' },
            code: { type: 'string' },
            retry_after: nonNegative,
          },
        },
        sequence: { type: 'array', minItems: 1, items: { $ref: 'urn:mockllm:response' } },
        then: { enum: ['loop', 'repeat_last'] },
        finish_reason: { enum: ['stop', 'length', 'tool_calls', 'content_filter'] },
        stop_reason: { enum: ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'refusal', 'pause_turn'] },
        usage: {
          type: 'object',
          additionalProperties: false,
          properties: {
            input_tokens: { type: 'integer', minimum: 0 },
            output_tokens: { type: 'integer', minimum: 0 },
            prompt_tokens: { type: 'integer', minimum: 0 },
            completion_tokens: { type: 'integer', minimum: 0 },
            cache_read_input_tokens: { type: 'integer', minimum: 0 },
            cache_creation_input_tokens: { type: 'integer', minimum: 0 },
            reasoning_tokens: { type: 'integer', minimum: 0 },
          },
        },
        latency: latencySchema,
        chunking: chunkingSchema,
        fault: {
          type: 'object',
          required: ['fail_after_chunks'],
          additionalProperties: false,
          properties: {
            fail_after_chunks: { type: 'integer', minimum: 0 },
            mode: { enum: ['error_event', 'disconnect'] },
            message: { type: 'string' },
          },
        },
        thinking: { type: 'string' },
        redacted: { type: 'boolean' },
      },
    },
  ],
} as const;

export const ruleIdSchema = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' } as const;

const turnSchema = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'object', additionalProperties: false, minProperties: 1, properties: { gte: { type: 'integer', minimum: 0 }, lte: { type: 'integer', minimum: 0 } } },
  ],
} as const;

export const matchSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    prompt: { type: 'string' },
    contains: { type: 'string', minLength: 1 },
    regex: { type: 'string', minLength: 1 },
    on: { enum: ['last_user', 'system', 'any'] },
    provider: oneOrMany,
    endpoint: oneOrMany,
    model: oneOrMany,
    tools: oneOrMany,
    tool_result: {
      anyOf: [
        { type: ['boolean', 'string'] },
        {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { name: { type: 'string', minLength: 1 }, contains: { type: 'string', minLength: 1 }, tool_call_id: { type: 'string', minLength: 1 } },
        },
      ],
    },
    turn: turnSchema,
    assistant_turns: turnSchema,
    system_contains: { type: 'string', minLength: 1 },
    system_regex: { type: 'string', minLength: 1 },
    last_role: { enum: ['user', 'assistant', 'tool'] },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

export const ruleSchema = {
  $id: 'urn:mockllm:rule',
  type: 'object',
  required: ['response'],
  additionalProperties: false,
  properties: {
    id: ruleIdSchema,
    priority: { type: 'integer' },
    match: matchSchema,
    response: { $ref: 'urn:mockllm:response' },
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
      additionalProperties: { $ref: 'urn:mockllm:response' },
    },
    rules: { type: ['array', 'null'], items: { $ref: 'urn:mockllm:rule' } },
    embeddings: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        vectors: {
          type: 'object',
          description: 'Input text → the exact vector /v1/embeddings returns for it.',
          additionalProperties: { type: 'array', minItems: 1, maxItems: 65_536, items: { type: 'number' } },
        },
        default_dimensions: { type: 'integer', minimum: 1, maximum: MAX_EMBEDDING_DIMENSIONS },
      },
    },
    models: {
      type: ['array', 'null'],
      description: 'What GET /v1/models lists (replaces the built-in list).',
      items: {
        oneOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'object',
            required: ['id'],
            additionalProperties: false,
            properties: {
              id: { type: 'string', minLength: 1 },
              provider: { type: 'string' },
              display_name: { type: 'string' },
              created: { type: ['integer', 'string'] },
              owned_by: { type: 'string' },
              max_input_tokens: { type: 'integer', minimum: 1 },
              max_tokens: { type: 'integer', minimum: 1 },
            },
          },
        ],
      },
    },
    defaults: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        unknown_response: { type: 'string' },
        on_unmatched: { enum: ['default', 'error'] },
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
        prompt_cache: { type: 'boolean' },
        chunking: chunkingSchema,
        latency: latencySchema,
        cors: {
          type: 'object',
          required: ['origins'],
          additionalProperties: false,
          properties: { origins: { type: 'array', items: { type: 'string', minLength: 1 } } },
        },
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
