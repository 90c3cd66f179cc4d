// The embeddings endpoint (API-FORMATS §4; OpenAI's POST /v1/embeddings, Azure's deployments and v1
// paths): deterministic vectors derived from model and text, or the
// config's fixed ones; `dimensions`, `encoding_format` float/base64, every input shape, usage
// counted with cl100k_base (the embedding models' tokenizer), errors in OpenAI's words.
import { schemaValidator } from '../../http/schema-validator.ts';
import { DEFAULT_EMBEDDING_DIMENSIONS, MAX_EMBEDDING_DIMENSIONS } from '../../config/schema.ts';
import type { Conversation } from '../../engine/conversation.ts';
import { generatedEmbedding } from '../../engine/embedding.ts';
import { invalidRequest } from '../../http/errors.ts';
import type { AnswerAdapter, Parsed, ProviderDeps, RouteRequest } from '../provider.ts';
import { countCl100k, decodeCl100k, loadCl100k } from './cl100k.ts';
import { openAiValidationError } from './validation.ts';

/** The most inputs one request may carry, and tokens per input and per request, as the real API allows. */
export const MAX_INPUTS = 2048;
export const MAX_INPUT_TOKENS = 8192;
export const MAX_REQUEST_TOKENS = 300_000;

interface EmbeddingsBody {
  model: string;
  input: unknown;
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
}

interface ModelFamily {
  dimensions: number;
  /** Whether `dimensions` may shorten its vectors (the 3-series can; ada-002 cannot). */
  shortens: boolean;
}

// The real embedding models. Any other model name gets `embeddings.default_dimensions` (default
// 1536, ada-002's and 3-small's size) and may ask for 1…3072 dimensions.
const FAMILIES: [string, ModelFamily][] = [
  ['text-embedding-3-small', { dimensions: 1536, shortens: true }],
  ['text-embedding-3-large', { dimensions: 3072, shortens: true }],
  ['text-embedding-ada-002', { dimensions: 1536, shortens: false }],
];

function familyOf(model: string, defaultDimensions: number): ModelFamily & { known: boolean } {
  const family = FAMILIES.find(([prefix]) => model === prefix || model.startsWith(`${prefix}-`));
  return family ? { ...family[1], known: true } : { dimensions: defaultDimensions, shortens: true, known: false };
}

const KNOWN_FIELDS = ['model', 'input', 'encoding_format', 'dimensions', 'user'];

function embeddingsSchema(strict: boolean) {
  return {
    type: 'object',
    required: ['model', 'input'],
    additionalProperties: !strict,
    properties: {
      ...Object.fromEntries(KNOWN_FIELDS.map((f) => [f, {}])),
      model: { type: 'string' },
      input: { type: ['string', 'array'], minItems: 1, maxItems: MAX_INPUTS },
      encoding_format: { enum: ['float', 'base64'] },
      dimensions: { type: 'integer', minimum: 1 },
      user: { type: 'string' },
    },
  };
}

// Compiled on first use, or precompiled in dist/ (src/http/schema-validator.ts).
const OPTIONS = { allErrors: false, strict: true, allowUnionTypes: true };
const validateLenient = schemaValidator<EmbeddingsBody>('openai-embeddings-lenient', OPTIONS, embeddingsSchema(false));
const validateStrict = schemaValidator<EmbeddingsBody>('openai-embeddings-strict', OPTIONS, embeddingsSchema(true));

/** What the real API says about an input it cannot read (an empty string, a mixed array). */
const invalidInput = () => invalidRequest("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");

interface Input {
  text: string;
  tokens: number;
}

const isTokenArray = (value: unknown): value is number[] => Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number');

/** Every input shape, as texts (token arrays decoded with cl100k_base) and their token counts. */
function inputsOf(input: unknown): Input[] {
  const ofText = (text: string): Input => {
    if (text === '') throw invalidInput();
    return { text, tokens: countCl100k(text) };
  };
  const ofTokens = (tokens: number[]): Input => ({ text: decodeCl100k(tokens, 'input'), tokens: tokens.length });
  if (typeof input === 'string') return [ofText(input)];
  const list = input as unknown[];
  if (list.every((i) => typeof i === 'string')) return list.map((text) => ofText(text as string));
  if (isTokenArray(list)) return [ofTokens(list)];
  if (list.every(isTokenArray)) return list.map(ofTokens);
  throw invalidInput();
}

/** Little-endian float32 bytes in base64, what `encoding_format: base64` carries. */
export function base64Embedding(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes.toString('base64');
}

function conversationOf(provider: string, endpoint: string, model: string, text: string, header: (name: string) => string | undefined): Conversation {
  return {
    provider,
    endpoint,
    model,
    system: '',
    messages: [{ role: 'user', text }],
    prompt: text,
    tools: [],
    toolResult: undefined,
    stream: false,
    header,
  };
}

export interface EmbeddingsRequest {
  body: EmbeddingsBody;
  inputs: Input[];
  total: number;
  dimensions: number;
  fixed: Record<string, number[]> | undefined;
}

async function parse(request: RouteRequest, deps: ProviderDeps, endpoint: string, provider: string): Promise<Parsed<EmbeddingsRequest>> {
  const rules = deps.store.current;
  const body = request.body;
  const validate = request.strict ? validateStrict : validateLenient;
  if (!validate(body)) throw openAiValidationError(validate.errors![0]!, body);
  await loadCl100k();

  const family = familyOf(body.model, rules.embeddings?.default_dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS);
  if (body.dimensions !== undefined) {
    if (!family.shortens) throw invalidRequest('This model does not support specifying dimensions.');
    const max = family.known ? family.dimensions : MAX_EMBEDDING_DIMENSIONS;
    if (body.dimensions > max) {
      throw invalidRequest(
        `Invalid 'dimensions': integer above maximum value. Expected a value <= ${max}, but got ${body.dimensions} instead.`,
        'dimensions',
        'integer_above_max_value',
      );
    }
  }
  const inputs = inputsOf(body.input);
  let total = 0;
  for (const [i, input] of inputs.entries()) {
    if (input.tokens > MAX_INPUT_TOKENS) {
      throw invalidRequest(
        `This model's maximum context length is ${MAX_INPUT_TOKENS} tokens, however you requested ${input.tokens} tokens (${input.tokens} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`,
        inputs.length === 1 ? 'input' : `input[${i}]`,
        'context_length_exceeded',
      );
    }
    total += input.tokens;
  }
  if (total > MAX_REQUEST_TOKENS) throw invalidRequest(`Requested ${total} tokens, max ${MAX_REQUEST_TOKENS} tokens per request`, null, 'max_tokens_per_request');

  // Each input is a text a rule naming this endpoint may match; the first that one matches decides
  // errors, latency and faults (the core's `inputs`).
  const conversations = inputs.map((input) => conversationOf(provider, endpoint, body.model, input.text, request.header));
  return {
    request: { body, inputs, total, dimensions: body.dimensions ?? family.dimensions, fixed: rules.embeddings?.vectors },
    conversation: conversations[0]!,
    inputs: conversations,
  };
}

function renderJson(_reply: unknown, _conversation: Conversation, request: EmbeddingsRequest): unknown {
  const { body, inputs, fixed } = request;
  const data = inputs.map((input, index) => {
    const configured = fixed && Object.hasOwn(fixed, input.text) ? fixed[input.text]! : undefined;
    if (configured && body.dimensions !== undefined && configured.length !== body.dimensions) {
      throw invalidRequest(
        `Invalid 'dimensions': the mock config's embeddings.vectors fixes the vector for input ${inputs.length === 1 ? '' : `[${index}] `}${JSON.stringify(truncate(input.text))} ` +
          `at ${configured.length} dimensions, but the request asks for ${body.dimensions}.`,
        'dimensions',
        'invalid_value',
      );
    }
    const vector = configured ?? generatedEmbedding(body.model, input.text, request.dimensions);
    return { object: 'embedding', index, embedding: body.encoding_format === 'base64' ? base64Embedding(vector) : vector };
  });
  return { object: 'list', data, model: body.model, usage: { prompt_tokens: request.total, total_tokens: request.total } };
}

const truncate = (text: string) => (text.length > 60 ? `${text.slice(0, 60)}…` : text);

/** The endpoint's codec, for the provider that serves it at `endpoint` (a route template). */
export function embeddingsAdapter(endpoint: string, provider: string): AnswerAdapter<EmbeddingsRequest> {
  return { parse: (request, deps) => parse(request, deps, endpoint, provider), renderJson, streams: () => false };
}
