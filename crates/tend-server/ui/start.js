// Starting things: an ad-hoc process from a form, a project from pasted tend.toml. The API's
// validation errors are shown next to the input they name.

import { api } from './api.js';
import { h, mount, field, setText } from './dom.js';

/** `KEY=VALUE` lines to an object; a line without `=` is an error naming it. */
function pairs(text, what) {
  const out = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf('=');
    if (at <= 0) throw new FieldError(what, `${what}: “${line}” is not KEY=VALUE`);
    out[line.slice(0, at)] = line.slice(at + 1);
  }
  return Object.keys(out).length ? out : undefined;
}

class FieldError extends Error {
  constructor(key, message) {
    super(message);
    this.key = key;
  }
}

/** An error slot for a field, hidden until used. */
const errorSlot = () => h('span', { class: 'field-error', testid: 'form-error', role: 'alert', hidden: true });

/** Shows `message` next to the field it names (else at `fallback`); hides the others. */
function showError(slots, fallback, message, key) {
  for (const slot of [...Object.values(slots), fallback]) slot.hidden = true;
  let target = key && slots[key];
  if (!target) {
    const named = Object.keys(slots).find((k) => new RegExp(`\\b${k}\\b`).test(message));
    target = named ? slots[named] : fallback;
  }
  setText(target, message);
  target.hidden = false;
  const control = target.parentNode && target.parentNode.querySelector('input, textarea, select');
  if (control) control.focus();
}

function startForm() {
  const c = {
    command: h('input', { type: 'text', name: 'command', testid: 'start-command', autocomplete: 'off' }),
    args: h('textarea', { name: 'args', rows: '2', testid: 'start-args' }),
    run: h('textarea', { name: 'run', rows: '3', testid: 'start-run' }),
    dir: h('input', { type: 'text', name: 'dir', testid: 'start-dir' }),
    env: h('textarea', { name: 'env', rows: '2', testid: 'start-env', placeholder: 'KEY=VALUE per line' }),
    name: h('input', { type: 'text', name: 'name', testid: 'start-name' }),
    labels: h('textarea', { name: 'labels', rows: '2', testid: 'start-labels', placeholder: 'key=value per line' }),
    restart: h('select', { name: 'restart', testid: 'start-restart' },
      ['never', 'on_failure', 'always'].map((v) => h('option', { value: v }, v))),
  };
  const slots = Object.fromEntries(Object.keys(c).map((k) => [k, errorSlot()]));
  const general = errorSlot();
  const row = (label, key, hint) => field(label, c[key], hint, slots[key]);

  const submit = async (event) => {
    event.preventDefault();
    const body = {};
    try {
      if (c.command.value.trim()) body.command = c.command.value.trim();
      const args = c.args.value.split('\n').filter((a) => a !== '');
      if (args.length) body.args = args;
      if (c.run.value.trim()) body.run = c.run.value;
      if (c.dir.value.trim()) body.dir = c.dir.value.trim();
      body.env = pairs(c.env.value, 'env');
      if (c.name.value.trim()) body.name = c.name.value.trim();
      body.labels = pairs(c.labels.value, 'labels');
      body.restart = c.restart.value;
    } catch (error) {
      showError(slots, general, error.message, error.key);
      return;
    }
    try {
      const info = await api('POST', '/processes', body);
      window.location.hash = `#/process/${encodeURIComponent(info.id)}`;
    } catch (error) {
      showError(slots, general, error.message);
    }
  };

  return h('form', { class: 'form', testid: 'start-form', onsubmit: submit, 'aria-labelledby': 'h-start' },
    h('h2', { id: 'h-start' }, 'Start a process'),
    general,
    row('Command', 'command', 'a program on PATH, or a path'),
    row('Arguments', 'args', 'one per line'),
    row('Or a script', 'run', 'bash, instead of a command'),
    row('Directory', 'dir'),
    row('Environment', 'env'),
    row('Name', 'name'),
    row('Labels', 'labels'),
    row('Restart', 'restart'),
    h('button', { type: 'submit', testid: 'start-submit' }, 'Start'));
}

function applyForm() {
  const name = h('input', { type: 'text', name: 'name', testid: 'apply-name', required: true });
  const dir = h('input', { type: 'text', name: 'dir', testid: 'apply-dir', placeholder: "the daemon's directory" });
  const toml = h('textarea', { name: 'toml', rows: '12', testid: 'apply-toml', spellcheck: 'false', class: 'code' });
  const slots = { name: errorSlot(), dir: errorSlot(), toml: errorSlot() };
  const general = errorSlot();
  const result = h('p', { class: 'notice', role: 'status', testid: 'apply-result', hidden: true });

  const submit = async (event) => {
    event.preventDefault();
    result.hidden = true;
    const query = new URLSearchParams({ name: name.value.trim() });
    if (dir.value.trim()) query.set('dir', dir.value.trim());
    try {
      const applied = await api('POST', `/projects?${query}`, { text: toml.value, type: 'application/toml' });
      for (const slot of [...Object.values(slots), general]) slot.hidden = true;
      const changes = (applied.changes || []).map((c) => `${c.name} ${c.change}`).join(', ');
      result.replaceChildren(`Project ${applied.project.name} ${applied.created ? 'created' : 'updated'}`,
        changes ? `: ${changes}. ` : '. ', h('a', { href: '#/' }, 'Overview'));
      result.hidden = false;
    } catch (error) {
      // Errors about the file (a line, a service) go beside the text; the query's beside theirs.
      const key = /query parameter `(name|dir)`/.exec(error.message);
      showError(slots, slots.toml, error.message, key ? key[1] : 'toml');
    }
  };

  return h('form', { class: 'form', testid: 'apply-form', onsubmit: submit, 'aria-labelledby': 'h-apply' },
    h('h2', { id: 'h-apply' }, 'Apply a project'),
    general,
    field('Project name', name, null, slots.name),
    field('Directory', dir, null, slots.dir),
    field('tend.toml', toml, 'paste the file', slots.toml),
    h('button', { type: 'submit', testid: 'apply-submit' }, 'Apply'),
    result);
}

export function startPage(main) {
  mount(main, h('h1', null, 'Start'), h('div', { class: 'forms' }, startForm(), applyForm()));
}
