// Building the page from data without innerHTML: every string from the
// API goes in as text, so nothing a transaction carries can inject markup.

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * An element with attributes (`on*` functions become listeners) and
 * children (strings become text nodes; null, undefined and false are
 * skipped).
 * @param {string} tag
 * @param {Record<string, unknown>} [attributes]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

/**
 * @param {Element} parent
 * @param {(Child | Child[])[]} children
 */
function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

/**
 * Replaces the children of `parent`.
 * @param {Element} parent
 * @param {...(Child | Child[])} children
 */
export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

/**
 * A table with a header row; `rows` are arrays of cells. A cell that is
 * an object `{ value, num: true }` is right-aligned.
 * @param {string} caption for screen readers
 * @param {string[]} headings
 * @param {(Child | {value: Child, num?: boolean})[][]} rows
 * @param {string} [emptyText]
 * @returns {HTMLElement}
 */
export function table(caption, headings, rows, emptyText = 'Nothing yet.') {
  if (rows.length === 0) return h('p', { class: 'empty' }, emptyText);
  const cell = (/** @type {Child | {value: Child, num?: boolean}} */ content) => {
    if (content && typeof content === 'object' && 'value' in content) {
      return h('td', { class: content.num ? 'num' : undefined }, content.value);
    }
    return h('td', {}, /** @type {Child} */ (content));
  };
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, headings.map((text) => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, rows.map((row) => h('tr', {}, row.map(cell))))));
}

/**
 * A definition list of facts.
 * @param {[string, Child | Child[]][]} pairs
 * @returns {HTMLElement}
 */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.flatMap(([term, detail]) => [h('dt', {}, term), h('dd', {}, detail)]));
}

/**
 * A loading line.
 * @param {string} [text]
 */
export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, text);
}

/**
 * An error box for a failed request or check.
 * @param {unknown} error
 */
export function errorBox(error) {
  const message = error instanceof Error ? error.message : String(error);
  return h('p', { class: 'error', role: 'alert' }, message);
}

/**
 * A link inside the explorer.
 * @param {string} route e.g. `/blocks/12`
 * @param {Child} text
 * @param {string} [className]
 */
export function link(route, text, className) {
  return h('a', { href: `#${route}`, class: className }, text);
}

/**
 * A status badge.
 * @param {string} text
 * @param {'good' | 'bad' | 'warn'} tone
 */
export function badge(text, tone) {
  return h('span', { class: `badge ${tone}` }, text);
}
