// Live requests: the journal's newest entries, then every new one pushed by the server; filters,
// and for the selected request what was sent, what came back and why.
import { call, follow } from './api.js';
import { byId, clock, h, pretty, replace, trim } from './dom.js';

const KEEP = 1000;

/** @type {any[]} newest first */
let entries = [];
let lastSeq = 0;
/** @type {number | null} */
let selected = null;
/** @type {(id: string) => any} */
let ruleById = () => undefined;
/** @type {() => void} */
let onNewEntries = () => {};

const filters = () => ({
  provider: byId('filter-provider').value,
  status: byId('filter-status').value,
  matched: byId('filter-matched').value,
  text: byId('filter-text').value.trim().toLowerCase(),
});

/** @param {any} e @param {ReturnType<typeof filters>} f */
function shown(e, f) {
  if (f.provider && e.provider !== f.provider) return false;
  if (f.status && String(e.status)[0] !== f.status) return false;
  if (f.matched && String(e.matched) !== f.matched) return false;
  if (f.text) {
    const haystack = [e.prompt, e.model, e.endpoint, e.ruleId, e.provider].filter(Boolean).join(' ').toLowerCase();
    if (!haystack.includes(f.text)) return false;
  }
  return true;
}

/** @param {any} e */
function row(e) {
  const tr = h(
    'tr',
    { tabindex: '0', 'data-seq': e.seq, class: e.status >= 400 ? 'failed' : e.matched ? '' : 'unmatched', 'aria-selected': String(e.seq === selected) },
    // What tells requests apart first; the endpoint, longest and shown again in the details, last.
    h('td', { class: 'mono' }, clock(e.time)),
    h('td', null, e.provider ?? '—'),
    h('td', null, e.model ?? '—'),
    h('td', { class: 'prompt' }, e.prompt === null ? '—' : trim(e.prompt, 80)),
    h('td', null, e.matched ? e.ruleId : h('span', { class: 'tag' }, 'unmatched')),
    h('td', { class: 'num' }, e.status),
    h('td', { class: 'num' }, Math.round(e.durationMs)),
    h('td', null, e.stream ? 'stream' : ''),
    h('td', { class: 'mono' }, trim(e.endpoint, 40)),
  );
  return tr;
}

function render() {
  const f = filters();
  const visible = entries.filter((e) => shown(e, f));
  replace(byId('requests').tBodies[0], ...visible.map(row));
  byId('requests-empty').hidden = entries.length > 0;
  byId('request-count').textContent = visible.length === entries.length ? `${entries.length} requests` : `${visible.length} of ${entries.length} requests`;
  const providers = [...new Set(entries.map((e) => e.provider).filter(Boolean))].sort();
  const select = byId('filter-provider');
  const have = [...select.options].map((o) => o.value).slice(1);
  if (providers.join() !== have.join()) {
    const value = select.value;
    replace(select, h('option', { value: '' }, 'all'), ...providers.map((p) => h('option', { value: p }, p)));
    select.value = value;
  }
}

let renderPending = false;
/** A burst of requests (a load test) redraws the table once per frame, not once per request. */
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    render();
  });
}

/** @param {any[]} incoming */
function merge(incoming) {
  const seen = new Set(entries.map((e) => e.seq));
  const fresh = incoming.filter((e) => !seen.has(e.seq));
  if (fresh.length === 0) return;
  entries = [...fresh, ...entries].sort((a, b) => b.seq - a.seq).slice(0, KEEP);
  for (const e of fresh) lastSeq = Math.max(lastSeq, e.seq);
}

/** Lists what the journal holds now (the page's first load, and after the server restarted). */
export async function reload() {
  const { requests } = await call('GET', 'requests?limit=500');
  entries = [];
  lastSeq = 0;
  merge(requests);
  render();
}

/** @param {string} title @param {...any} body */
const section = (title, ...body) => h('section', null, h('h3', null, title), ...body);

/** @param {any} explanation */
function why(explanation) {
  if (!explanation) return section('Why', h('p', { class: 'muted' }, 'No rule was asked (the request failed before matching).'));
  if (explanation.matched) {
    return section(
      'Why',
      h('p', { class: 'why-matched' }, 'Rule ', h('strong', { class: 'mono' }, explanation.ruleId), ` (${explanation.source}) answered.`),
      h('p', null, explanation.conditions.length ? `Conditions that held: ${explanation.conditions.join(', ')}.` : 'It has no conditions (match {}): it answers everything.'),
    );
  }
  if (explanation.nearMisses.length === 0) return section('Why', h('p', null, 'No rule matched, and no rule came close.'));
  return section(
    'Why',
    h('p', null, 'No rule matched. The closest rules, and the first condition of each that failed:'),
    h(
      'ol',
      { class: 'misses' },
      ...explanation.nearMisses.map((/** @type {any} */ m) =>
        h(
          'li',
          null,
          h('strong', { class: 'mono' }, m.ruleId),
          ` (${m.source})`,
          h('div', { class: 'failed' }, h('span', { class: 'cond' }, m.failed.condition), ': ', m.failed.why),
          m.held.length ? h('div', { class: 'muted' }, `held: ${m.held.join(', ')}`) : null,
        ),
      ),
    ),
  );
}

/** @param {any} e */
function answer(e) {
  if (e.error) return section('Answer', h('p', { class: 'error' }, `${e.status} ${e.error.type}: `, e.error.message));
  if (e.answered) return sent(e.answered);
  if (!e.matched) return section('Answer', h('p', null, `No rule matched: the server's unmatched answer (defaults), status ${e.status}.`));
  const rule = ruleById(e.ruleId);
  if (!rule) return section('Answer', h('p', { class: 'muted' }, `Rule ${e.ruleId} no longer exists.`));
  let response = rule.response;
  const steps = response && typeof response === 'object' && Array.isArray(response.sequence) ? response.sequence : null;
  if (steps && e.step !== null) response = steps[e.step];
  return section(
    'Answer',
    h('p', { class: 'muted' }, steps && e.step !== null ? `Step ${e.step + 1} of ${steps.length} of the rule's sequence${e.stream ? ', streamed' : ''}:` : `The rule's answer as configured${e.stream ? ', streamed' : ''}:`),
    h('pre', null, typeof response === 'string' ? response : pretty(response)),
  );
}

/**
 * The answer as it was sent: its text, its tool calls, how it finished, and for a stream how it went.
 * @param {any} answered
 */
function sent(answered) {
  const stream = answered.stream;
  const how = stream
    ? `Streamed in ${stream.contentChunks} content chunk${stream.contentChunks === 1 ? '' : 's'}: ${stream.outcome === 'completed' ? 'completed' : stream.outcome === 'aborted' ? 'the client hung up' : 'cut by the rule\'s fault'}.`
    : 'Sent as one body.';
  return section(
    'Answer sent',
    h('p', { class: 'muted' }, `${how} Finish: ${answered.finishReason}.${answered.more ? ` Plus ${answered.more} further answer${answered.more === 1 ? '' : 's'}.` : ''}`),
    answered.text !== null ? h('pre', null, answered.text) : null,
    ...answered.toolCalls.map((/** @type {any} */ call) => h('pre', null, `${call.name}(${call.arguments})${call.id ? `  id ${call.id}` : ''}`)),
  );
}

/** @param {any} e */
function detail(e) {
  const aside = byId('detail');
  aside.hidden = false;
  replace(
    aside,
    h('div', { class: 'detail-head' }, h('h2', null, `${e.method} ${e.endpoint}`), h('button', { type: 'button', class: 'quiet', id: 'detail-close', onclick: close }, 'Close')),
    h(
      'dl',
      { class: 'facts' },
      ...[
        ['Time', e.time],
        ['Provider', e.provider ?? '—'],
        ['Model', e.model ?? '—'],
        ['Status', String(e.status)],
        ['Streamed', e.stream ? 'yes' : 'no'],
        ['Duration', `${e.durationMs.toFixed(1)} ms`],
        ['Sequence', `#${e.seq}`],
      ].flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
    ),
    why(e.explanation),
    answer(e),
    section('Prompt', h('pre', null, e.prompt ?? '—'), e.promptTruncated ? h('p', { class: 'muted' }, `Cut; the full prompt has ${e.promptTruncated.chars} characters.`) : null),
    section('Request body', e.request.bodyOmitted ? h('p', { class: 'muted' }, `Not kept (${pretty(e.request.bodyOmitted)}).`) : h('pre', null, pretty(e.request.body))),
    section('Request headers', h('pre', null, pretty(e.request.headers))),
  );
}

function close() {
  const aside = byId('detail');
  aside.hidden = true;
  const seq = selected;
  selected = null;
  render();
  if (seq !== null) /** @type {HTMLElement | null} */ (document.querySelector(`#requests tr[data-seq="${seq}"]`))?.focus();
}

/** @param {number} seq */
function select(seq) {
  const e = entries.find((x) => x.seq === seq);
  if (!e) return;
  selected = seq;
  for (const tr of byId('requests').tBodies[0].rows) tr.setAttribute('aria-selected', String(Number(tr.dataset.seq) === seq));
  detail(e);
}

/**
 * @param {{ rule: (id: string) => any, changed: () => void, state: (s: string) => void }} options
 */
export function startRequests(options) {
  ruleById = options.rule;
  onNewEntries = options.changed;
  const body = byId('requests').tBodies[0];
  body.addEventListener('click', (/** @type {MouseEvent} */ event) => {
    const tr = /** @type {HTMLElement} */ (event.target).closest('tr');
    if (tr) select(Number(tr.dataset.seq));
  });
  body.addEventListener('keydown', (/** @type {KeyboardEvent} */ event) => {
    const tr = /** @type {HTMLElement} */ (event.target).closest('tr');
    if (!tr) return;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      select(Number(tr.dataset.seq));
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const next = /** @type {HTMLElement | null} */ (event.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling);
      next?.focus();
    }
  });
  byId('requests-panel').addEventListener('keydown', (/** @type {KeyboardEvent} */ event) => {
    if (event.key === 'Escape' && !byId('detail').hidden) close();
  });
  byId('filters').addEventListener('input', render);
  byId('filters').addEventListener('submit', (/** @type {Event} */ event) => event.preventDefault());
  follow({
    lastSeq: () => lastSeq,
    hello: (latestSeq) => {
      // Seqs restart with the server (or the journal was cleared): what is listed here is from before.
      if (latestSeq < lastSeq) void reload().catch(() => {});
    },
    entry: (e) => {
      merge([e]);
      scheduleRender();
      onNewEntries();
    },
    state: options.state,
  });
}

/** After a reset from this page: the journal is empty now. */
export function clearRequests() {
  entries = [];
  selected = null;
  byId('detail').hidden = true;
  render();
}

