import { buildRuleSet, type Baseline, type RuleSet } from './rules.ts';

/**
 * The one place the server's answers live: the file baseline plus (later) admin changes on top.
 * Readers take `current` once per request and keep that object, so a request never sees half of a
 * change: every change builds a whole new RuleSet and swaps it in with a single assignment.
 */
export class RuleStore {
  #baseline: Baseline;
  #current: RuleSet;

  constructor(baseline: Baseline) {
    this.#baseline = baseline;
    this.#current = buildRuleSet(baseline, baseline.rules);
  }

  get current(): RuleSet {
    return this.#current;
  }

  get baseline(): Baseline {
    return this.#baseline;
  }

  replaceBaseline(baseline: Baseline): void {
    this.#baseline = baseline;
    this.#current = buildRuleSet(baseline, baseline.rules);
  }
}
