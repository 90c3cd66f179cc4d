// GET /v1/models and /v1/models/{id} in Anthropic's shape, with its cursor paging (API-FORMATS §9).
import type { ModelSpec } from '../../config/schema.ts';
import { ApiError, invalidRequest } from '../../http/errors.ts';
import type { CatalogModel } from '../models.ts';

type Query = Readonly<Record<string, string | string[] | undefined>>;
const day = (date: string) => Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000);

/** The built-in list, used when the config has no `models:`: aliases with their release dates. */
export const ANTHROPIC_MODELS: readonly ModelSpec[] = [
  { id: 'claude-sonnet-5-5', display_name: 'Claude Sonnet 5.5', created: day('2026-09-30'), max_input_tokens: 1_000_000, max_tokens: 128_000 },
  { id: 'claude-haiku-5-5', display_name: 'Claude Haiku 5.5', created: day('2026-09-30'), max_input_tokens: 200_000, max_tokens: 64_000 },
  { id: 'claude-opus-4-5', display_name: 'Claude Opus 4.5', created: day('2025-11-24'), max_input_tokens: 200_000, max_tokens: 64_000 },
  { id: 'claude-haiku-4-5', display_name: 'Claude Haiku 4.5', created: day('2025-10-01'), max_input_tokens: 200_000, max_tokens: 64_000 },
  { id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5', created: day('2025-09-29'), max_input_tokens: 1_000_000, max_tokens: 64_000 },
  { id: 'claude-opus-4-1', display_name: 'Claude Opus 4.1', created: day('2025-08-05'), max_input_tokens: 200_000, max_tokens: 32_000 },
  { id: 'claude-opus-4-0', display_name: 'Claude Opus 4', created: day('2025-05-22'), max_input_tokens: 200_000, max_tokens: 32_000 },
  { id: 'claude-sonnet-4-0', display_name: 'Claude Sonnet 4', created: day('2025-05-22'), max_input_tokens: 1_000_000, max_tokens: 64_000 },
  { id: 'claude-3-7-sonnet-latest', display_name: 'Claude Sonnet 3.7', created: day('2025-02-24'), max_input_tokens: 200_000, max_tokens: 64_000 },
  { id: 'claude-3-5-haiku-latest', display_name: 'Claude Haiku 3.5', created: day('2024-10-22'), max_input_tokens: 200_000, max_tokens: 8_192 },
];

/** `claude-sonnet-4-5-20250929` → `Claude Sonnet 4.5`; `claude-3-5-haiku-latest` → `Claude Haiku 3.5`; others as written. */
export function displayNameOf(id: string): string {
  if (!id.startsWith('claude-')) return id;
  const parts = id.split('-').slice(1).filter((p) => p !== 'latest' && !/^\d{8}$/.test(p));
  const words = parts.filter((p) => !/^\d+$/.test(p)).map((p) => p[0]!.toUpperCase() + p.slice(1));
  const version = parts.filter((p) => /^\d+$/.test(p)).join('.');
  return ['Claude', ...words, ...(version ? [version] : [])].join(' ');
}

const rfc3339 = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function anthropicModel(model: CatalogModel) {
  return {
    type: 'model',
    id: model.id,
    display_name: model.displayName ?? displayNameOf(model.id),
    created_at: rfc3339(model.created),
    capabilities: null,
    deprecated_at: null,
    lifecycle: 'active',
    line: null,
    max_input_tokens: model.maxInputTokens,
    max_tokens: model.maxTokens,
    retires_at: null,
  };
}

const notFound = (message: string, param: string | null, code: string | null) => new ApiError({ status: 404, kind: 'not_found', message, param, code });

function queryValues(query: Query, name: string): string[] {
  const raw = [query[name], query[`${name}[]`]].flat().filter((v): v is string => typeof v === 'string');
  return raw.flatMap((v) => v.split(',')).filter((v) => v !== '');
}

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value.at(-1) : value;
}

/** Anthropic's cursor paging: `limit` (1–1000, default 20), then `after_id` or `before_id`. */
export function anthropicModelsPage(unsorted: readonly CatalogModel[], query: Query) {
  // Newest first, as Anthropic lists them.
  const models = [...unsorted].sort((x, y) => y.created - x.created);
  const limitText = single(query, 'limit');
  let limit = 20;
  if (limitText !== undefined) {
    if (!/^-?\d+$/.test(limitText)) throw invalidRequest('limit: Input should be a valid integer, unable to parse string as an integer');
    limit = Number(limitText);
    if (limit < 1) throw invalidRequest('limit: Input should be greater than or equal to 1');
    if (limit > 1000) throw invalidRequest('limit: Input should be less than or equal to 1000');
  }
  const afterId = single(query, 'after_id');
  const beforeId = single(query, 'before_id');
  if (afterId !== undefined && beforeId !== undefined) throw invalidRequest('Only one of after_id and before_id may be given.');
  const lifecycle = queryValues(query, 'lifecycle');
  const listed = lifecycle.length === 0 || lifecycle.includes('active') ? models : [];
  const indexOf = (id: string, param: string) => {
    const index = listed.findIndex((m) => m.id === id);
    if (index < 0) throw invalidRequest(`${param}: no model with id '${id}' in this list.`);
    return index;
  };
  let page: readonly CatalogModel[];
  let hasMore: boolean;
  if (beforeId !== undefined) {
    const end = indexOf(beforeId, 'before_id');
    const start = Math.max(0, end - limit);
    page = listed.slice(start, end);
    hasMore = start > 0;
  } else {
    const start = afterId === undefined ? 0 : indexOf(afterId, 'after_id') + 1;
    page = listed.slice(start, start + limit);
    hasMore = start + limit < listed.length;
  }
  return { data: page.map(anthropicModel), has_more: hasMore, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null };
}


export function anthropicModelById(models: readonly CatalogModel[], id: string) {
  const model = models.find((m) => m.id === id);
  if (!model) throw notFound(`model: ${id}`, null, null);
  return anthropicModel(model);
}
