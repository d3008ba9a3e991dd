// Building DOM without HTML strings: text always goes through text nodes, so nothing rendered is ever parsed as markup.

/**
 * h('button', { class: 'primary', type: 'button', onclick: fn, 'aria-label': 'Close' }, 'Close')
 * Props: `class`, `for`, `dataset` (object), `on<event>` (function), DOM properties (value, checked, disabled, …),
 * anything else as an attribute (false: left out). Children: strings/numbers (as text), nodes, arrays, null/undefined/false (skipped).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any> | null} [props]
 * @param {...unknown} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value || '';
    else if (key === 'for') el.setAttribute('for', value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key in el && !key.includes('-')) /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el))[key] = value;
    else if (value !== false) el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/**
 * Appends children (see h) to el.
 * @template {Element} E
 * @param {E} el
 * @param {unknown} children
 * @returns {E}
 */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/**
 * Replaces el's content.
 * @template {Element} E
 * @param {E} el
 * @param {...unknown} children
 * @returns {E}
 */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let idCounter = 0;
/** A document-unique id for label/control pairs. */
export const uid = (prefix = 'f') => `${prefix}-${++idCounter}`;
