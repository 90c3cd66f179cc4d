import type { MatchMode, MatchSpec, TurnMatch } from '../config/schema.ts';
import { parseRegex } from '../config/semantics.ts';
import { assistantTurns, lastRole, type Conversation } from './conversation.ts';

// Printable ASCII words with single spaces between them: already NFC, trimmed and collapsed.
const PLAIN_ASCII = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;

export function normalizePrompt(text: string): string {
  // Most prompts: only lower-casing is left to do (NFC, trim and the whitespace pass allocate a
  // string each, ~2% of a non-stream request's CPU).
  if (PLAIN_ASCII.test(text)) return text.toLowerCase();
  return text.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}

export function promptKey(text: string, mode: MatchMode): string {
  return mode === 'exact' ? text : normalizePrompt(text);
}

/** One condition of a rule's match, compiled: a test, and in words what it wants and what it got. */
export interface Condition {
  /** The key as written in the rule: `prompt`, `model`, `headers.x-team`, … */
  readonly name: string;
  test(conversation: Conversation): boolean;
  /** Why it does not hold for this conversation, e.g. "wanted `gpt-4*`, got `claude-sonnet-4-6`". */
  why(conversation: Conversation): string;
}

export interface Matcher {
  /**
   * Set when the rule's only condition is an exact prompt on the last user message: such rules
   * are found with one map lookup instead of being tested one by one.
   */
  readonly promptKey: string | undefined;
  /** Conditions that hold: more conditions, and more precise ones, make a rule more specific. */
  readonly specificity: number;
  readonly conditions: readonly Condition[];
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

const quote = (text: string, max = 60) => `\`${text.length > max ? `${text.slice(0, max)}…` : text}\``;

/** Where two texts part: "differs after 'what colour is the'" (or which one is longer). */
export function whereTextsDiffer(wanted: string, got: string): string {
  let i = 0;
  while (i < wanted.length && i < got.length && wanted[i] === got[i]) i++;
  const before = wanted.slice(Math.max(0, i - 40), i);
  if (i === 0) return `wanted ${quote(wanted)}, got ${quote(got)}`;
  if (i === got.length) return `the text ends after '${before}' (wanted ${quote(wanted)})`;
  if (i === wanted.length) return `the text goes on after '${before}': ${quote(got.slice(i))}`;
  return `differs after '${before}': wanted ${quote(wanted.slice(i))}, got ${quote(got.slice(i))}`;
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function turnTest(wanted: TurnMatch): (turns: number) => boolean {
  if (typeof wanted === 'number') return (turns) => turns === wanted;
  const { gte = 0, lte = Infinity } = wanted;
  return (turns) => turns >= gte && turns <= lte;
}

/** "exactly 2 assistant turns", "at least 1 and at most 3 assistant turns". */
function describeTurns(wanted: TurnMatch): string {
  if (typeof wanted === 'number') return `exactly ${plural(wanted, 'assistant turn')}`;
  const bounds = [wanted.gte !== undefined && `at least ${wanted.gte}`, wanted.lte !== undefined && `at most ${wanted.lte}`].filter(Boolean);
  return `${bounds.join(' and ')} assistant turns`;
}

/** Compiles a rule's match once, at load: regexes, globs and normalised strings are all prebuilt. */
export function compileMatcher(match: MatchSpec, mode: MatchMode): Matcher {
  const conditions: Condition[] = [];
  let specificity = 0;
  const add = (name: string, weight: number, test: Condition['test'], why: Condition['why']) => {
    conditions.push({ name, test, why });
    specificity += weight;
  };
  const target = match.on ?? 'last_user';
  const texts = (c: Conversation): string[] =>
    target === 'last_user' ? [c.prompt] : target === 'system' ? [c.system] : [c.system, ...c.messages.map((m) => m.text)];
  const where = target === 'last_user' ? 'the last user message' : target === 'system' ? 'the system prompt' : 'no message';

  if (match.prompt !== undefined) {
    const key = promptKey(match.prompt, mode);
    add('prompt', WEIGHT.prompt, (c) => texts(c).some((t) => promptKey(t, mode) === key), (c) =>
      target === 'any' ? `no message equals ${quote(match.prompt!)}` : whereTextsDiffer(key, promptKey(texts(c)[0]!, mode)),
    );
  }
  if (match.contains !== undefined) {
    const needle = mode === 'exact' ? match.contains : normalizePrompt(match.contains);
    add('contains', WEIGHT.contains, (c) => texts(c).some((t) => (mode === 'exact' ? t : normalizePrompt(t)).includes(needle)), () => `${where} does not contain ${quote(match.contains!)}`);
  }
  if (match.regex !== undefined) {
    const regex = parseRegex(match.regex);
    add('regex', WEIGHT.regex, (c) => texts(c).some((t) => regex.test(t.length > REGEX_INPUT_LIMIT ? t.slice(0, REGEX_INPUT_LIMIT) : t)), () => `${where} does not match ${quote(match.regex!)}`);
  }
  const providers = list(match.provider);
  if (providers) add('provider', WEIGHT.other, (c) => providers.includes(c.provider), (c) => `wanted ${providers.map((p) => quote(p)).join(' or ')}, got ${quote(c.provider)}`);
  const endpoints = list(match.endpoint);
  if (endpoints) add('endpoint', WEIGHT.other, (c) => endpoints.includes(c.endpoint), (c) => `wanted ${endpoints.map((e) => quote(e)).join(' or ')}, got ${quote(c.endpoint)}`);
  const modelGlobs = list(match.model);
  if (modelGlobs) {
    const models = modelGlobs.map(globToRegExp);
    add('model', WEIGHT.other, (c) => models.some((m) => m.test(c.model)), (c) => `wanted ${modelGlobs.map((m) => quote(m)).join(' or ')}, got ${quote(c.model)}`);
  }
  const tools = list(match.tools);
  if (tools) {
    add('tools', WEIGHT.other, (c) => tools.every((t) => c.tools.includes(t)), (c) => {
      const missing = tools.filter((t) => !c.tools.includes(t));
      return `the request does not offer ${missing.map((t) => quote(t)).join(', ')} (it offers ${c.tools.length === 0 ? 'no tools' : c.tools.map((t) => quote(t)).join(', ')})`;
    });
  }
  if (match.tool_result !== undefined && match.tool_result !== false) {
    const wanted = match.tool_result === true ? {} : typeof match.tool_result === 'string' ? { name: match.tool_result } : match.tool_result;
    const needle = wanted.contains === undefined ? undefined : mode === 'exact' ? wanted.contains : normalizePrompt(wanted.contains);
    // The first part of the wanted result that this conversation's result lacks, or undefined.
    const mismatch = (c: Conversation): string | undefined => {
      const got = c.toolResult;
      if (got === undefined) return 'the last message is not a tool result';
      if (wanted.name !== undefined && got.name !== wanted.name) return `wanted a result of ${quote(wanted.name)}, got one of ${got.name === undefined ? 'an unnamed tool' : quote(got.name)}`;
      if (wanted.tool_call_id !== undefined && got.callId !== wanted.tool_call_id) {
        return `wanted the result of call ${quote(wanted.tool_call_id)}, got ${got.callId === undefined ? 'a result that names no call' : `the result of call ${quote(got.callId)}`}`;
      }
      if (needle !== undefined && !(mode === 'exact' ? got.content : normalizePrompt(got.content)).includes(needle)) {
        return `the result${got.name === undefined ? '' : ` of ${quote(got.name)}`} does not contain ${quote(wanted.contains!)} (it reads ${quote(got.content)})`;
      }
      return undefined;
    };
    add('tool_result', WEIGHT.other, (c) => mismatch(c) === undefined, (c) => mismatch(c) ?? '');
  } else if (match.tool_result === false) {
    add('tool_result', WEIGHT.other, (c) => c.toolResult === undefined, () => 'the last message is a tool result');
  }
  // `turn` and `assistant_turns` are one condition (config/semantics.ts refuses both at once); it
  // keeps the name the rule wrote, so explanations quote the rule.
  const turnKey = match.turn !== undefined ? 'turn' : match.assistant_turns !== undefined ? 'assistant_turns' : undefined;
  if (turnKey) {
    const wanted = match[turnKey]!;
    const holds = turnTest(wanted);
    add(turnKey, WEIGHT.other, (c) => holds(assistantTurns(c)), (c) => `wanted ${describeTurns(wanted)} before this request, got ${plural(assistantTurns(c), 'assistant turn')}`);
  }
  if (match.system_contains !== undefined) {
    const needle = mode === 'exact' ? match.system_contains : normalizePrompt(match.system_contains);
    add('system_contains', WEIGHT.contains, (c) => (mode === 'exact' ? c.system : normalizePrompt(c.system)).includes(needle), (c) =>
      c.system === '' ? `the request has no system prompt (wanted one containing ${quote(match.system_contains!)})` : `the system prompt does not contain ${quote(match.system_contains!)}`,
    );
  }
  if (match.system_regex !== undefined) {
    const regex = parseRegex(match.system_regex);
    add('system_regex', WEIGHT.regex, (c) => regex.test(c.system.length > REGEX_INPUT_LIMIT ? c.system.slice(0, REGEX_INPUT_LIMIT) : c.system), (c) =>
      c.system === '' ? `the request has no system prompt (wanted one matching ${quote(match.system_regex!)})` : `the system prompt does not match ${quote(match.system_regex!)}`,
    );
  }
  if (match.last_role !== undefined) {
    const wanted = match.last_role;
    add('last_role', WEIGHT.other, (c) => lastRole(c) === wanted, (c) => {
      const got = lastRole(c);
      return `wanted the last turn to be the ${wanted === 'tool' ? "tool's (a tool result)" : `${wanted}'s`}, got ${got === undefined ? 'no turn at all' : got === 'tool' ? 'a tool result' : `the ${got}'s`}`;
    });
  }
  if (match.headers) {
    for (const [name, value] of Object.entries(match.headers)) {
      add(`headers.${name}`, WEIGHT.other, (c) => c.header(name) === value, (c) => {
        const got = c.header(name);
        return got === undefined ? `wanted ${quote(value)}, the header is absent` : `wanted ${quote(value)}, got ${quote(got)}`;
      });
    }
  }

  const onlyPrompt = match.prompt !== undefined && target === 'last_user' && conditions.length === 1;
  return {
    promptKey: onlyPrompt ? promptKey(match.prompt!, mode) : undefined,
    specificity,
    conditions,
    test: (c) => {
      for (const condition of conditions) if (!condition.test(c)) return false;
      return true;
    },
  };
}
