import { createRequire } from 'node:module';
import type safeRegexType from 'safe-regex2';
import { backtracksExponentially } from './regex-safety.ts';
import { PROVIDERS } from '../providers/index.ts';
import type { ConfigFile, MatchSpec, ResponseSpec, RuleSpec } from './schema.ts';
import type { SchemaProblem } from './validate.ts';

// safe-regex2 (and its parser) is loaded with the first regex rule: a config without regexes,
// such as the default one, starts without it (docs/benchmarks.md, S5).
let safeRegex: typeof safeRegexType | undefined;
const loadSafeRegex = () => (safeRegex ??= createRequire(import.meta.url)('safe-regex2') as typeof safeRegexType);

/** `/pattern/flags` or a bare pattern; throws SyntaxError when it does not compile. */
export function parseRegex(source: string): RegExp {
  const literal = /^\/(.*)\/([dgimsuvy]*)$/s.exec(source);
  // The global and sticky flags make test() stateful between calls; a matcher must not be.
  const flags = (literal?.[2] ?? '').replace(/[gy]/g, '');
  return new RegExp(literal ? literal[1]! : source, flags);
}

const KINDS = ['text', 'json', 'tool_calls', 'error', 'sequence'] as const;
const STREAM_SHAPING = ['latency', 'chunking', 'fault', 'usage', 'finish_reason', 'stop_reason', 'thinking', 'redacted'] as const;

function problem(segments: string[], message: string): SchemaProblem {
  return { path: segments.join('.'), segments, message };
}

/** What a valid-by-schema response still must satisfy: one kind, and only the keys that kind uses. */
export function checkResponse(response: ResponseSpec, at: string[], inSequence = false): SchemaProblem[] {
  if (typeof response === 'string') return [];
  const problems: SchemaProblem[] = [];
  const kinds = KINDS.filter((kind) => response[kind] !== undefined);
  if (kinds.length === 0) return [problem(at, 'needs one of text, tool_calls, error or sequence (or json)')];
  const isToolCallsWithText = kinds.length === 2 && kinds.includes('text') && kinds.includes('tool_calls');
  if (kinds.length > 1 && !isToolCallsWithText) {
    problems.push(problem(at, `cannot combine ${kinds.join(' and ')} (only text may come before tool_calls)`));
  }
  if (response.then !== undefined && response.sequence === undefined) problems.push(problem([...at, 'then'], 'only applies to a sequence'));
  if (response.redacted !== undefined && response.thinking === undefined) problems.push(problem([...at, 'redacted'], 'only applies with thinking'));
  if (response.error !== undefined || response.sequence !== undefined) {
    const kind = response.error !== undefined ? 'an error' : 'a sequence (set them on its steps)';
    for (const key of STREAM_SHAPING) {
      if (response[key] !== undefined) problems.push(problem([...at, key], `does not apply to ${kind}`));
    }
  }
  if (response.sequence !== undefined) {
    if (inSequence) problems.push(problem([...at, 'sequence'], 'a sequence step cannot itself be a sequence'));
    response.sequence.forEach((step, i) => problems.push(...checkResponse(step, [...at, 'sequence', String(i)], true)));
  }
  response.tool_calls?.forEach((call, i) => {
    if (typeof call.arguments !== 'string' || call.arguments === 'auto') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(call.arguments);
    } catch {
      problems.push(problem([...at, 'tool_calls', String(i), 'arguments'], 'is a string but not valid JSON'));
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(problem([...at, 'tool_calls', String(i), 'arguments'], 'must hold a JSON object'));
    }
  });
  return problems;
}

export function checkMatch(match: MatchSpec, at: string[]): SchemaProblem[] {
  const problems = [...checkRegex(match.regex, [...at, 'regex']), ...checkRegex(match.system_regex, [...at, 'system_regex'])];
  // `turn` and `assistant_turns` are one condition under two names: both at once is a mistake.
  if (match.turn !== undefined && match.assistant_turns !== undefined) problems.push(problem([...at, 'assistant_turns'], 'is the same condition as turn; give only one of them'));
  for (const key of ['turn', 'assistant_turns'] as const) {
    const turns = match[key];
    if (typeof turns === 'object' && turns.gte !== undefined && turns.lte !== undefined && turns.gte > turns.lte) {
      problems.push(problem([...at, key], `matches no conversation: gte ${turns.gte} is above lte ${turns.lte}`));
    }
  }
  return problems;
}

function checkRegex(source: string | undefined, at: string[]): SchemaProblem[] {
  if (source === undefined) return [];
  let regex: RegExp;
  try {
    regex = parseRegex(source);
  } catch (error) {
    return [problem(at, `is not a valid regular expression: ${(error as Error).message}`)];
  }
  // Regexes run on every request, on text clients choose: one with nested quantifiers such as
  // (a+)+ can backtrack for minutes on a short input and freeze the event loop for everyone.
  if (!loadSafeRegex()(regex)) {
    return [problem(at, 'may backtrack catastrophically (nested quantifiers such as (a+)+); rewrite it without a repeated group that itself repeats')];
  }
  // Overlapping alternatives in a repeat, such as (a|aa)+, pass the static check but not this one.
  const slow = backtracksExponentially(regex);
  if (slow) {
    return [problem(at, `backtracks catastrophically: it could not answer a ${slow.length}-character input in time (alternatives that match the same text inside a repeat, such as (a|aa)+); rewrite it so that each piece of text can match only one way`)];
  }
  return [];
}

export function checkRuleSemantics(rule: RuleSpec, at: string[]): SchemaProblem[] {
  return [...checkMatch(rule.match, [...at, 'match']), ...checkProviders(rule.match, [...at, 'match', 'provider']), ...checkResponse(rule.response, [...at, 'response'])];
}

/** `match.provider` names registered providers: a misspelt one would silently never match. */
function checkProviders(match: MatchSpec | undefined, at: string[]): SchemaProblem[] {
  const named = match?.provider;
  if (named === undefined) return [];
  const known = PROVIDERS.map((p) => p.name);
  const unknown = (Array.isArray(named) ? named : [named]).find((name) => !known.includes(name));
  return unknown === undefined ? [] : [problem(at, `"${unknown}" is not a provider; use ${known.map((n) => `"${n}"`).join(', ')}`)];
}

export function checkConfigSemantics(doc: ConfigFile): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  for (const [prompt, response] of Object.entries(doc.responses ?? {})) problems.push(...checkResponse(response, ['responses', prompt]));
  const seen = new Set<string>();
  (doc.rules ?? []).forEach((rule, index) => {
    const at = ['rules', String(index)];
    problems.push(...checkRuleSemantics(rule, at));
    // Ids name rules in the admin API and the journal, so two rules may not share one.
    if (rule.id !== undefined) {
      if (seen.has(rule.id)) problems.push(problem([...at, 'id'], `"${rule.id}" is already the id of an earlier rule`));
      seen.add(rule.id);
    }
  });
  problems.push(...checkModels(doc));
  return problems;
}

/** Model ids are unique within the API that lists them, and a `created` string must be a date. */
function checkModels(doc: ConfigFile): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  (doc.models ?? []).forEach((entry, index) => {
    const at = ['models', String(index)];
    const spec = typeof entry === 'string' ? { id: entry } : entry;
    // The provider list is read here, at validation time, never while modules load (config and providers import each other).
    if (spec.provider !== undefined && !PROVIDERS.some((p) => p.name === spec.provider)) {
      problems.push(problem([...at, 'provider'], `must be one of ${PROVIDERS.map((p) => `"${p.name}"`).join(', ')}`));
    }
    const provider = spec.provider ?? PROVIDERS.find((p) => p.models?.owns(spec.id))?.name ?? PROVIDERS.at(-1)!.name;
    if (seen.has(`${provider}\u0000${spec.id}`)) problems.push(problem(typeof entry === 'string' ? at : [...at, 'id'], `"${spec.id}" is already listed for ${provider}`));
    seen.add(`${provider}\u0000${spec.id}`);
    if (typeof spec.created === 'string' && Number.isNaN(Date.parse(spec.created))) {
      problems.push(problem([...at, 'created'], 'must be Unix seconds or a date such as 2025-09-29T00:00:00Z'));
    }
  });
  return problems;
}
