// Building DOM without markup strings: every piece of data goes in as text, never as HTML.

/**
 * Creates an element. `props`: `class`, `testid` (data-testid), `text` (textContent),
 * `on<event>` listeners, `hidden`/boolean attributes, anything else as an attribute.
 * Children: nodes, or strings/numbers that become text nodes.
 */
export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'testid') node.dataset.testid = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'value') node.value = value;
    else if (key === 'checked') node.checked = Boolean(value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  add(node, children);
  return node;
}

/** Appends children (nodes, text, nested arrays; null/false skipped). */
export function add(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Sets a node's text only when it changed (cheap updates of big tables). */
export function setText(node, text) {
  const value = text === null || text === undefined ? '' : String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** Replaces the page body with `children`. */
export function mount(root, ...children) {
  root.replaceChildren();
  add(root, children);
}

/** A labelled form field: `<label>` with the text, the control, a hint and an error slot. */
export function field(labelText, control, hint, error) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, labelText), control,
    hint ? h('span', { class: 'hint' }, hint) : null, error || null);
}
