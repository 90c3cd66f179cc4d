import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { loadAll as parseYamlDocuments, YAMLException } from 'js-yaml';
import { checkConfig } from './validate.ts';
import type { ConfigFile } from './schema.ts';

export interface LoadedConfig {
  doc: ConfigFile;
  /** sha256 of the file's bytes: lets a reload skip a file that did not change. */
  hash: string;
}

/** One thing wrong with a config file, for tools (`mockllm validate --json`). */
export interface ConfigProblem {
  file: string;
  /** 1-based, when known. */
  line?: number;
  column?: number;
  /** Dotted path of the offending key, e.g. `settings.match`; absent for problems with the whole file. */
  path?: string;
  message: string;
}

/** A config that cannot be used. The message names the file, the line or path, and what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** The same problems, one per line of the message. */
  readonly problems: ConfigProblem[];

  constructor(message: string, problems?: ConfigProblem[]) {
    super(message);
    this.problems = problems ?? [{ file: '', message }];
  }
}

/**
 * Reads a config file, saying in words what is wrong when it cannot: a path that does not exist,
 * a directory, a file it may not read. `hint` is added to the "no such file" message (the CLI
 * says how to name another file).
 */
export function readConfigFile(path: string, hint?: string): string {
  const problem = (message: string) => new ConfigError(message, [{ file: path, message }]);
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw problem(`no such file: ${path}${hint ? `; ${hint}` : ''}`);
    if (code === 'EACCES') throw problem(`${path}: permission denied: the config file cannot be read by this user`);
    throw problem(`${path}: cannot read the config file: ${code ?? (error as Error).message}`);
  }
  if (isDirectory) throw problem(`${path} is a directory, not a config file; name the YAML file in it (e.g. ${path.replace(/\/+$/, '')}/responses.yml)`);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw problem(`${path}: permission denied: the config file cannot be read by this user`);
    throw problem(`${path}: cannot read the config file: ${code ?? (error as Error).message}`);
  }
}

export function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Pure: text in, validated config out (or a ConfigError). Reading the file is the caller's job. */
export function parseConfig(text: string, file: string): LoadedConfig {
  const hash = hashText(text);
  const whole = (message: string) => new ConfigError(`${file}: ${message}`, [{ file, message }]);
  if (text.trim() === '') throw whole('the file is empty; expected a mapping with "responses"');
  let docs: unknown[];
  try {
    docs = parseYamlDocuments(text, { filename: file });
  } catch (error) {
    if (error instanceof YAMLException && error.mark) {
      const { line, column } = error.mark;
      throw new ConfigError(`${file}:${line + 1}:${column + 1}: invalid YAML: ${error.reason}`, [
        { file, line: line + 1, column: column + 1, message: `invalid YAML: ${error.reason}` },
      ]);
    }
    throw whole(`invalid YAML: ${(error as Error).message}`);
  }
  // A file whose every line is commented out is valid YAML with no document; js-yaml's `load`
  // would call it invalid YAML, which sends the reader looking for a syntax error that is not there.
  if (docs.length === 0) throw whole('the file holds only comments; expected a mapping with "responses"');
  if (docs.length > 1) throw whole(`invalid YAML: expected one document, found ${docs.length} (separated by "---")`);
  const doc = docs[0];
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    // typeof null is 'object': name it, or "must be a mapping, got object" contradicts itself.
    const got = doc === null ? 'null (an empty document)' : Array.isArray(doc) ? 'a list' : typeof doc;
    throw whole(`the document must be a mapping with "responses", got ${got}`);
  }
  const problems = checkConfig(doc);
  if (problems.length > 0) {
    const found: ConfigProblem[] = problems.map((p) => {
      const line = lineOfPath(text, p.segments);
      return { file, ...(line ? { line } : {}), path: p.path, message: `${p.path || '(document)'} ${p.message}` };
    });
    const lines = found.map((p) => `${p.line ? `${file}:${p.line}` : file}: ${p.message}`);
    throw new ConfigError(lines.join('\n'), found);
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
