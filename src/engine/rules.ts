import { createHash } from 'node:crypto';
import {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_JOURNAL_SIZE,
  DEFAULT_UNKNOWN_RESPONSE,
  type ConfigFile,
  type MatchMode,
  type RuleSpec,
} from '../config/schema.ts';
import { TextReply } from './reply.ts';

export type RuleSource = 'file' | 'admin';

export interface Rule {
  /** Stable id: file rules without one derive it from their prompt, so a reload keeps it. */
  readonly id: string;
  readonly source: RuleSource;
  /** The rule as written (in the file or the admin request), for listing it back. */
  readonly spec: RuleSpec;
  readonly prompt: string;
  readonly reply: TextReply;
}

export interface EffectiveSettings {
  readonly match: MatchMode;
  readonly strict: boolean;
  readonly bodyLimitBytes: number;
  readonly journalSize: number;
  readonly adminEnabled: boolean;
  readonly adminToken: string | undefined;
}

/** Everything a request needs to be answered, immutable once built: swapped whole, never edited. */
export interface RuleSet {
  /** In the order they are matched. */
  readonly rules: readonly Rule[];
  readonly byId: ReadonlyMap<string, Rule>;
  readonly byPrompt: ReadonlyMap<string, Rule>;
  readonly unknown: TextReply;
  readonly settings: EffectiveSettings;
}

/** What the file says, before any admin overlay. */
export interface Baseline {
  readonly rules: readonly Rule[];
  readonly unknown: TextReply;
  readonly settings: EffectiveSettings;
}

export function normalizePrompt(text: string): string {
  return text.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}

export function promptKey(text: string, mode: MatchMode): string {
  return mode === 'exact' ? text : normalizePrompt(text);
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

export function compileRule(spec: RuleSpec, id: string, source: RuleSource): Rule {
  const text = typeof spec.response === 'string' ? spec.response : spec.response.text;
  return { id, source, spec: { ...spec, id }, prompt: spec.match.prompt, reply: new TextReply(text) };
}

/**
 * File rules in file order: the `responses` map first, then `rules`. A rule without an `id` gets
 * one derived from its prompt (and its rank among rules with that prompt), so the same file
 * always yields the same ids.
 */
export function baselineFromConfig(doc: ConfigFile): Baseline {
  const specs: RuleSpec[] = [
    ...Object.entries(doc.responses ?? {}).map(([prompt, response]): RuleSpec => ({ match: { prompt }, response })),
    ...(doc.rules ?? []),
  ];
  const rank = new Map<string, number>();
  const rules = specs.map((spec) => {
    if (spec.id) return compileRule(spec, spec.id, 'file');
    const seen = rank.get(spec.match.prompt) ?? 0;
    rank.set(spec.match.prompt, seen + 1);
    const id = `file-${shortHash(spec.match.prompt)}${seen === 0 ? '' : `-${seen + 1}`}`;
    return compileRule(spec, id, 'file');
  });
  const settings = doc.settings ?? {};
  return {
    rules,
    unknown: new TextReply(doc.defaults?.unknown_response ?? DEFAULT_UNKNOWN_RESPONSE),
    settings: {
      match: settings.match ?? 'normalized',
      strict: settings.strict ?? false,
      bodyLimitBytes: settings.body_limit_bytes ?? DEFAULT_BODY_LIMIT_BYTES,
      journalSize: settings.journal_size ?? DEFAULT_JOURNAL_SIZE,
      adminEnabled: settings.admin?.enabled ?? true,
      adminToken: settings.admin?.token,
    },
  };
}

/**
 * Builds the lookups for a list of rules in match order. When two prompts collide (after
 * normalisation) the earlier rule wins, so the order of `rules` is the precedence.
 */
export function buildRuleSet(baseline: Baseline, rules: readonly Rule[]): RuleSet {
  const byPrompt = new Map<string, Rule>();
  const byId = new Map<string, Rule>();
  for (const rule of rules) {
    byId.set(rule.id, rule);
    const key = promptKey(rule.prompt, baseline.settings.match);
    if (!byPrompt.has(key)) byPrompt.set(key, rule);
  }
  return { rules, byId, byPrompt, unknown: baseline.unknown, settings: baseline.settings };
}
