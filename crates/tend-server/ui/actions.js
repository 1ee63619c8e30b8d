// The buttons acting on a process. Each destructive one asks first; a refusal shows the
// API's own message.

import { api, seg } from './api.js';
import { h, setText, field } from './dom.js';
import { confirmAction } from './dialog.js';

const SIGNALS = ['HUP', 'INT', 'QUIT', 'USR1', 'USR2', 'TERM', 'KILL', 'CONT', 'STOP', 'WINCH'];

/**
 * `id()` and `name()` give the process acted on; `done(answer, removed)` is told what the
 * API answered.
 */
export function actionBar({ id, name, done }) {
  const message = h('p', { class: 'notice error', role: 'alert', testid: 'action-error', hidden: true });
  const grace = h('input', { type: 'text', size: '6', value: '5s', testid: 'stop-grace', 'aria-label': 'Grace before SIGKILL' });
  const signal = h('select', { testid: 'signal-name', 'aria-label': 'Signal' }, SIGNALS.map((s) => h('option', { value: s }, `SIG${s}`)));
  const line = h('input', { type: 'text', testid: 'input-line', placeholder: 'A line for its stdin', 'aria-label': 'Line for stdin' });

  /** Asks (when `question`), calls the API, reports. */
  const act = async (question, label, method, path, body, removed = false) => {
    if (question && !(await confirmAction(question, label))) return;
    message.hidden = true;
    try {
      const answer = await api(method, `/processes/${seg(id())}${path}`, body);
      done(answer, removed);
    } catch (error) {
      setText(message, `${label}: ${error.message}`);
      message.hidden = false;
    }
  };

  const sendLine = (event) => {
    event.preventDefault();
    const text = line.value;
    act(null, 'Send', 'POST', '/input', { data: `${text}\n` }).then(() => {
      if (message.hidden) line.value = '';
    });
  };

  return h('div', { class: 'actions' },
    h('div', { class: 'buttons' },
      h('label', { class: 'inline' }, 'Grace ', grace),
      h('button', {
        type: 'button', testid: 'action-stop',
        onclick: () => act(`Stop ${name()}? It gets its stop signal, then SIGKILL after the grace.`,
          'Stop', 'POST', '/stop', grace.value.trim() ? { grace: grace.value.trim() } : {}),
      }, 'Stop'),
      h('button', {
        type: 'button', testid: 'action-restart',
        onclick: () => act(`Restart ${name()}?`, 'Restart', 'POST', '/restart', {}),
      }, 'Restart'),
      h('button', {
        type: 'button', class: 'danger', testid: 'action-kill',
        onclick: () => act(`Kill ${name()} now with SIGKILL?`, 'Kill', 'POST', '/kill', {}),
      }, 'Kill'),
      signal,
      h('button', {
        type: 'button', testid: 'action-signal',
        onclick: () => act(`Send SIG${signal.value} to ${name()}?`, 'Signal', 'POST', '/signal', { signal: signal.value }),
      }, 'Send signal'),
      h('button', {
        type: 'button', class: 'danger', testid: 'action-remove',
        onclick: () => act(`Remove ${name()} and its output?`, 'Remove', 'DELETE', '', undefined, true),
      }, 'Remove')),
    h('form', { class: 'buttons', onsubmit: sendLine },
      field('Stdin', line),
      h('button', { type: 'submit', testid: 'action-input' }, 'Send line')),
    message);
}
