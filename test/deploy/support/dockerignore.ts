// .dockerignore semantics, ported from the code Docker itself uses (moby/patternmatcher and its
// ignorefile reader), so that the tests judge the build context the way `docker build` would.
// Differences from .gitignore that matter here: a pattern is anchored at the context root (`foo`
// does not match `a/foo`; `**/foo` does), a pattern that matches a directory excludes everything
// below it, the LAST matching pattern wins, and `!pattern` re-includes.

import { posix } from 'node:path';

export interface IgnorePattern {
  /** The pattern as written after normalisation (no `!`). */
  text: string;
  exclusion: boolean;
  match(path: string): boolean;
}

/** Go's filepath.Clean for slash paths (enough of it: `.` and `..` segments, doubled and trailing slashes). */
function clean(path: string): string {
  if (path === '') return '.';
  const normalized = posix.normalize(path);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

/** ignorefile.ReadAll: one pattern a line, `#` comments, absolute paths made relative to the context. */
export function readDockerignore(text: string): string[] {
  const patterns: string[] = [];
  text.replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((line) => {
      if (line.startsWith('#')) return;
      let pattern = line.trim();
      if (pattern === '') return;
      const invert = pattern.startsWith('!');
      if (invert) pattern = pattern.slice(1).trim();
      if (pattern.length > 0) {
        pattern = clean(pattern);
        if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
      }
      patterns.push(invert ? `!${pattern}` : pattern);
    });
  return patterns;
}

const REGEXP_SPECIAL = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

/** patternmatcher.Pattern.compile + match, including its exact/prefix/suffix shortcuts (which are not all regexp-equivalent). */
function compile(cleaned: string): (path: string) => boolean {
  let regex = '^';
  let matchType: 'exact' | 'prefix' | 'suffix' | 'regexp' = 'exact';
  const chars = [...cleaned];
  for (let i = 0, pos = 0; pos < chars.length; i++) {
    const ch = chars[pos++]!;
    if (ch === '*') {
      if (chars[pos] === '*') {
        pos++;
        if (chars[pos] === '/') pos++;
        if (pos >= chars.length) {
          if (matchType === 'exact') matchType = 'prefix';
          else {
            regex += '.*';
            matchType = 'regexp';
          }
        } else {
          regex += '(.*/)?';
          matchType = 'regexp';
        }
        if (i === 0) matchType = 'suffix';
      } else {
        regex += '[^/]*';
        matchType = 'regexp';
      }
    } else if (ch === '?') {
      regex += '[^/]';
      matchType = 'regexp';
    } else if (REGEXP_SPECIAL.has(ch)) {
      regex += `\\${ch}`;
    } else if (ch === '\\') {
      regex += pos < chars.length ? `\\${chars[pos++]}` : '\\\\';
    } else if (ch === '[' || ch === ']') {
      regex += ch;
      matchType = 'regexp';
    } else {
      regex += ch;
    }
  }
  regex += '$';
  switch (matchType) {
    case 'exact':
      return (path) => path === cleaned;
    case 'prefix': {
      const prefix = cleaned.slice(0, -2);
      return (path) => path.startsWith(prefix);
    }
    case 'suffix': {
      const suffix = cleaned.slice(2);
      return (path) => path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
    }
    case 'regexp': {
      const compiled = new RegExp(regex, 'u');
      return (path) => compiled.test(path);
    }
  }
}

export class DockerIgnore {
  readonly patterns: IgnorePattern[];

  constructor(patterns: string[]) {
    this.patterns = patterns.map((raw) => {
      let text = clean(raw.trim());
      const exclusion = text.startsWith('!');
      if (exclusion) {
        if (text.length === 1) throw new Error('illegal exclusion pattern: "!"');
        text = text.slice(1);
      }
      return { text, exclusion, match: compile(text) };
    });
  }

  static parse(dockerignoreText: string): DockerIgnore {
    return new DockerIgnore(readDockerignore(dockerignoreText));
  }

  /** patternmatcher.MatchesOrParentMatches: is this context-relative path (or a directory above it) excluded? */
  excludes(file: string): boolean {
    const path = clean(file);
    const parent = posix.dirname(path);
    const parentDirs = parent.split('/');
    let matched = false;
    for (const pattern of this.patterns) {
      // Docker skips a pattern that cannot change the outcome; kept for identical results.
      if (pattern.exclusion !== matched) continue;
      let match = pattern.match(path);
      if (!match && parent !== '.') {
        for (let i = 0; i < parentDirs.length && !match; i++) match = pattern.match(parentDirs.slice(0, i + 1).join('/'));
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }
}
