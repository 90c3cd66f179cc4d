// Build step (npm run build / prepare, after tsc): the o200k_base vocabulary gpt-tokenizer ships as
// a .tiktoken text file, parsed once now and written packed beside the built token counter
// (<dist>/engine/o200k_base.bpe, the layout in src/engine/bpe.ts), so the built server loads it
// with one read instead of parsing 200,000 base64 lines. The file records the size of the
// .tiktoken file it came from; the server parses the .tiktoken file itself when they differ.
//   node scripts/pack-tokenizer.mjs dist
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = resolve(process.argv[2] ?? 'dist');
const { packVocabulary, parseTiktoken } = await import(pathToFileURL(join(dist, 'engine/bpe.js')).href);
const source = fileURLToPath(import.meta.resolve('gpt-tokenizer/data/o200k_base.tiktoken'));
const text = readFileSync(source);
const target = join(dist, 'engine/o200k_base.bpe');
writeFileSync(target, packVocabulary(parseTiktoken(text, source), text.length));
process.stdout.write(`packed ${source} into ${target}\n`);
