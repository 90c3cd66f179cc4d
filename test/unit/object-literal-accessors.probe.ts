// Read by object-literal-accessors.test.ts, never run: the accessors it must find are on lines 3, 5 and 9.
export const flagged = (state: { n: number }) => ({
  get n() { return state.n; },
  nested: {
    set n(value: number) { state.n = value; },
  },
});
export const inCall = (state: { n: number }) => Object.freeze([{ plain: 1 }, {
  get n() { return state.n; },
}]);
export class Allowed {
  #n = 0;
  get n() { return this.#n; }
  set n(value: number) { this.#n = value; }
  method() { return { value: this.#n, fn: () => this.#n }; }
}
