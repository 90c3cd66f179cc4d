// GET /{version}/models and /{version}/models/{model} in Gemini's shape (API-FORMATS §11
// "countTokens, embeddings, models"), paged by `pageSize` and `pageToken` as ListModels is.
import type { ModelSpec } from '../../config/schema.ts';
import type { CatalogModel } from '../models.ts';
import type { RouteRequest } from '../provider.ts';
import { invalidArgument, notFound } from './errors.ts';

type Query = RouteRequest['query'];
const day = (date: string) => Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000);

/** The built-in list, used when the config has no `models:`. */
export const GEMINI_MODELS: readonly ModelSpec[] = [
  { id: 'gemini-3-pro-preview', display_name: 'Gemini 3 Pro Preview', created: day('2025-11-18'), max_input_tokens: 1_048_576, max_tokens: 65_536 },
  { id: 'gemini-2.5-pro', display_name: 'Gemini 2.5 Pro', created: day('2025-06-17'), max_input_tokens: 1_048_576, max_tokens: 65_536 },
  { id: 'gemini-2.5-flash', display_name: 'Gemini 2.5 Flash', created: day('2025-06-17'), max_input_tokens: 1_048_576, max_tokens: 65_536 },
  { id: 'gemini-2.5-flash-lite', display_name: 'Gemini 2.5 Flash-Lite', created: day('2025-07-22'), max_input_tokens: 1_048_576, max_tokens: 65_536 },
  { id: 'gemini-2.0-flash', display_name: 'Gemini 2.0 Flash', created: day('2025-02-05'), max_input_tokens: 1_048_576, max_tokens: 8_192 },
  { id: 'gemini-2.0-flash-lite', display_name: 'Gemini 2.0 Flash-Lite', created: day('2025-02-25'), max_input_tokens: 1_048_576, max_tokens: 8_192 },
  { id: 'gemini-embedding-001', display_name: 'Gemini Embedding 001', created: day('2025-07-14'), max_input_tokens: 2_048, max_tokens: 1 },
  { id: 'text-embedding-004', display_name: 'Text Embedding 004', created: day('2024-04-09'), max_input_tokens: 2_048, max_tokens: 1 },
];

/** Ids Gemini serves when a `models:` entry names no provider. */
export const ownsGeminiModel = (id: string): boolean => /^(?:models\/)?(?:gemini|gemma|learnlm|text-embedding-004|embedding-)/.test(id);

const isEmbedding = (id: string) => id.includes('embedding');

function geminiModel(model: CatalogModel) {
  const embedding = isEmbedding(model.id);
  const displayName = model.displayName ?? model.id;
  return {
    name: `models/${model.id}`,
    version: '001',
    displayName,
    description: embedding ? `Obtain a distributed representation of a text (${displayName}).` : `${displayName}, served by mockllm.`,
    inputTokenLimit: model.maxInputTokens ?? (embedding ? 2_048 : 1_048_576),
    outputTokenLimit: model.maxTokens ?? (embedding ? 1 : 65_536),
    supportedGenerationMethods: embedding
      ? ['embedContent', 'countTextTokens', 'countTokens', 'asyncBatchEmbedContent']
      : ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
    ...(!embedding && { temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2, thinking: /^gemini-(?:2\.5|[3-9])/.test(model.id) }),
  };
}

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value.at(-1) : value;
}

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;
const encodeToken = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64url');

function decodeToken(token: string): number {
  const match = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match) throw invalidArgument('Invalid page token.');
  return Number(match[1]);
}

/** ListModels: `pageSize` (default 50, at most 1000) and `nextPageToken` while more remain. */
export function geminiModelsPage(models: readonly CatalogModel[], query: Query) {
  const sizeText = single(query, 'pageSize') ?? single(query, 'page_size');
  let size = DEFAULT_PAGE_SIZE;
  if (sizeText !== undefined) {
    if (!/^-?\d+$/.test(sizeText)) throw invalidArgument(`Invalid value at 'page_size' (TYPE_INT32), "${sizeText}"`);
    size = Number(sizeText);
    if (size < 0) throw invalidArgument('page_size must not be negative.');
    if (size === 0) size = DEFAULT_PAGE_SIZE;
    size = Math.min(size, MAX_PAGE_SIZE);
  }
  const token = single(query, 'pageToken') ?? single(query, 'page_token');
  const start = token ? decodeToken(token) : 0;
  const page = models.slice(start, start + size);
  return { models: page.map(geminiModel), ...(start + size < models.length && { nextPageToken: encodeToken(start + size) }) };
}

/** GetModel: the bare Model, or 404 NOT_FOUND. */
export function geminiModelById(models: readonly CatalogModel[], raw: string) {
  const id = raw.replace(/^models\//, '');
  const model = models.find((m) => m.id === id);
  if (!model) throw notFound(`Model is not found: models/${id}`);
  return geminiModel(model);
}

/**
 * Vertex AI's publisher models (`GET /{version}/publishers/google/models[/{model}]`, what
 * @google/genai's models.list/get call with `vertexai: true`): PublisherModel objects
 * (https://cloud.google.com/vertex-ai/docs/reference/rest/v1beta1/publishers.models).
 */
function vertexModel(model: CatalogModel) {
  return {
    name: `publishers/google/models/${model.id}`,
    versionId: '001',
    openSourceCategory: 'PROPRIETARY',
    launchStage: model.id.includes('preview') ? 'PUBLIC_PREVIEW' : 'GA',
    versionState: 'VERSION_STATE_STABLE',
  };
}

export function vertexModelsPage(models: readonly CatalogModel[], query: Query) {
  const { models: page, nextPageToken } = geminiModelsPage(models, query);
  const ids = new Set(page.map((m) => m.name.slice('models/'.length)));
  return { publisherModels: models.filter((m) => ids.has(m.id)).map(vertexModel), ...(nextPageToken !== undefined && { nextPageToken }) };
}

export function vertexModelById(models: readonly CatalogModel[], raw: string) {
  const model = models.find((m) => m.id === raw);
  if (!model) throw notFound(`Publisher Model \`publishers/google/models/${raw}\` not found.`);
  return vertexModel(model);
}
