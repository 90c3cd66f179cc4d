// Every element is built here, and every string from the server goes in as a text node: no markup
// is ever parsed from data, so a prompt holding <script> shows as text (the page's CSP forbids
// inline script as a second line of defence).

/**
 * @param {string} tag
 * @param {Record<string, string | boolean | number | ((event: Event) => void)> | null} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false) el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}

/** @param {Node} parent @param {...(Node | string | number | null | undefined | false)} children */
export function append(parent, ...children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** @param {Node} parent @param {...(Node | string | number | null | undefined | false)} children */
export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, ...children);
}

/** @param {string} id @returns {any} */
export const byId = (id) => document.getElementById(id);

/** @param {string} text @param {number} max */
export const trim = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** @param {string | null | undefined} iso */
export function clock(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

/** @param {unknown} value */
export const pretty = (value) => JSON.stringify(value, null, 2);
