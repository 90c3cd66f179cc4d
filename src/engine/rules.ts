import { createHash } from 'node:crypto';
import { DEFAULT_BODY_LIMIT_BYTES, DEFAULT_UNKNOWN_RESPONSE, type ConfigFile, type MatchMode } from '../config/schema.ts';
import { TextReply } from './reply.ts';

export type RuleSource = 'file' | 'admin';

export interface Rule {
  /** Stable id: file rules derive it from the prompt, so a reload keeps it. */
  readonly id: string;
  readonly source: RuleSource;
  /** The prompt as written in the config or the admin request. */
  readonly prompt: string;
  readonly reply: TextReply;
}

export interface EffectiveSettings {
  readonly match: MatchMode;
  readonly strict: boolean;
  readonly bodyLimitBytes: number;
}

/** Everything a request needs to be answered, immutable once built: swapped whole, never edited. */
export interface RuleSet {
  /** In the order they are matched. */
  readonly rules: readonly Rule[];
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

export function fileRuleId(prompt: string): string {
  return 'file-' + createHash('sha256').update(prompt).digest('hex').slice(0, 12);
}

export function baselineFromConfig(doc: ConfigFile): Baseline {
  const rules = Object.entries(doc.responses ?? {}).map(
    ([prompt, text]): Rule => ({ id: fileRuleId(prompt), source: 'file', prompt, reply: new TextReply(text) }),
  );
  return {
    rules,
    unknown: new TextReply(doc.defaults?.unknown_response ?? DEFAULT_UNKNOWN_RESPONSE),
    settings: {
      match: doc.settings?.match ?? 'normalized',
      strict: doc.settings?.strict ?? false,
      bodyLimitBytes: doc.settings?.body_limit_bytes ?? DEFAULT_BODY_LIMIT_BYTES,
    },
  };
}

/**
 * Builds the lookup for a list of rules in match order. When two prompts collide (after
 * normalisation) the earlier rule wins, so the order of `rules` is the precedence.
 */
export function buildRuleSet(baseline: Baseline, rules: readonly Rule[]): RuleSet {
  const byPrompt = new Map<string, Rule>();
  for (const rule of rules) {
    const key = promptKey(rule.prompt, baseline.settings.match);
    if (!byPrompt.has(key)) byPrompt.set(key, rule);
  }
  return { rules, byPrompt, unknown: baseline.unknown, settings: baseline.settings };
}
