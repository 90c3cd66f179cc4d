import type { RuleSpec } from '../config/schema.ts';
import { hex } from '../http/ids.ts';
import { sequenceStep } from './response.ts';
import { buildRuleSet, compileRule, type Baseline, type Rule, type RuleSet } from './rules.ts';

export class RuleIdConflict extends Error {
  override name = 'RuleIdConflict';
}

export interface RuleCounts {
  file: number;
  admin: number;
}

export interface SequenceState {
  ruleId: string;
  /** Matching calls answered so far. */
  calls: number;
  /** The step the next matching call gets (0-based). */
  nextStep: number;
  steps: number;
  then: 'loop' | 'repeat_last';
}

interface AdminRuleSpec {
  id: string;
  spec: RuleSpec;
}

/**
 * The one place the server's answers live: the file baseline plus the admin overlay on top.
 *
 * The overlay records intent, not a copy of the result: rules created at run time, file rules
 * replaced, file rules deleted. A reload of the file swaps the baseline and the overlay is laid on
 * it again (admin rules compiled anew, so a changed `settings.match` applies to them too), so admin
 * changes survive reloads until reset.
 *
 * Readers take `current` once per request and keep that object. Every change builds a whole new
 * RuleSet and swaps it in with one assignment, so a request never sees half of a change.
 */
export class RuleStore {
  #baseline: Baseline;
  #current: RuleSet;
  /** Newest first: at equal priority and specificity, a later POST wins. */
  #created: AdminRuleSpec[] = [];
  #replaced = new Map<string, AdminRuleSpec>();
  #deleted = new Set<string>();
  /** Matching calls per sequence rule id. Kept across reloads; dropped when the rule changes (in the file or through the admin API) or on reset. */
  #sequenceCalls = new Map<string, number>();

  constructor(baseline: Baseline) {
    this.#baseline = baseline;
    this.#current = this.#build();
  }

  get current(): RuleSet {
    return this.#current;
  }

  get baseline(): Baseline {
    return this.#baseline;
  }

  counts(): RuleCounts {
    let admin = 0;
    for (const rule of this.#current.rules) if (rule.source === 'admin') admin++;
    return { file: this.#current.rules.length - admin, admin };
  }

  replaceBaseline(baseline: Baseline): void {
    const before = this.#current.byId;
    this.#baseline = baseline;
    this.#current = this.#build();
    // Progress is kept by rule id, but a sequence the file changed is a new sequence: going on at
    // the old count would start it midway. Admin replacements restart it the same way.
    for (const id of this.#sequenceCalls.keys()) {
      const now = this.#current.byId.get(id);
      const then = before.get(id);
      if (!now || !then || JSON.stringify(now.spec) !== JSON.stringify(then.spec)) this.#sequenceCalls.delete(id);
    }
  }

  create(spec: RuleSpec): Rule {
    const id = spec.id ?? `admin-${hex(12)}`;
    if (this.#current.byId.has(id) || this.#baseline.rules.some((r) => r.id === id)) {
      throw new RuleIdConflict(`A response with id '${id}' already exists.`);
    }
    // Compiled before it is recorded, so a rule that cannot compile changes nothing.
    compileRule(spec, id, 'admin', this.#baseline.settings);
    this.#created.unshift({ id, spec });
    this.#commit();
    return this.#current.byId.get(id)!;
  }

  /** Replaces the rule with this id (a file rule becomes an admin override). Undefined if none. */
  replace(id: string, spec: RuleSpec): Rule | undefined {
    if (!this.#current.byId.has(id)) return undefined;
    compileRule(spec, id, 'admin', this.#baseline.settings);
    const entry = { id, spec: { ...spec, id } };
    const index = this.#created.findIndex((r) => r.id === id);
    if (index >= 0) this.#created[index] = entry;
    else this.#replaced.set(id, entry);
    this.#sequenceCalls.delete(id);
    this.#commit();
    return this.#current.byId.get(id)!;
  }

  /** Removes the rule with this id (a file rule stays hidden until reset). False if none. */
  delete(id: string): boolean {
    if (!this.#current.byId.has(id)) return false;
    const index = this.#created.findIndex((r) => r.id === id);
    if (index >= 0) this.#created.splice(index, 1);
    else {
      this.#replaced.delete(id);
      this.#deleted.add(id);
    }
    this.#sequenceCalls.delete(id);
    this.#commit();
    return true;
  }

  /** Drops every admin change and all sequence progress: back to exactly what the file says. */
  reset(): void {
    this.#created = [];
    this.#replaced.clear();
    this.#deleted.clear();
    this.#sequenceCalls.clear();
    this.#commit();
  }

  /** Counts one matching call of a sequence rule and says which step it gets. */
  nextSequenceStep(rule: Rule): number {
    if (rule.response.kind !== 'sequence') return 0;
    const calls = this.#sequenceCalls.get(rule.id) ?? 0;
    this.#sequenceCalls.set(rule.id, calls + 1);
    return sequenceStep(rule.response, calls);
  }

  sequences(): SequenceState[] {
    const states: SequenceState[] = [];
    for (const rule of this.#current.rules) {
      if (rule.response.kind !== 'sequence') continue;
      const calls = this.#sequenceCalls.get(rule.id) ?? 0;
      states.push({ ruleId: rule.id, calls, nextStep: sequenceStep(rule.response, calls), steps: rule.response.steps.length, then: rule.response.then });
    }
    return states;
  }

  /** Restarts one sequence, or all of them. False when the id names no sequence rule. */
  resetSequences(ruleId?: string): boolean {
    if (ruleId === undefined) {
      this.#sequenceCalls.clear();
      return true;
    }
    if (this.#current.byId.get(ruleId)?.response.kind !== 'sequence') return false;
    this.#sequenceCalls.delete(ruleId);
    return true;
  }

  #commit(): void {
    this.#current = this.#build();
  }

  #build(): RuleSet {
    const settings = this.#baseline.settings;
    const compile = (entry: AdminRuleSpec, layer: 'admin' | 'file') => compileRule(entry.spec, entry.id, 'admin', settings, layer);
    const fileIds = new Set(this.#baseline.rules.map((r) => r.id));
    // A reload may bring a file rule with the id of a rule created at run time: the admin rule, made
    // on purpose by the test that is running, keeps the id and hides the file's until reset.
    const createdIds = new Set(this.#created.map((r) => r.id));
    // A replacement whose file rule has since left the file keeps answering: the user asked for it.
    const orphans = [...this.#replaced.values()].filter((r) => !fileIds.has(r.id)).map((r) => compile(r, 'file'));
    const fileRules = this.#baseline.rules
      .filter((r) => !this.#deleted.has(r.id) && !createdIds.has(r.id))
      .map((r) => {
        const replacement = this.#replaced.get(r.id);
        return replacement ? compile(replacement, 'file') : r;
      });
    return buildRuleSet(this.#baseline, [...this.#created.map((r) => compile(r, 'admin')), ...orphans, ...fileRules]);
  }
}
