import type { RuleSpec } from '../config/schema.ts';
import { hex } from '../http/ids.ts';
import type { AdminOverlay, OverlayEntry, OverlaySnapshot, SequenceCounters } from '../state/types.ts';
import { sequenceStep } from './response.ts';
import { buildRuleSet, compileRule, type Baseline, type Rule, type RuleSet } from './rules.ts';

export class RuleIdConflict extends Error {
  override name = 'RuleIdConflict';
}

export interface RuleCounts {
  file: number;
  admin: number;
}

/** How often a rule answered since the last reset, and when it last did (Unix ms). */
export interface RuleHits {
  count: number;
  lastHitAt: number | null;
}

const NO_HITS: RuleHits = { count: 0, lastHitAt: null };

export interface SequenceState {
  ruleId: string;
  /** Matching calls answered so far. */
  calls: number;
  /** The step the next matching call gets (0-based). */
  nextStep: number;
  steps: number;
  then: 'loop' | 'repeat_last';
}

/**
 * The one place the server's answers are assembled: the file baseline plus the admin overlay on top.
 *
 * The overlay (state/types.ts) records intent, not a copy of the result: rules created at run time,
 * file rules replaced, file rules deleted. A reload of the file swaps the baseline and the overlay is
 * laid on it again (admin rules compiled anew, so a changed `settings.match` applies to them too), so
 * admin changes survive reloads until reset.
 *
 * Readers take `current` once per request and keep that object. Every change builds a whole new
 * RuleSet and swaps it in with one assignment, so a request never sees half of a change.
 */
export class RuleStore {
  #baseline: Baseline;
  #current: RuleSet;
  readonly #overlay: AdminOverlay;
  readonly #sequences: SequenceCounters;
  /** Per rule id, this server's own count (a test suite reads it to find recordings it never used). */
  readonly #hits = new Map<string, { count: number; lastHitAt: number }>();
  /** The overlay version `current` was built from. */
  #version = -1;
  readonly #unsubscribe: () => void;

  constructor(baseline: Baseline, overlay: AdminOverlay, sequences: SequenceCounters) {
    this.#baseline = baseline;
    this.#overlay = overlay;
    this.#sequences = sequences;
    this.#current = this.#build(overlay.snapshot());
    // Changes made elsewhere (another replica's admin API) arrive here; older snapshots are ignored.
    this.#unsubscribe = overlay.subscribe((snapshot) => this.#adopt(snapshot));
  }

  get current(): RuleSet {
    return this.#current;
  }

  get baseline(): Baseline {
    return this.#baseline;
  }

  /** The overlay version that serves now. */
  get overlayVersion(): number {
    return this.#version;
  }

  counts(): RuleCounts {
    let admin = 0;
    for (const rule of this.#current.rules) if (rule.source === 'admin') admin++;
    return { file: this.#current.rules.length - admin, admin };
  }

  replaceBaseline(baseline: Baseline): void {
    const before = this.#current.byId;
    this.#baseline = baseline;
    this.#current = this.#build(this.#overlay.snapshot());
    // Progress is kept by rule id, but a sequence the file changed is a new sequence: going on at
    // the old count would start it midway.
    const changed: string[] = [];
    for (const [id, then] of before) {
      if (then.response.kind !== 'sequence') continue;
      const now = this.#current.byId.get(id);
      if (!now || JSON.stringify(now.spec) !== JSON.stringify(then.spec)) changed.push(id);
    }
    if (changed.length > 0) void this.#sequences.reset(changed).catch(() => {});
  }

  async create(spec: RuleSpec): Promise<Rule> {
    const id = spec.id ?? `admin-${hex(12)}`;
    const taken = this.#current.byId.has(id) || this.#overlay.snapshot().created.some((r) => r.id === id) || this.#baseline.rules.some((r) => r.id === id);
    if (taken) {
      throw new RuleIdConflict(`A response with id '${id}' already exists.`);
    }
    // Compiled before it is recorded, so a rule that cannot compile changes nothing.
    compileRule(spec, id, 'admin', this.#baseline.settings);
    await this.#apply({ op: 'create', entry: { id, spec } });
    return this.#current.byId.get(id)!;
  }

  /** Replaces the rule with this id (a file rule becomes an admin override). Undefined if none. */
  async replace(id: string, spec: RuleSpec): Promise<Rule | undefined> {
    if (!this.#current.byId.has(id)) return undefined;
    compileRule(spec, id, 'admin', this.#baseline.settings);
    const created = this.#overlay.snapshot().created.some((r) => r.id === id);
    await this.#apply({ op: 'replace', entry: { id, spec: { ...spec, id } }, created });
    await this.#sequences.reset([id]);
    return this.#current.byId.get(id);
  }

  /** Removes the rule with this id (a file rule stays hidden until reset). False if none. */
  async delete(id: string): Promise<boolean> {
    if (!this.#current.byId.has(id)) return false;
    const created = this.#overlay.snapshot().created.some((r) => r.id === id);
    await this.#apply({ op: 'delete', id, created });
    await this.#sequences.reset([id]);
    return true;
  }

  /**
   * Drops the admin replacement or deletion of the file rule with this id, so the file's own rule
   * serves again. False when the overlay holds neither for it.
   */
  async revert(id: string): Promise<boolean> {
    const snapshot = this.#overlay.snapshot();
    if (!snapshot.replaced.some((r) => r.id === id) && !snapshot.deleted.includes(id)) return false;
    await this.#apply({ op: 'revert', id });
    await this.#sequences.reset([id]);
    return true;
  }

  /** The file rules the admin API replaced or deleted (what `revert` can undo). */
  overrides(): { replaced: string[]; deleted: string[] } {
    const snapshot = this.#overlay.snapshot();
    return { replaced: snapshot.replaced.map((r) => r.id), deleted: [...snapshot.deleted] };
  }

  /** Drops every admin change, all sequence progress and hit counts: back to exactly what the file says. */
  async reset(): Promise<void> {
    await this.#apply({ op: 'reset' });
    await this.#sequences.reset();
    this.#hits.clear();
  }

  /** Counts one answer given by a rule. */
  recordHit(ruleId: string, at: number): void {
    const hits = this.#hits.get(ruleId);
    if (hits) {
      hits.count++;
      hits.lastHitAt = at;
    } else this.#hits.set(ruleId, { count: 1, lastHitAt: at });
  }

  hitsOf(ruleId: string): RuleHits {
    return this.#hits.get(ruleId) ?? NO_HITS;
  }

  /** Counts one matching call of a sequence rule and says which step it gets. */
  async nextSequenceStep(rule: Rule): Promise<number> {
    if (rule.response.kind !== 'sequence') return 0;
    return sequenceStep(rule.response, await this.#sequences.next(rule.id));
  }

  /** The step the next matching call of a sequence rule would get, without counting a call. */
  async peekSequenceStep(rule: Rule): Promise<number> {
    if (rule.response.kind !== 'sequence') return 0;
    return sequenceStep(rule.response, await this.#sequences.peek(rule.id));
  }

  async sequences(): Promise<SequenceState[]> {
    const states: SequenceState[] = [];
    for (const rule of this.#current.rules) {
      if (rule.response.kind !== 'sequence') continue;
      const calls = await this.#sequences.peek(rule.id);
      states.push({ ruleId: rule.id, calls, nextStep: sequenceStep(rule.response, calls), steps: rule.response.steps.length, then: rule.response.then });
    }
    return states;
  }

  /** Restarts one sequence, or all of them. False when the id names no sequence rule. */
  async resetSequences(ruleId?: string): Promise<boolean> {
    if (ruleId === undefined) {
      await this.#sequences.reset();
      return true;
    }
    if (this.#current.byId.get(ruleId)?.response.kind !== 'sequence') return false;
    await this.#sequences.reset([ruleId]);
    return true;
  }

  close(): void {
    this.#unsubscribe();
  }

  async #apply(change: Parameters<AdminOverlay['apply']>[0]): Promise<void> {
    const stored = this.#overlay.apply(change);
    // A store that applies at once (in memory) serves the change before the next request is read,
    // as a synchronous store did; a network store serves it once acknowledged.
    this.#adopt(this.#overlay.snapshot());
    this.#adopt(await stored);
  }

  #adopt(snapshot: OverlaySnapshot): void {
    if (snapshot.version <= this.#version) return;
    this.#current = this.#build(snapshot);
  }

  #build(overlay: OverlaySnapshot): RuleSet {
    this.#version = overlay.version;
    const settings = this.#baseline.settings;
    const compile = (entry: OverlayEntry, layer: 'admin' | 'file') => compileRule(entry.spec, entry.id, 'admin', settings, layer);
    const fileIds = new Set(this.#baseline.rules.map((r) => r.id));
    const replaced = new Map(overlay.replaced.map((r) => [r.id, r]));
    const deleted = new Set(overlay.deleted);
    // A reload may bring a file rule with the id of a rule created at run time: the admin rule, made
    // on purpose by the test that is running, keeps the id and hides the file's until reset.
    const createdIds = new Set(overlay.created.map((r) => r.id));
    // A replacement whose file rule has since left the file keeps answering: the user asked for it.
    const orphans = overlay.replaced.filter((r) => !fileIds.has(r.id)).map((r) => compile(r, 'file'));
    const fileRules = this.#baseline.rules
      .filter((r) => !deleted.has(r.id) && !createdIds.has(r.id))
      .map((r) => {
        const replacement = replaced.get(r.id);
        return replacement ? compile(replacement, 'file') : r;
      });
    return buildRuleSet(this.#baseline, [...overlay.created.map((r) => compile(r, 'admin')), ...orphans, ...fileRules]);
  }
}
