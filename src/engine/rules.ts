import { createHash } from 'node:crypto';
import {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_JOURNAL_SIZE,
  DEFAULT_UNKNOWN_RESPONSE,
  type ConfigFile,
  type EmbeddingsSpec,
  type MatchMode,
  type ModelSpec,
  type RuleSpec,
  type Settings,
} from '../config/schema.ts';
import { compileMatcher, type Matcher } from './matcher.ts';
import { compileResponse, type CompiledResponse, type TextAnswer } from './response.ts';

export { normalizePrompt, promptKey } from './matcher.ts';

export type RuleSource = 'file' | 'admin';

export interface Rule {
  /** Stable id: file rules without one derive it from their match, so a reload keeps it. */
  readonly id: string;
  readonly source: RuleSource;
  /**
   * Where the rule ranks at equal priority: rules created through the admin API sit above the
   * file's; a file rule replaced through it keeps the file's place (only its answer changed).
   */
  readonly layer: RuleSource;
  /** The rule as written (in the file or the admin request), for listing it back. */
  readonly spec: RuleSpec;
  readonly priority: number;
  readonly matcher: Matcher;
  readonly response: CompiledResponse;
}

export interface EffectiveSettings {
  readonly match: MatchMode;
  readonly strict: boolean;
  readonly bodyLimitBytes: number;
  readonly journalSize: number;
  readonly adminEnabled: boolean;
  readonly adminToken: string | undefined;
  readonly onUnmatched: 'default' | 'error';
  /** Origins allowed by CORS; empty: CORS off. */
  readonly corsOrigins: readonly string[];
  /** The file's `settings` block as written: response compilation reads its defaults. */
  readonly raw: Settings;
}

/** Everything a request needs to be answered, immutable once built: swapped whole, never edited. */
export interface RuleSet {
  /** In the order they are matched (precedence order). */
  readonly rules: readonly Rule[];
  readonly byId: ReadonlyMap<string, Rule>;
  /** Exact-prompt-only rules by prompt key → their position in `rules` (the first one wins). */
  readonly byPrompt: ReadonlyMap<string, number>;
  /** Positions in `rules` of every rule that must be tested one by one. */
  readonly tested: readonly number[];
  readonly unknown: TextAnswer;
  readonly settings: EffectiveSettings;
  /** The file's `embeddings:` section as written (POST /v1/embeddings reads it). */
  readonly embeddings: EmbeddingsSpec | undefined;
  /** The file's `models:` list as written; undefined means the built-in list (GET /v1/models). */
  readonly models: readonly (string | ModelSpec)[] | undefined;
}

/** What the file says, before any admin overlay. */
export interface Baseline {
  readonly rules: readonly Rule[];
  readonly unknown: TextAnswer;
  readonly settings: EffectiveSettings;
  readonly embeddings: EmbeddingsSpec | undefined;
  readonly models: readonly (string | ModelSpec)[] | undefined;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

export function compileRule(spec: RuleSpec, id: string, source: RuleSource, settings: EffectiveSettings, layer: RuleSource = source): Rule {
  return {
    id,
    source,
    layer,
    spec: { ...spec, id },
    priority: spec.priority ?? 0,
    matcher: compileMatcher(spec.match, settings.match),
    response: compileResponse(spec.response, settings.raw),
  };
}

export function settingsFromConfig(doc: ConfigFile): EffectiveSettings {
  const settings = doc.settings ?? {};
  return {
    match: settings.match ?? 'normalized',
    strict: settings.strict ?? false,
    bodyLimitBytes: settings.body_limit_bytes ?? DEFAULT_BODY_LIMIT_BYTES,
    journalSize: settings.journal_size ?? DEFAULT_JOURNAL_SIZE,
    adminEnabled: settings.admin?.enabled ?? true,
    adminToken: settings.admin?.token,
    onUnmatched: doc.defaults?.on_unmatched ?? 'default',
    corsOrigins: settings.cors?.origins ?? [],
    raw: settings,
  };
}

/**
 * File rules in file order: the `responses` map first, then `rules`. A rule without an `id` gets
 * one derived from its match (and its rank among rules with the same match), so the same file
 * always yields the same ids.
 */
export function baselineFromConfig(doc: ConfigFile): Baseline {
  const settings = settingsFromConfig(doc);
  const specs: RuleSpec[] = [
    ...Object.entries(doc.responses ?? {}).map(([prompt, response]): RuleSpec => ({ match: { prompt }, response })),
    ...(doc.rules ?? []),
  ];
  const rank = new Map<string, number>();
  const rules = specs.map((spec) => {
    if (spec.id) return compileRule(spec, spec.id, 'file', settings);
    const matchText = spec.match.prompt !== undefined && Object.keys(spec.match).length === 1 ? spec.match.prompt : JSON.stringify(spec.match);
    const seen = rank.get(matchText) ?? 0;
    rank.set(matchText, seen + 1);
    return compileRule(spec, `file-${shortHash(matchText)}${seen === 0 ? '' : `-${seen + 1}`}`, 'file', settings);
  });
  // The default answer is compiled like any rule's, so settings.chunking and settings.latency apply to it.
  const unknown = compileResponse(doc.defaults?.unknown_response ?? DEFAULT_UNKNOWN_RESPONSE, settings.raw) as TextAnswer;
  return { rules, unknown, settings, embeddings: doc.embeddings ?? undefined, models: doc.models ?? undefined };
}

/**
 * Precedence: higher priority first; at equal priority admin-created rules before file rules; then the
 * more specific match; then the original order (file order, or newest-first for admin rules).
 * The sort is stable, so `rules` arrive in that original order.
 */
export function byPrecedence(rules: readonly Rule[]): Rule[] {
  return [...rules].sort(
    (a, b) =>
      b.priority - a.priority ||
      (a.layer === b.layer ? 0 : a.layer === 'admin' ? -1 : 1) ||
      b.matcher.specificity - a.matcher.specificity,
  );
}

export function buildRuleSet(baseline: Baseline, rulesInOrder: readonly Rule[]): RuleSet {
  const rules = byPrecedence(rulesInOrder);
  const byPrompt = new Map<string, number>();
  const byId = new Map<string, Rule>();
  const tested: number[] = [];
  rules.forEach((rule, index) => {
    byId.set(rule.id, rule);
    const key = rule.matcher.promptKey;
    if (key === undefined) tested.push(index);
    else if (!byPrompt.has(key)) byPrompt.set(key, index);
  });
  return {
    rules,
    byId,
    byPrompt,
    tested,
    unknown: baseline.unknown,
    settings: baseline.settings,
    embeddings: baseline.embeddings,
    models: baseline.models,
  };
}
