// The dashboard's entry: ask for the admin token when the server wants one, then start the three
// panels. Nothing with data is shown before the server has accepted the token.
import { Unauthorized, call, token, whenUnauthorized } from './api.js';
import { byId } from './dom.js';
import { clearRequests, reload as loadRequests, startRequests } from './requests.js';
import { refresh as refreshRules, ruleById, startRules } from './rules.js';
import { refreshStatus, startStatus } from './status.js';

const PANELS = ['requests', 'rules', 'status'];
let started = false;

/** @param {string} name @param {boolean} [focus] */
function show(name, focus = false) {
  for (const panel of PANELS) {
    const tab = byId(`tab-${panel}`);
    const active = panel === name;
    tab.setAttribute('aria-selected', String(active));
    tab.tabIndex = active ? 0 : -1;
    byId(`${panel}-panel`).hidden = !active;
    if (active && focus) tab.focus();
  }
  if (name === 'rules') void refreshRules().catch(() => {});
  if (name === 'status') void refreshStatus().catch(() => {});
  history.replaceState(null, '', `#${name}`);
}

function showLogin(message = '') {
  for (const panel of PANELS) byId(`${panel}-panel`).hidden = true;
  byId('tabs').hidden = true;
  byId('forget-token').hidden = true;
  byId('login').hidden = false;
  byId('login-error').textContent = message;
  byId('token').focus();
}

/** @param {string} text */
const connection = (text) => {
  const el = byId('connection');
  el.textContent = text;
  el.dataset.state = text;
};

async function start() {
  // The first data, all at once; a 401 means the token is missing or wrong.
  try {
    await Promise.all([refreshRules(), loadRequests()]);
  } catch (error) {
    if (error instanceof Unauthorized) return showLogin(token.get() ? 'That token was refused.' : '');
    throw error;
  }
  byId('login').hidden = true;
  byId('tabs').hidden = false;
  byId('forget-token').hidden = !token.get();
  const wanted = location.hash.slice(1);
  show(PANELS.includes(wanted) ? wanted : 'requests');
  if (started) return;
  started = true;
  startRules({ reset: clearRequests });
  startStatus();
  let rulesTimer = 0;
  startRequests({
    rule: ruleById,
    // Hit counts move with every request: refresh the rules table (at most once a second) while it shows.
    changed: () => {
      if (byId('rules-panel').hidden || rulesTimer) return;
      rulesTimer = window.setTimeout(() => {
        rulesTimer = 0;
        void refreshRules().catch(() => {});
      }, 1000);
    },
    state: (s) => connection(s === 'live' ? 'live' : 'reconnecting…'),
  });
}

whenUnauthorized(() => showLogin(token.get() ? 'That token was refused.' : ''));

byId('login-form').addEventListener('submit', (/** @type {Event} */ event) => {
  event.preventDefault();
  token.set(byId('token').value);
  byId('token').value = '';
  void start().catch((error) => (byId('login-error').textContent = String(error.message ?? error)));
});
byId('forget-token').addEventListener('click', () => {
  token.clear();
  location.reload();
});
byId('tabs').addEventListener('click', (/** @type {MouseEvent} */ event) => {
  const tab = /** @type {HTMLElement} */ (event.target).closest('[role=tab]');
  if (tab) show(tab.id.slice(4));
});
// Arrow keys move between tabs (the WAI-ARIA tabs pattern); Tab moves into the panel.
byId('tabs').addEventListener('keydown', (/** @type {KeyboardEvent} */ event) => {
  const current = PANELS.findIndex((p) => byId(`tab-${p}`).getAttribute('aria-selected') === 'true');
  const delta = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
  if (delta === 0) return;
  event.preventDefault();
  show(PANELS[(current + delta + PANELS.length) % PANELS.length], true);
});

void start().catch((error) => connection(`error: ${error.message ?? error}`));
