// Rewrites relative `.ts` specifiers to `.js` in the emitted declaration files (dist/**/*.d.ts).
// tsc's rewriteRelativeImportExtensions rewrites them in the emitted JavaScript only: TypeScript
// itself resolves `./x.ts` in a .d.ts to `./x.d.ts`, but other tools reading the declarations
// (editors, bundlers, runtimes following "types") need `./x.js`
// (https://github.com/microsoft/TypeScript/issues/61037). Run by the prepare script after tsc.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const root = process.argv[2] ?? 'dist';
const specifier = /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*?)\.ts\2/g;
let files = 0;
for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const path = join(entry.parentPath, entry.name);
  const text = await readFile(path, 'utf8');
  const rewritten = text.replace(specifier, (_, keyword, quote, stem) => `${keyword}${quote}${stem}.js${quote}`);
  if (rewritten !== text) {
    await writeFile(path, rewritten);
    files++;
  }
}
console.log(`dts-extensions: .ts → .js in the relative imports of ${files} declaration files under ${root}/`);
