// Rules: every rule in the order it is tried, with its use; create, edit and delete them; undo an
// admin change to a file rule; reset; sequences and their progress.
import { AdminApiError, call } from './api.js';
import { byId, clock, h, pretty, replace, trim } from './dom.js';

/** @type {any[]} */
let rules = [];
/** @type {Map<string, any>} */
let order = new Map();
/** @type {string | null} the rule being edited, null for a new one */
let editing = null;
/** @type {HTMLElement | null} */
let returnFocus = null;
/** @type {() => void} */
let onReset = () => {};

/** @param {string} id */
export const ruleById = (id) => rules.find((r) => r.id === id);

const KINDS = ['sequence', 'error', 'tool_calls', 'embedding', 'text'];
/** @param {any} response */
function kindOf(response) {
  if (typeof response === 'string') return 'text';
  const kind = KINDS.find((k) => response && k in response);
  return kind === 'tool_calls' ? 'tool calls' : kind ?? 'object';
}

/** @param {any} match */
function conditions(match) {
  const parts = Object.entries(match ?? {}).map(([key, value]) => `${key} ${typeof value === 'string' ? `= ${value}` : `= ${JSON.stringify(value)}`}`);
  return parts.length === 0 ? 'everything (match {})' : trim(parts.join('; '), 120);
}

/** @param {string} text */
function say(text) {
  byId('rules-message').textContent = text;
}

/** @param {unknown} error */
function report(error) {
  say(error instanceof Error ? error.message : String(error));
}

/** @param {string} label @param {() => Promise<void>} action @param {Record<string, string>} [attrs] */
const button = (label, action, attrs = {}) =>
  h('button', { type: 'button', class: 'small', ...attrs, onclick: () => void action().then(refresh).catch(report) }, label);

export async function refresh() {
  const [listing, precedence, sequences] = await Promise.all([call('GET', 'responses'), call('GET', 'precedence'), call('GET', 'sequences')]);
  rules = listing.responses;
  order = new Map(precedence.rules.map((/** @type {any} */ r) => [r.id, r]));
  const body = byId('rules').tBodies[0];
  replace(
    body,
    ...rules.map((rule, index) => {
      const meta = order.get(rule.id) ?? {};
      const source = meta.replacesFileRule ? 'admin (replaces file)' : rule.source;
      return h(
        'tr',
        { 'data-id': rule.id },
        h('td', { class: 'num' }, index + 1),
        h('td', { class: 'mono' }, rule.id),
        h('td', null, source),
        h('td', { class: 'num' }, meta.priority ?? 0),
        h('td', { class: 'mono' }, conditions(rule.match)),
        h('td', null, kindOf(rule.response)),
        h('td', { class: 'num' }, rule.hits),
        h('td', { class: 'mono' }, clock(rule.lastHitAt)),
        h(
          'td',
          { class: 'actions' },
          h('button', { type: 'button', class: 'small', 'aria-label': `Edit ${rule.id}`, onclick: (/** @type {Event} */ ev) => openEditor(rule, /** @type {HTMLElement} */ (ev.currentTarget)) }, 'Edit'),
          button('Delete', async () => {
            if (!confirm(`Delete rule ${rule.id}?${rule.source === 'file' ? ' The file rule stays hidden until reset or "revert".' : ''}`)) return;
            await call('DELETE', `responses/${encodeURIComponent(rule.id)}`);
            say(`Deleted ${rule.id}.`);
          }, { 'aria-label': `Delete ${rule.id}`, class: 'small danger' }),
          meta.replacesFileRule
            ? button('Revert to file', async () => {
                await call('POST', `responses/${encodeURIComponent(rule.id)}/revert`);
                say(`${rule.id} is the file's rule again.`);
              }, { 'aria-label': `Revert ${rule.id} to the file's rule` })
            : null,
        ),
      );
    }),
  );
  byId('deleted-rules').hidden = precedence.deleted.length === 0;
  replace(
    byId('deleted-list'),
    ...precedence.deleted.map((/** @type {string} */ id) =>
      h('li', null, h('span', { class: 'mono' }, id), ' ', button('Revert to file', async () => {
        await call('POST', `responses/${encodeURIComponent(id)}/revert`);
        say(`${id} is the file's rule again.`);
      }, { 'aria-label': `Restore ${id} from the file` })),
    ),
  );
  replace(
    byId('sequences').tBodies[0],
    ...sequences.sequences.map((/** @type {any} */ s) =>
      h(
        'tr',
        null,
        h('td', { class: 'mono' }, s.ruleId),
        h('td', null, `${s.nextStep + 1} of ${s.steps}`),
        h('td', { class: 'num' }, s.calls),
        h('td', null, s.then === 'loop' ? 'loop' : 'repeat the last'),
        h('td', null, button('Restart', async () => {
          await call('POST', `sequences/${encodeURIComponent(s.ruleId)}/reset`);
          say(`Sequence ${s.ruleId} restarted.`);
        }, { 'aria-label': `Restart sequence ${s.ruleId}` })),
      ),
    ),
  );
  byId('sequences-empty').hidden = sequences.sequences.length > 0;
}

/** @type {Promise<any> | undefined} */
let yamlModule;
const yaml = () => (yamlModule ??= import('./js-yaml.mjs').catch(() => null));

/** @param {any} rule */
async function asText(rule) {
  const meta = order.get(rule.id);
  const spec = { id: rule.id, ...(meta?.priority ? { priority: meta.priority } : {}), match: rule.match, response: rule.response };
  const lib = await yaml();
  return lib ? lib.dump(spec, { lineWidth: 100, noRefs: true }) : pretty(spec);
}

const NEW_RULE = `# One rule, as in the file's rules: list
match:
  contains: hello
response: Hello from an admin rule.
`;

/** @param {any | null} rule @param {HTMLElement} opener */
async function openEditor(rule, opener) {
  editing = rule ? rule.id : null;
  returnFocus = opener;
  byId('editor-title').textContent = rule ? `Edit ${rule.id}` : 'New rule';
  byId('editor-error').textContent = '';
  const text = byId('editor-text');
  text.removeAttribute('aria-invalid');
  text.value = rule ? await asText(rule) : NEW_RULE;
  byId('editor').showModal();
  text.focus();
}

/** @param {string} text */
async function parse(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return JSON.parse(trimmed);
  const lib = await yaml();
  if (!lib) throw new Error('The YAML reader is not available on this server: write the rule as JSON.');
  return lib.load(text);
}

async function save() {
  const error = byId('editor-error');
  const text = byId('editor-text');
  let spec;
  try {
    spec = await parse(text.value);
  } catch (e) {
    error.textContent = `Not valid YAML or JSON: ${/** @type {Error} */ (e).message}`;
    text.setAttribute('aria-invalid', 'true');
    return;
  }
  try {
    if (editing === null) await call('POST', 'responses', spec);
    else await call('PUT', `responses/${encodeURIComponent(editing)}`, spec);
  } catch (e) {
    // The admin API's own words, so the page and a script see the same message.
    error.textContent = e instanceof AdminApiError && e.field ? `${e.message} (field: ${e.field})` : /** @type {Error} */ (e).message;
    text.setAttribute('aria-invalid', 'true');
    return;
  }
  byId('editor').close();
  say(editing === null ? 'Rule created.' : `Saved ${editing}.`);
  await refresh();
}

/** @param {{ reset: () => void }} options */
export function startRules(options) {
  onReset = options.reset;
  byId('new-rule').addEventListener('click', (/** @type {Event} */ ev) => void openEditor(null, /** @type {HTMLElement} */ (ev.currentTarget)));
  byId('reset-all').addEventListener('click', () => {
    if (!confirm('Reset everything? Admin rules, sequence progress, hit counts and the request journal are cleared.')) return;
    void call('POST', 'reset')
      .then(() => {
        onReset();
        say('Reset: back to exactly what the config file says.');
      })
      .then(refresh)
      .catch(report);
  });
  byId('reset-sequences').addEventListener('click', () => void call('POST', 'sequences/reset').then(() => say('All sequences restarted.')).then(refresh).catch(report));
  byId('editor-form').addEventListener('submit', (/** @type {Event} */ ev) => {
    ev.preventDefault();
    void save();
  });
  byId('editor-cancel').addEventListener('click', () => byId('editor').close());
  byId('editor-text').addEventListener('keydown', (/** @type {KeyboardEvent} */ ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      void save();
    }
  });
  // The table is rebuilt after a save: then focus goes back to the toolbar.
  byId('editor').addEventListener('close', () => (returnFocus?.isConnected ? returnFocus : byId('new-rule')).focus());
}
