import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { AdminError } from './errors.ts';

/** The dashboard's address; every path under it is a static file that holds no data, served without the admin token. */
export const UI_PATH = '/admin/ui';

export const isUiPath = (path: string): boolean => path === UI_PATH || path.startsWith(`${UI_PATH}/`);

/**
 * Nothing but this server: no inline script or style, no other host, no framing. The page builds
 * every element with DOM calls and sets text with textContent, so request data is never markup.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function asset(body: Buffer, name: string): Asset {
  const type = TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/**
 * The dashboard's files, read once (at start-up, never per request): src/admin/ui/ beside this module
 * (copied to dist/admin/ui/ by the build), and js-yaml's browser build for the rule editor, loaded
 * only when the editor opens. The source-map comment is cut: the map is not served.
 */
function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const folder = new URL('./ui/', import.meta.url);
  for (const name of readdirSync(folder)) {
    if (!(name in TYPES) && !/\.(html|js|css|svg)$/.test(name)) continue;
    assets.set(name, asset(readFileSync(new URL(name, folder)), name));
  }
  try {
    // The package's "./browser" export, resolved for import: its ES module build.
    const text = readFileSync(new URL(import.meta.resolve('js-yaml/browser')), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
    assets.set('js-yaml.mjs', asset(Buffer.from(text), 'js-yaml.mjs'));
  } catch {
    // Without it the editor takes JSON only (the page says so).
  }
  return assets;
}

let cached: Map<string, Asset> | undefined;

/** GET /admin/ui → /admin/ui/ (the page's relative links need the slash), the page and its files. */
export function registerUiRoutes(router: Router): void {
  const assets = (cached ??= loadAssets());
  const serve = (ctx: Context, name: string) => {
    const found = assets.get(name);
    if (!found) throw new AdminError(404, 'not_found', 'No such dashboard file.');
    ctx.set('content-security-policy', UI_CONTENT_SECURITY_POLICY);
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
    ctx.set('cross-origin-opener-policy', 'same-origin');
    // Revalidated every time (cheap: a 304 by ETag), so an upgraded server never runs a stale page.
    ctx.set('cache-control', 'no-cache');
    ctx.set('etag', found.etag);
    ctx.type = found.type;
    if (ctx.get('if-none-match') === found.etag) {
      ctx.status = 304;
      return;
    }
    ctx.body = found.body;
  };
  router.get(UI_PATH, (ctx) => {
    if (!ctx.path.endsWith('/')) {
      ctx.status = 308;
      // Relative, so it also works behind a proxy that mounts the server under a prefix.
      ctx.redirect('ui/');
      return;
    }
    serve(ctx, 'index.html');
  });
  router.get(`${UI_PATH}/:file`, (ctx) => serve(ctx, ctx.params.file!));
}
