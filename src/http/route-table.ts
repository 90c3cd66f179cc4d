import type { Provider, ProviderRoute } from '../providers/provider.ts';

/** Reads a request header or query parameter by name. */
type Lookup = (name: string) => string | undefined;

/** A request resolved to the route that serves it. */
export interface ResolvedRoute {
  provider: Provider;
  route: ProviderRoute;
  params: Record<string, string>;
}

interface Template {
  route: ProviderRoute;
  provider: Provider;
  pattern: RegExp;
  names: string[];
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `/v1beta/models/{model}:generateContent` → /^\/v1beta\/models\/([^/]+?):generateContent$/. A
 * parameter is lazy within one segment, so a literal after it (`:generateContent`) still matches
 * when the value itself holds colons (Bedrock's `anthropic.claude-v2:1`).
 */
function compile(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  let source = '';
  let last = 0;
  for (const match of path.matchAll(/\{(\w+)\}/g)) {
    source += escape(path.slice(last, match.index)) + '([^/]+?)';
    names.push(match[1]!);
    last = match.index + match[0].length;
  }
  source += escape(path.slice(last));
  return { pattern: new RegExp(`^${source}$`), names };
}

/**
 * Every provider's routes, looked up by method and path. A static path (what almost every request
 * is for) costs one map lookup; templates are tried in declaration order. Where several providers
 * serve one path (`GET /v1/models`), the first whose `claims` says the request is its own serves
 * it, else the last declared.
 */
export class RouteTable {
  readonly #static = new Map<string, { route: ProviderRoute; provider: Provider }[]>();
  readonly #templates: Template[] = [];
  readonly providers: readonly Provider[];

  constructor(providers: readonly Provider[]) {
    this.providers = providers;
    for (const provider of providers) {
      for (const route of provider.routes) {
        if (!route.path.includes('{')) {
          const key = `${route.method} ${route.path}`;
          const list = this.#static.get(key) ?? [];
          list.push({ route, provider });
          this.#static.set(key, list);
        } else this.#templates.push({ route, provider, ...compile(route.path) });
      }
    }
  }

  /** The route for this request, or undefined when no provider serves the method and path. */
  resolve(method: string, path: string, header: Lookup, query?: Lookup): ResolvedRoute | undefined {
    const lookup = method === 'HEAD' ? 'GET' : method;
    // A route that serves only connection upgrades (WebSocket) is not there for other requests.
    const upgrade = header('upgrade')?.toLowerCase();
    const serves = (route: ProviderRoute) => route.upgrade === undefined || route.upgrade === upgrade;
    const found = this.#static.get(`${lookup} ${path}`);
    const statics = found?.some((c) => c.route.upgrade !== undefined) ? found.filter((c) => serves(c.route)) : found;
    if (statics?.length === 1) return { ...statics[0]!, params: {} };
    const matches: ResolvedRoute[] = statics ? statics.map((c) => ({ ...c, params: {} })) : [];
    if (!statics?.length) {
      for (const template of this.#templates) {
        if (template.route.method !== lookup || !serves(template.route)) continue;
        const match = template.pattern.exec(path);
        if (!match) continue;
        const params: Record<string, string> = {};
        template.names.forEach((name, i) => {
          params[name] = safeDecode(match[i + 1]!);
        });
        matches.push({ provider: template.provider, route: template.route, params });
      }
    }
    if (matches.length <= 1) return matches[0];
    const chosen = choose(matches.map((m) => m.provider), path, header, query);
    return matches.find((m) => m.provider === chosen)!;
  }

  /**
   * The provider whose shape a request no route serves gets: the provider that serves the path with
   * another method (a DELETE /v1/chat/completions is OpenAI's); else the first that claims it.
   */
  owner(path: string, header: Lookup, query?: Lookup): Provider {
    const serving = new Set<Provider>();
    for (const list of this.#static.values()) for (const { route, provider } of list) if (route.path === path) serving.add(provider);
    for (const template of this.#templates) if (template.pattern.test(path)) serving.add(template.provider);
    return choose(serving.size > 0 ? this.providers.filter((p) => serving.has(p)) : this.providers, path, header, query);
  }
}

const NO_VALUES: Lookup = () => undefined;

/**
 * Which of several providers a request is: one whose claim rests on the path alone (/v1beta/…
 * Gemini's, /v1/messages… Anthropic's) whatever the headers say; else the first that claims it by
 * its headers (anthropic-version, x-goog-api-key); else the last, the fallback. The fallback claims
 * every path, so it takes no part in the first round. `candidates` keep the registration order.
 */
function choose(candidates: readonly Provider[], path: string, header: Lookup, query?: Lookup): Provider {
  const byPath = candidates.slice(0, -1).find((p) => p.claims(path, NO_VALUES, NO_VALUES));
  return byPath ?? candidates.find((p) => p.claims(path, header, query)) ?? candidates.at(-1)!;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
