// A modal confirmation for actions that destroy something. Keyboard: focus starts on
// Cancel; Escape cancels; Enter on the focused button chooses it.

import { h } from './dom.js';

/** Resolves true when the user confirms `question` with the `action` button. */
export function confirmAction(question, action) {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', testid: 'confirm-cancel', onclick: () => done(false) }, 'Cancel');
    const ok = h('button', { type: 'button', class: 'danger', testid: 'confirm-ok', onclick: () => done(true) }, action);
    const dialog = h('dialog', { class: 'confirm', 'aria-label': action, testid: 'confirm' },
      h('p', null, question), h('div', { class: 'buttons' }, cancel, ok));
    let answered = false;
    function done(answer) {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(answer);
    }
    dialog.addEventListener('cancel', () => done(false));
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
