import type { RuleSpec } from '../config/schema.ts';
import { hex } from '../http/ids.ts';
import { buildRuleSet, compileRule, type Baseline, type Rule, type RuleSet } from './rules.ts';

export class RuleIdConflict extends Error {
  override name = 'RuleIdConflict';
}

export interface RuleCounts {
  file: number;
  admin: number;
}

/**
 * The one place the server's answers live: the file baseline plus the admin overlay on top.
 *
 * The overlay records intent, not a copy of the result: rules created at run time, file rules
 * replaced, file rules deleted. A reload of the file swaps the baseline and the overlay is laid on
 * it again, so admin changes survive reloads until reset.
 *
 * Readers take `current` once per request and keep that object. Every change builds a whole new
 * RuleSet and swaps it in with one assignment, so a request never sees half of a change.
 *
 * Match order: admin-created rules, newest first (a later POST for the same prompt wins), then the
 * file's rules in file order with replacements in place and deletions removed.
 */
export class RuleStore {
  #baseline: Baseline;
  #current: RuleSet;
  #created: Rule[] = [];
  #replaced = new Map<string, Rule>();
  #deleted = new Set<string>();
  #changes = 0;

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

  /** Counts every admin change since start, so a client can tell whether anything happened. */
  get changeCount(): number {
    return this.#changes;
  }

  counts(): RuleCounts {
    let admin = 0;
    for (const rule of this.#current.rules) if (rule.source === 'admin') admin++;
    return { file: this.#current.rules.length - admin, admin };
  }

  replaceBaseline(baseline: Baseline): void {
    this.#baseline = baseline;
    this.#current = this.#build();
  }

  create(spec: RuleSpec): Rule {
    const id = spec.id ?? `admin-${hex(12)}`;
    if (this.#current.byId.has(id) || this.#baseline.rules.some((r) => r.id === id)) {
      throw new RuleIdConflict(`A response with id '${id}' already exists.`);
    }
    const rule = compileRule(spec, id, 'admin');
    this.#created.unshift(rule);
    this.#commit();
    return rule;
  }

  /** Replaces the rule with this id (a file rule becomes an admin override). Undefined if none. */
  replace(id: string, spec: RuleSpec): Rule | undefined {
    if (!this.#current.byId.has(id)) return undefined;
    const rule = compileRule({ ...spec, id }, id, 'admin');
    const index = this.#created.findIndex((r) => r.id === id);
    if (index >= 0) this.#created[index] = rule;
    else this.#replaced.set(id, rule);
    this.#commit();
    return rule;
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
    this.#commit();
    return true;
  }

  /** Drops every admin change: back to exactly what the file says. */
  reset(): void {
    this.#created = [];
    this.#replaced.clear();
    this.#deleted.clear();
    this.#commit();
  }

  #commit(): void {
    this.#changes++;
    this.#current = this.#build();
  }

  #build(): RuleSet {
    const fileIds = new Set(this.#baseline.rules.map((r) => r.id));
    // A replacement whose file rule has since left the file keeps answering: the user asked for it.
    const orphans = [...this.#replaced.values()].filter((r) => !fileIds.has(r.id));
    const fileRules = this.#baseline.rules
      .filter((r) => !this.#deleted.has(r.id))
      .map((r) => this.#replaced.get(r.id) ?? r);
    return buildRuleSet(this.#baseline, [...this.#created, ...orphans, ...fileRules]);
  }
}
