import type { MatchMode, MatchSpec } from '../config/schema.ts';
import { parseRegex } from '../config/semantics.ts';
import type { Conversation } from './conversation.ts';

export function normalizePrompt(text: string): string {
  return text.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}

export function promptKey(text: string, mode: MatchMode): string {
  return mode === 'exact' ? text : normalizePrompt(text);
}

export interface Matcher {
  /**
   * Set when the rule's only condition is an exact prompt on the last user message: such rules
   * are found with one map lookup instead of being tested one by one.
   */
  readonly promptKey: string | undefined;
  /** Conditions that hold: more conditions, and more precise ones, make a rule more specific. */
  readonly specificity: number;
  test(conversation: Conversation): boolean;
}

const list = (value: string | string[] | undefined): string[] | undefined => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * A regex sees at most this many characters of a text. Even a regex with no nested quantifiers
 * (weather.*today) is quadratic on adversarial input: on a 4 MB prompt it would hold the event loop
 * for hours; on 16K characters it takes milliseconds. `prompt` and `contains` are linear and see
 * the whole text.
 */
export const REGEX_INPUT_LIMIT = 16_384;

// Weights for specificity: an exact prompt pins one request; a pattern pins a family of them.
const WEIGHT = { prompt: 4, regex: 3, contains: 2, other: 1 };

/** Compiles a rule's match once, at load: regexes, globs and normalised strings are all prebuilt. */
export function compileMatcher(match: MatchSpec, mode: MatchMode): Matcher {
  const checks: ((c: Conversation) => boolean)[] = [];
  let specificity = 0;
  const target = match.on ?? 'last_user';
  const texts = (c: Conversation): string[] =>
    target === 'last_user' ? [c.prompt] : target === 'system' ? [c.system] : [c.system, ...c.messages.map((m) => m.text)];

  if (match.prompt !== undefined) {
    const key = promptKey(match.prompt, mode);
    checks.push((c) => texts(c).some((t) => promptKey(t, mode) === key));
    specificity += WEIGHT.prompt;
  }
  if (match.contains !== undefined) {
    const needle = mode === 'exact' ? match.contains : normalizePrompt(match.contains);
    checks.push((c) => texts(c).some((t) => (mode === 'exact' ? t : normalizePrompt(t)).includes(needle)));
    specificity += WEIGHT.contains;
  }
  if (match.regex !== undefined) {
    const regex = parseRegex(match.regex);
    checks.push((c) => texts(c).some((t) => regex.test(t.length > REGEX_INPUT_LIMIT ? t.slice(0, REGEX_INPUT_LIMIT) : t)));
    specificity += WEIGHT.regex;
  }
  const providers = list(match.provider);
  if (providers) {
    checks.push((c) => providers.includes(c.provider));
    specificity += WEIGHT.other;
  }
  const endpoints = list(match.endpoint);
  if (endpoints) {
    checks.push((c) => endpoints.includes(c.endpoint));
    specificity += WEIGHT.other;
  }
  const models = list(match.model)?.map(globToRegExp);
  if (models) {
    checks.push((c) => models.some((m) => m.test(c.model)));
    specificity += WEIGHT.other;
  }
  const tools = list(match.tools);
  if (tools) {
    checks.push((c) => tools.every((t) => c.tools.includes(t)));
    specificity += WEIGHT.other;
  }
  if (match.tool_result !== undefined && match.tool_result !== false) {
    const name = typeof match.tool_result === 'string' ? match.tool_result : undefined;
    checks.push((c) => c.toolResult !== undefined && (name === undefined || c.toolResult.name === name));
    specificity += WEIGHT.other;
  } else if (match.tool_result === false) {
    checks.push((c) => c.toolResult === undefined);
    specificity += WEIGHT.other;
  }
  if (match.headers) {
    const expected = Object.entries(match.headers);
    checks.push((c) => expected.every(([name, value]) => c.header(name) === value));
    specificity += WEIGHT.other * expected.length;
  }

  const onlyPrompt = match.prompt !== undefined && target === 'last_user' && checks.length === 1;
  return {
    promptKey: onlyPrompt ? promptKey(match.prompt!, mode) : undefined,
    specificity,
    test: (c) => checks.every((check) => check(c)),
  };
}
