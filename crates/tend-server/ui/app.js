// The entry point: hash routing between the pages, the login notice, the logout button.

import { h, mount } from './dom.js';
import { store } from './store.js';
import { overviewPage } from './overview.js';
import { processPage } from './process.js';
import { pipelinePage } from './pipeline.js';
import { startPage } from './start.js';

const main = document.getElementById('main');
let leave = null;

/** `#/process/ID` → ['process', 'ID']. */
function route() {
  const parts = window.location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return parts[0] ? parts : ['overview'];
}

function show() {
  if (leave) leave();
  leave = null;
  if (store.loggedOut) {
    showLoggedOut();
    return;
  }
  const [page, arg] = route();
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.toggleAttribute('aria-current', link.dataset.nav === page);
  }
  const pages = {
    overview: () => overviewPage(main),
    process: () => processPage(main, arg),
    pipeline: () => pipelinePage(main, arg),
    start: () => startPage(main),
  };
  const render = pages[page];
  if (render) {
    leave = render() || null;
  } else {
    mount(main, h('p', { class: 'notice' }, `No page “${page}”. `, h('a', { href: '#/' }, 'Overview')));
  }
}

function showLoggedOut() {
  document.body.classList.add('logged-out');
  mount(main, h('p', { class: 'notice', role: 'alert', testid: 'logged-out' },
    'Not logged in — run ', h('code', null, 'tend ui'), ' for a login link'));
}

store.onAuth((loggedOut) => {
  document.body.classList.toggle('logged-out', loggedOut);
  show();
});

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await fetch('/ui/logout', {
      method: 'POST', credentials: 'same-origin', headers: { 'X-Tend-Csrf': '1' },
    });
  } finally {
    store.setLoggedOut(true);
  }
});

window.addEventListener('hashchange', show);

async function boot() {
  try {
    await store.start();
  } catch (error) {
    if (!store.loggedOut) {
      mount(main, h('p', { class: 'notice error', role: 'alert' }, error.message));
      return;
    }
  }
  show();
}

boot();
