// Bundles the `mockllm` command into <dist>/cli.js, over the file tsc wrote there (run after tsc):
//   node scripts/bundle-cli.mjs dist
//
// Why: loading koa and its dependencies, pino, js-yaml and the ~130 modules of src/ as separate
// files was most of what remained of start-up (docs/benchmarks.md, S5); one file with its
// dependencies inlined is resolved, read and compiled in a fraction of that.
//
// What stays as it was: the rest of <dist> (the library entry dist/index.js and its .d.ts, the
// admin UI files, the precompiled validators, the packed tokenizer), which the bundle reads beside
// it. Every `import.meta.url` in src/ is rewritten to the URL the module has unbundled
// (dist/<path>.js), so each `new URL('…', import.meta.url)`, createRequire(import.meta.url) and
// the files they name resolve exactly as they do from tsc's output. That only holds while every
// chunk sits in <dist> itself, beside cli.js, which the build checks below.
//
// Not inlined (left as imports of node_modules, loaded when used):
// - packages the server loads only on demand: redis (--redis), gpt-tokenizer (token counting), ws,
//   ajv, prom-client and safe-regex2 (already required lazily through createRequire);
// - pino's transports would need its worker files on disk; the CLI writes through its own
//   synchronous destination (src/observability/logger.ts), so pino itself is inlined.
import { existsSync, rmSync, readdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { rolldown } from 'rolldown';

const dist = resolve(process.argv[2] ?? 'dist');
const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');
const CHUNK_PREFIX = 'cli-chunk-';

const EXTERNAL = /^(redis|@redis\/|gpt-tokenizer|ws$|ajv|prom-client|safe-regex2)/;

/** Rewrites `import.meta.url` in a src/ module to the URL of its unbundled twin in <dist>. */
const unbundledUrls = {
  name: 'mockllm-unbundled-import-meta-url',
  transform(code, id) {
    if (!id.startsWith(src + sep) || !code.includes('import.meta.url')) return null;
    const twin = `./${relative(src, id).split(sep).join('/').replace(/\.ts$/, '.js')}`;
    return { code: code.replaceAll('import.meta.url', `new URL(${JSON.stringify(twin)}, import.meta.url).href`), map: null };
  },
};

for (const name of readdirSync(dist)) if (name.startsWith(CHUNK_PREFIX)) rmSync(join(dist, name));

const bundle = await rolldown({
  input: join(src, 'cli.ts'),
  platform: 'node',
  external: (id) => EXTERNAL.test(id) || id.startsWith('node:'),
  plugins: [unbundledUrls],
  logLevel: 'warn',
  // depd (a koa dependency) builds its wrapper with a direct eval on purpose, to give the wrapper
  // the wrapped function's arity; it stays inside depd's own module scope, which is all it reads.
  onLog(level, log, report) {
    if (log.code === 'EVAL' && /[\\/]depd[\\/]/.test(log.id ?? '')) return;
    report(level, log);
  },
});
const { output } = await bundle.write({
  dir: dist,
  format: 'esm',
  entryFileNames: 'cli.js',
  chunkFileNames: `${CHUNK_PREFIX}[name]-[hash].js`,
  sourcemap: false,
});
await bundle.close();

for (const file of output) {
  if (file.fileName.includes('/')) throw new Error(`bundle-cli: ${file.fileName} is not beside cli.js; the rewritten import.meta.url would point elsewhere`);
}
if (!existsSync(join(dist, 'cli.js'))) throw new Error('bundle-cli: no cli.js written');
console.log(`bundle-cli: ${output.map((file) => file.fileName).join(', ')}`);
