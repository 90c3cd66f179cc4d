// POST /api/embed and the legacy POST /api/embeddings (API-FORMATS §15): deterministic unit vectors
// from model and text (the config's fixed vectors win), `dimensions` shortening, token counts on
// o200k_base. Each input is a text a rule naming the endpoint may match (errors, latency).
import { DEFAULT_EMBEDDING_DIMENSIONS } from '../../config/schema.ts';
import type { Conversation } from '../../engine/conversation.ts';
import { generatedEmbedding } from '../../engine/embedding.ts';
import { countTextTokens } from '../../engine/tokens.ts';
import { invalidRequest } from '../../http/errors.ts';
import { answerRoute } from '../answer-route.ts';
import type { Parsed, ProviderDeps, ProviderRoute, RouteRequest } from '../provider.ts';
import { bodyObject, checkFields, modelNotFound, modelRequired } from './wire.ts';

export const EMBED = '/api/embed';
export const EMBEDDINGS = '/api/embeddings';

// The sizes of the embedding models people pull; any other model gets `embeddings.default_dimensions`.
const DIMENSIONS: [prefix: string, size: number][] = [
  ['nomic-embed-text', 768],
  ['mxbai-embed-large', 1024],
  ['all-minilm', 384],
  ['snowflake-arctic-embed', 1024],
  ['bge-m3', 1024],
  ['embeddinggemma', 768],
  ['qwen3-embedding', 4096],
];

function dimensionsOf(model: string, fallback: number): number {
  const base = model.split(':')[0]!;
  return DIMENSIONS.find(([prefix]) => base === prefix)?.[1] ?? fallback;
}

function conversationOf(endpoint: string, model: string, text: string, header: RouteRequest['header']): Conversation {
  return { provider: 'ollama', endpoint, model, system: '', messages: [{ role: 'user', text }], prompt: text, tools: [], toolResult: undefined, stream: false, header };
}

interface EmbedRequest {
  model: string;
  texts: string[];
  dimensions: number;
  /** Set when `dimensions` asks for fewer than the model's own. */
  shortenTo: number | undefined;
  fixed: Record<string, number[]> | undefined;
}

function vectorOf(request: EmbedRequest, text: string): number[] {
  const fixed = request.fixed && Object.hasOwn(request.fixed, text) ? request.fixed[text]! : undefined;
  const vector = fixed ?? generatedEmbedding(request.model, text, request.dimensions);
  if (request.shortenTo === undefined || request.shortenTo >= vector.length) return vector;
  // Ollama truncates and renormalises; the generated vectors are built so a prefix is the same draw.
  const prefix = vector.slice(0, request.shortenTo);
  const norm = Math.sqrt(prefix.reduce((sum, x) => sum + x * x, 0)) || 1;
  return prefix.map((x) => Math.fround(x / norm));
}

function parseEmbed(request: RouteRequest, deps: ProviderDeps): Parsed<EmbedRequest> {
  const body = bodyObject(request.body, 'EmbedRequest');
  checkFields(body, 'EmbedRequest', { model: 'string', truncate: 'bool', dimensions: 'number', options: 'object', keep_alive: ['string', 'number'] });
  const model = (body.model as string | undefined) ?? '';
  if (model === '') throw modelNotFound(model);
  let texts: string[];
  const input = body.input;
  if (typeof input === 'string') texts = input === '' ? [] : [input];
  else if (Array.isArray(input)) {
    if (!input.every((item) => typeof item === 'string')) throw invalidRequest('invalid input type');
    texts = input as string[];
  } else if (input === undefined || input === null) texts = [];
  else throw invalidRequest('invalid input type');
  const rules = deps.store.current;
  const dimensions = dimensionsOf(model, rules.embeddings?.default_dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS);
  const asked = typeof body.dimensions === 'number' && body.dimensions > 0 ? Math.floor(body.dimensions) : undefined;
  const conversations = texts.map((text) => conversationOf(EMBED, model, text, request.header));
  return {
    request: { model, texts, dimensions, shortenTo: asked, fixed: rules.embeddings?.vectors },
    conversation: conversations[0] ?? conversationOf(EMBED, model, '', request.header),
    inputs: conversations,
  };
}

const LOAD_NS = 5_000_000;
const NS_PER_INPUT_TOKEN = 250_000;

function renderEmbed(_reply: unknown, _conversation: Conversation, request: EmbedRequest): unknown {
  if (request.texts.length === 0) return { model: request.model, embeddings: [] };
  const tokens = request.texts.reduce((sum, text) => sum + countTextTokens(text), 0);
  return {
    model: request.model,
    embeddings: request.texts.map((text) => vectorOf(request, text)),
    total_duration: LOAD_NS + tokens * NS_PER_INPUT_TOKEN,
    load_duration: LOAD_NS,
    prompt_eval_count: tokens,
  };
}

interface EmbeddingsRequest {
  embed: EmbedRequest;
  prompt: string;
}

function parseEmbeddings(request: RouteRequest, deps: ProviderDeps): Parsed<EmbeddingsRequest> {
  const body = bodyObject(request.body, 'EmbeddingRequest');
  checkFields(body, 'EmbeddingRequest', { model: 'string', prompt: 'string', options: 'object', keep_alive: ['string', 'number'] });
  const model = (body.model as string | undefined) ?? '';
  if (model === '') throw modelRequired();
  const prompt = (body.prompt as string | undefined) ?? '';
  const rules = deps.store.current;
  const embed: EmbedRequest = {
    model,
    texts: prompt === '' ? [] : [prompt],
    dimensions: dimensionsOf(model, rules.embeddings?.default_dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS),
    shortenTo: undefined,
    fixed: rules.embeddings?.vectors,
  };
  const conversation = conversationOf(EMBEDDINGS, model, prompt, request.header);
  return { request: { embed, prompt }, conversation, inputs: prompt === '' ? [] : [conversation] };
}

/** `{"embedding": [...]}`; an empty prompt only loads the model and gets an empty vector. */
function renderEmbeddings(_reply: unknown, _conversation: Conversation, request: EmbeddingsRequest): unknown {
  return { embedding: request.prompt === '' ? [] : vectorOf(request.embed, request.prompt) };
}

export const embedRoutes: ProviderRoute[] = [
  answerRoute('POST', EMBED, { parse: parseEmbed, renderJson: renderEmbed, streams: () => false }),
  answerRoute('POST', EMBEDDINGS, { parse: parseEmbeddings, renderJson: renderEmbeddings, streams: () => false }),
];
