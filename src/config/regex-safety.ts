import { createContext, Script } from 'node:vm';

/**
 * An empirical check for exponential backtracking, run after safe-regex2's static one.
 *
 * safe-regex2 judges a pattern by its star height, so it misses alternations whose branches match
 * the same text inside a repeat: `(a|a)+$` and `(a|aa)+$` pass it, yet take seconds on 30 "a"s
 * and hours on 40. Here the compiled regex is run on short inputs built from the pattern's own
 * characters (a run of one character, then one that breaks the match), under a VM timeout that
 * interrupts the match: a safe regex answers such inputs in microseconds, an exponential one
 * cannot answer them in time at all. Polynomial blow-ups on long inputs are out of its reach.
 */
const RUN_LENGTHS = [48];
const SUFFIXES = ['!', '\u0000', ' '];
const TIMEOUT_MS = 250;
// The VM timeout is wall-clock time: on a starved CPU (a busy CI machine) a safe regex can miss it
// once. An exponential one misses it every time, so only a miss on every attempt condemns it.
const ATTEMPTS = 3;

// The sandbox (a V8 context of its own) is made with the first regex checked: a config without
// regexes, such as the default one, never needs it (start-up, docs/benchmarks.md S5).
let sandbox: { context: { regex: RegExp; probes: string[] }; probe: Script } | undefined;
const sandboxed = () =>
  (sandbox ??= { context: createContext({ regex: /$/, probes: [] as string[] }) as { regex: RegExp; probes: string[] }, probe: new Script('for (const input of probes) regex.test(input);') });

/**
 * Units a match may repeat: characters (literals in the source, one member of each class it
 * names) and pairs of the source's literals, for alternations such as (a|b|ab)* on "abab…".
 */
function probeUnits(source: string): string[] {
  const chars = new Set(['a', '0', ' ', 'x']);
  for (const [, escape] of source.matchAll(/\\([dwsDWS])/g)) chars.add({ d: '0', w: 'a', s: ' ', D: 'a', W: '-', S: 'a' }[escape as 'd']);
  const literals = new Set<string>();
  for (const char of source.replace(/\\./g, '')) if (/[\p{L}\p{N}_-]/u.test(char)) literals.add(char);
  const pairs = [...literals].slice(0, 8).flatMap((a) => [...literals].slice(0, 8).filter((b) => b !== a).map((b) => a + b));
  return [...new Set([...chars, ...literals])].slice(0, 24).concat(pairs);
}

/** The length of an input the regex could not answer within the timeout, or undefined when it answered them all. */
export function backtracksExponentially(regex: RegExp): { length: number } | undefined {
  const units = probeUnits(regex.source);
  for (const length of RUN_LENGTHS) {
    const probes = units.flatMap((unit) => SUFFIXES.map((suffix) => unit.repeat(Math.ceil(length / unit.length)) + suffix));
    if (!answersInTime(regex, probes)) return { length: length + 1 };
  }
  return undefined;
}

function answersInTime(regex: RegExp, probes: string[]): boolean {
  const { context, probe } = sandboxed();
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    context.regex = regex;
    context.probes = probes;
    try {
      probe.runInContext(context, { timeout: TIMEOUT_MS });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw error;
    } finally {
      context.regex = /$/;
      context.probes = [];
    }
  }
  return false;
}
