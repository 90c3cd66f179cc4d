// The model catalogue behind every provider's model listing: the config's `models:` or, without
// one, each provider's built-in list; each model belongs to one provider (`provider:` in the
// config, else the provider whose `models.owns` claims the id).
import type { Context } from 'koa';
import type { ModelSpec } from '../config/schema.ts';
import type { RuleSet } from '../engine/rules.ts';
import type { RequestState } from '../http/state.ts';
import { stampProcessingTime } from '../http/timing.ts';
import type { Provider, ProviderRoute, RouteRequest } from './provider.ts';

export interface CatalogModel {
  id: string;
  provider: string;
  /** As configured; a provider may derive its own when absent. */
  displayName: string | null;
  /** Unix seconds. */
  created: number;
  ownedBy: string;
  maxInputTokens: number | null;
  maxTokens: number | null;
}

/** A fixed date for configured models that give none: 2025-01-01. */
const DEFAULT_CREATED = Math.floor(Date.parse('2025-01-01T00:00:00Z') / 1000);

function toCatalog(entry: string | ModelSpec, providers: readonly Provider[], fallback: string): CatalogModel {
  const spec = typeof entry === 'string' ? { id: entry } : entry;
  const created = typeof spec.created === 'string' ? Math.floor(Date.parse(spec.created) / 1000) : (spec.created ?? DEFAULT_CREATED);
  return {
    id: spec.id,
    provider: spec.provider ?? providers.find((p) => p.models?.owns(spec.id))?.name ?? fallback,
    displayName: spec.display_name ?? null,
    created,
    ownedBy: spec.owned_by ?? 'system',
    maxInputTokens: spec.max_input_tokens ?? null,
    maxTokens: spec.max_tokens ?? null,
  };
}

type Catalog = ReadonlyMap<string, readonly CatalogModel[]>;
const catalogs = new WeakMap<object, Catalog>();
const NO_MODELS: readonly CatalogModel[] = [];

/**
 * The models each provider lists, built once per config and provider list (the `models:` array
 * is kept across admin changes and rebuilt on reload).
 */
export function catalogOf(rules: Pick<RuleSet, 'models'>, providers: readonly Provider[]): Catalog {
  const key = rules.models ?? providers;
  let catalog = catalogs.get(key);
  if (!catalog) {
    const byProvider = new Map<string, CatalogModel[]>();
    const add = (model: CatalogModel) => {
      const list = byProvider.get(model.provider) ?? [];
      list.push(model);
      byProvider.set(model.provider, list);
    };
    if (rules.models) for (const entry of rules.models) add(toCatalog(entry, providers, providers.at(-1)!.name));
    else for (const provider of providers) for (const entry of provider.models?.defaults ?? []) add(toCatalog(entry, [provider], provider.name));
    catalog = byProvider;
    catalogs.set(key, catalog);
  }
  return catalog;
}

/** The models one provider lists under the current config. */
export function modelsOf(ctx: Context, deps: { store: { current: RuleSet }; providers: readonly Provider[] }): readonly CatalogModel[] {
  const provider = (ctx.state as RequestState).provider;
  return catalogOf(deps.store.current, deps.providers).get(provider.name) ?? NO_MODELS;
}

/**
 * `GET /v1/models` and `GET /v1/models/{id}` for a provider, rendered by its own functions. OpenAI
 * and Anthropic serve the same paths: the route table gives each request to the provider that
 * claims it (Anthropic's clients send `anthropic-version`).
 */
export function modelsRoutes(
  list: (models: readonly CatalogModel[], query: RouteRequest['query']) => unknown,
  byId: (models: readonly CatalogModel[], id: string) => unknown,
  path = '/v1/models',
): ProviderRoute[] {
  return [
    {
      method: 'GET',
      path,
      async handle(ctx, request, deps) {
        const body = list(modelsOf(ctx, deps), request.query);
        stampProcessingTime(ctx);
        ctx.body = body;
      },
    },
    {
      method: 'GET',
      path: `${path}/{id}`,
      async handle(ctx, request, deps) {
        const body = byId(modelsOf(ctx, deps), request.params.id!);
        stampProcessingTime(ctx);
        ctx.body = body;
      },
    },
  ];
}
