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
  readonly #paths = new Set<string>();
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
          this.#paths.add(route.path);
        } else this.#templates.push({ route, provider, ...compile(route.path) });
      }
    }
  }

  /** The route for this request, or undefined when no provider serves the method and path. */
  resolve(method: string, path: string, header: Lookup, query?: Lookup): ResolvedRoute | undefined {
    const lookup = method === 'HEAD' ? 'GET' : method;
    const candidates = this.#static.get(`${lookup} ${path}`);
    if (candidates) {
      const chosen = candidates.length === 1 ? candidates[0]! : (candidates.find((c) => c.provider.claims(path, header, query)) ?? candidates.at(-1)!);
      return { ...chosen, params: {} };
    }
    let fallback: ResolvedRoute | undefined;
    for (const template of this.#templates) {
      if (template.route.method !== lookup) continue;
      const match = template.pattern.exec(path);
      if (!match) continue;
      const params: Record<string, string> = {};
      template.names.forEach((name, i) => {
        params[name] = safeDecode(match[i + 1]!);
      });
      const resolved = { provider: template.provider, route: template.route, params };
      if (template.provider.claims(path, header, query)) return resolved;
      fallback ??= resolved;
    }
    return fallback;
  }

  /** Whether some provider serves this path with another method (a 404 then names the method). */
  servesPath(path: string): boolean {
    return this.#paths.has(path) || this.#templates.some((t) => t.pattern.test(path));
  }

  /**
   * The provider whose shape a request no route serves gets: the provider that serves the path with
   * another method (a DELETE /v1/chat/completions is OpenAI's); else the first that claims it.
   */
  owner(path: string, header: Lookup, query?: Lookup): Provider {
    const serving = new Set<Provider>();
    for (const list of this.#static.values()) for (const { route, provider } of list) if (route.path === path) serving.add(provider);
    for (const template of this.#templates) if (template.pattern.test(path)) serving.add(template.provider);
    const candidates = serving.size > 0 ? this.providers.filter((p) => serving.has(p)) : this.providers;
    return candidates.find((p) => p.claims(path, header, query)) ?? candidates.at(-1)!;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
