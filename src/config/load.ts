import { createHash } from 'node:crypto';
import { loadAll as parseYamlDocuments, YAMLException } from 'js-yaml';
import { checkConfig } from './validate.ts';
import type { ConfigFile } from './schema.ts';

export interface LoadedConfig {
  doc: ConfigFile;
  /** sha256 of the file's bytes: lets a reload skip a file that did not change. */
  hash: string;
}

/** A config that cannot be used. The message names the file, the line or path, and what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Pure: text in, validated config out (or a ConfigError). Reading the file is the caller's job. */
export function parseConfig(text: string, file: string): LoadedConfig {
  const hash = hashText(text);
  if (text.trim() === '') throw new ConfigError(`${file}: the file is empty; expected a mapping with "responses"`);
  let docs: unknown[];
  try {
    docs = parseYamlDocuments(text, { filename: file });
  } catch (error) {
    if (error instanceof YAMLException && error.mark) {
      throw new ConfigError(`${file}:${error.mark.line + 1}:${error.mark.column + 1}: invalid YAML: ${error.reason}`);
    }
    throw new ConfigError(`${file}: invalid YAML: ${(error as Error).message}`);
  }
  // A file whose every line is commented out is valid YAML with no document; js-yaml's `load`
  // would call it invalid YAML, which sends the reader looking for a syntax error that is not there.
  if (docs.length === 0) throw new ConfigError(`${file}: the file holds only comments; expected a mapping with "responses"`);
  if (docs.length > 1) throw new ConfigError(`${file}: invalid YAML: expected one document, found ${docs.length} (separated by "---")`);
  const doc = docs[0];
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    // typeof null is 'object': name it, or "must be a mapping, got object" contradicts itself.
    const got = doc === null ? 'null (an empty document)' : Array.isArray(doc) ? 'a list' : typeof doc;
    throw new ConfigError(`${file}: the document must be a mapping with "responses", got ${got}`);
  }
  const problems = checkConfig(doc);
  if (problems.length > 0) {
    const lines = problems.map((p) => {
      const line = lineOfPath(text, p.segments);
      const where = line ? `${file}:${line}` : file;
      return `${where}: ${p.path || '(document)'} ${p.message}`;
    });
    throw new ConfigError(lines.join('\n'));
  }
  return { doc: doc as ConfigFile, hash };
}

/**
 * Best-effort line number (1-based) of a dotted path in block-style YAML, so a schema error can
 * point at the line to fix. When the path goes on where this cannot follow it (a flow mapping such
 * as `settings: {match: fuzzy}`, a list, a key that is missing), the line of the deepest key found
 * is the one to look at. Returns undefined when not even the first key is found.
 */
export function lineOfPath(text: string, segments: readonly string[]): number | undefined {
  const lines = text.split('\n');
  let parentIndent = -1;
  let deepest: number | undefined;
  let from = 0;
  // After a list item is found, its first key sits on the item's own line, after the "- ".
  let itemLine: number | undefined;
  for (const segment of segments) {
    const found = /^\d+$/.test(segment)
      ? findListItem(lines, from, parentIndent, Number(segment))
      : findKey(lines, from, parentIndent, segment, itemLine);
    if (found === undefined) break;
    deepest = found.line;
    parentIndent = found.indent;
    itemLine = found.isItem ? found.line : undefined;
    from = found.isItem ? found.line : found.line + 1;
  }
  return deepest === undefined ? undefined : deepest + 1;
}

interface Found {
  line: number;
  indent: number;
  isItem: boolean;
}

const isBlank = (line: string) => line.trim() === '' || line.trimStart().startsWith('#');
const indentOf = (line: string) => line.length - line.trimStart().length;
const isListItem = (content: string) => content === '-' || content.startsWith('- ');

/** The index-th "- " item of the block list that starts at `from` (items may sit at the key's own indent). */
function findListItem(lines: string[], from: number, parentIndent: number, index: number): Found | undefined {
  let itemIndent: number | undefined;
  let count = -1;
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    if (isBlank(line)) continue;
    const indent = indentOf(line);
    const item = isListItem(line.trimStart());
    if (itemIndent === undefined) {
      if (!item || indent < parentIndent) return undefined;
      itemIndent = indent;
    }
    if (indent < itemIndent || (indent === itemIndent && !item)) return undefined;
    if (indent === itemIndent && item && ++count === index) return { line: i, indent, isItem: true };
  }
  return undefined;
}

function findKey(lines: string[], from: number, parentIndent: number, key: string, itemLine: number | undefined): Found | undefined {
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    if (isBlank(line)) continue;
    let indent = indentOf(line);
    let content = line.trimStart();
    if (i === itemLine) {
      // "- key: value": the key's indent is where it starts, after the dash.
      content = content.slice(1).trimStart();
      indent = line.length - content.length;
    } else if (indent <= parentIndent) break;
    if (keyOf(content) === key) return { line: i, indent, isItem: false };
  }
  return undefined;
}

function keyOf(line: string): string | undefined {
  const quoted = /^(["'])(.*?)\1\s*:/.exec(line);
  if (quoted) return quoted[2];
  const plain = /^([^:#]+?)\s*:(\s|$)/.exec(line);
  return plain?.[1];
}
