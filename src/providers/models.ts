// GET /v1/models and GET /v1/models/{id}, which both APIs serve at the same path with different
// shapes (API-FORMATS §4, §9). One route answers for both: a request with `anthropic-version` (every
// Anthropic client sends one) is owned by the Anthropic provider and gets its shape, paging and
// errors; any other gets OpenAI's. Each shape lists that API's models only.
import type { Context } from 'koa';
import { defaultModelProvider, type ModelSpec } from '../config/schema.ts';
import type { RuleSet } from '../engine/rules.ts';
import { ApiError, invalidRequest } from '../http/errors.ts';
import type { RequestState } from '../http/state.ts';
import { stampProcessingTime } from '../http/timing.ts';
import type { ProviderRoute } from './provider.ts';

export interface CatalogModel {
  id: string;
  provider: 'openai' | 'anthropic';
  displayName: string;
  /** Unix seconds. */
  created: number;
  ownedBy: string;
  maxInputTokens: number | null;
  maxTokens: number | null;
}

const day = (date: string) => Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000);

/**
 * The built-in list, used when the config has no `models:`: the models the examples and clients
 * name today. OpenAI ids with the `created` the real API reports; Anthropic aliases with their
 * release dates (newest first, as the real API lists them).
 */
export const DEFAULT_MODELS: readonly ModelSpec[] = [
  { id: 'gpt-5', created: 1754425777 },
  { id: 'gpt-5-mini', created: 1754425928 },
  { id: 'gpt-5-nano', created: 1754426384 },
  { id: 'gpt-4.1', created: 1744316542 },
  { id: 'gpt-4.1-mini', created: 1744318173 },
  { id: 'gpt-4.1-nano', created: 1744321707 },
  { id: 'gpt-4o', created: 1715367049 },
  { id: 'gpt-4o-mini', created: 1721172741 },
  { id: 'o3', created: 1744225308 },
  { id: 'o3-mini', created: 1737146383 },
  { id: 'o4-mini', created: 1744225351 },
  { id: 'gpt-4-turbo', created: 1712361441 },
  { id: 'gpt-3.5-turbo', created: 1677610602, owned_by: 'openai' },
  { id: 'gpt-3.5-turbo-instruct', created: 1692901427 },
  { id: 'davinci-002', created: 1692634301 },
  { id: 'babbage-002', created: 1692634615 },
  { id: 'text-embedding-3-small', created: 1705948997 },
  { id: 'text-embedding-3-large', created: 1705953180 },
  { id: 'text-embedding-ada-002', created: 1671217299, owned_by: 'openai-internal' },
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

/** A fixed date for configured models that give none: 2025-01-01. */
const DEFAULT_CREATED = day('2025-01-01');

/** `claude-sonnet-4-5-20250929` → `Claude Sonnet 4.5`; `claude-3-5-haiku-latest` → `Claude Haiku 3.5`; others as written. */
export function displayNameOf(id: string): string {
  if (!id.startsWith('claude-')) return id;
  const parts = id.split('-').slice(1).filter((p) => p !== 'latest' && !/^\d{8}$/.test(p));
  const words = parts.filter((p) => !/^\d+$/.test(p)).map((p) => p[0]!.toUpperCase() + p.slice(1));
  const version = parts.filter((p) => /^\d+$/.test(p)).join('.');
  return ['Claude', ...words, ...(version ? [version] : [])].join(' ');
}

function toCatalog(entry: string | ModelSpec): CatalogModel {
  const spec = typeof entry === 'string' ? { id: entry } : entry;
  const created = typeof spec.created === 'string' ? Math.floor(Date.parse(spec.created) / 1000) : (spec.created ?? DEFAULT_CREATED);
  return {
    id: spec.id,
    provider: spec.provider ?? defaultModelProvider(spec.id),
    displayName: spec.display_name ?? displayNameOf(spec.id),
    created,
    ownedBy: spec.owned_by ?? 'system',
    maxInputTokens: spec.max_input_tokens ?? null,
    maxTokens: spec.max_tokens ?? null,
  };
}

interface Catalog {
  openai: CatalogModel[];
  /** Newest first, as Anthropic lists them. */
  anthropic: CatalogModel[];
}

const DEFAULT_KEY: readonly ModelSpec[] = DEFAULT_MODELS;
const catalogs = new WeakMap<object, Catalog>();

/** The models each API lists, built once per config (the `models:` array is kept across admin changes and rebuilt on reload). */
export function catalogOf(rules: Pick<RuleSet, 'models'>): Catalog {
  const source = rules.models ?? DEFAULT_KEY;
  let catalog = catalogs.get(source);
  if (!catalog) {
    const all = source.map(toCatalog);
    catalog = {
      openai: all.filter((m) => m.provider === 'openai'),
      anthropic: all.filter((m) => m.provider === 'anthropic').sort((a, b) => b.created - a.created),
    };
    catalogs.set(source, catalog);
  }
  return catalog;
}

const rfc3339 = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function openAiModel(model: CatalogModel) {
  return { id: model.id, object: 'model', created: model.created, owned_by: model.ownedBy };
}

function anthropicModel(model: CatalogModel) {
  return {
    type: 'model',
    id: model.id,
    display_name: model.displayName,
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

function queryValues(ctx: Context, name: string): string[] {
  const raw = [ctx.query[name], ctx.query[`${name}[]`]].flat().filter((v): v is string => typeof v === 'string');
  return raw.flatMap((v) => v.split(',')).filter((v) => v !== '');
}

function single(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  return Array.isArray(value) ? value.at(-1) : value;
}

/** Anthropic's cursor paging: `limit` (1–1000, default 20), then `after_id` or `before_id`. */
function anthropicPage(ctx: Context, models: readonly CatalogModel[]) {
  const limitText = single(ctx, 'limit');
  let limit = 20;
  if (limitText !== undefined) {
    if (!/^-?\d+$/.test(limitText)) throw invalidRequest('limit: Input should be a valid integer, unable to parse string as an integer');
    limit = Number(limitText);
    if (limit < 1) throw invalidRequest('limit: Input should be greater than or equal to 1');
    if (limit > 1000) throw invalidRequest('limit: Input should be less than or equal to 1000');
  }
  const afterId = single(ctx, 'after_id');
  const beforeId = single(ctx, 'before_id');
  if (afterId !== undefined && beforeId !== undefined) throw invalidRequest('Only one of after_id and before_id may be given.');
  const lifecycle = queryValues(ctx, 'lifecycle');
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

async function handle(ctx: Context, deps: Parameters<ProviderRoute['handle']>[1]): Promise<void> {
  const state = ctx.state as RequestState;
  const catalog = catalogOf(deps.store.current);
  const id = (ctx as { params?: Record<string, string> }).params?.id;
  const anthropic = state.provider.name === 'anthropic';
  if (anthropic) {
    if (id === undefined) {
      ctx.body = anthropicPage(ctx, catalog.anthropic);
      return;
    }
    const model = catalog.anthropic.find((m) => m.id === id);
    if (!model) throw notFound(`model: ${id}`, null, null);
    ctx.body = anthropicModel(model);
    return;
  }
  stampProcessingTime(ctx);
  if (id === undefined) {
    ctx.body = { object: 'list', data: catalog.openai.map(openAiModel) };
    return;
  }
  const model = catalog.openai.find((m) => m.id === id);
  if (!model) throw notFound(`The model '${id}' does not exist`, 'model', 'model_not_found');
  ctx.body = openAiModel(model);
}

/**
 * One route for both shapes. Its path is a pattern, never a request's exact path, so the server
 * picks the provider that owns each request by its headers (`anthropic-version`), not by route.
 */
export const modelsRoute: ProviderRoute = { method: 'GET', path: '/v1/models{/:id}', handle };
