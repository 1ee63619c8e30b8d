// A process's page: its info, the actions on it, and its live output.

import { api, seg } from './api.js';
import { h, mount, setText } from './dom.js';
import { store } from './store.js';
import * as fmt from './format.js';
import { badge, setBadge } from './rows.js';
import { ProcessOutput } from './output.js';
import { actionBar } from './actions.js';

/** The info rows shown, in order: [label, value of info]. */
const FIELDS = [
  ['Id', (i) => i.id],
  ['Name', (i) => i.name],
  ['Command', fmt.commandLine],
  ['Directory', (i) => i.dir],
  ['PID', (i) => i.pid],
  ['Restarts', (i) => i.restarts],
  ['Exit', (i) => fmt.exitText(i)],
  ['Reason', (i) => i.reason],
  ['Started', (i) => fmt.time(i.started_at)],
  ['Ended', (i) => fmt.time(i.ended_at)],
  ['Uptime', (i) => fmt.uptime(i)],
  ['CPU', (i) => fmt.cpu(i.cpu_percent)],
  ['Memory', (i) => fmt.bytes(i.memory_bytes)],
  ['Labels', (i) => fmt.labelPairs(i.labels).join(', ')],
  ['Log file', (i) => i.log_path],
  ['Error', (i) => i.error || i.log_error],
];

export function processPage(main, id) {
  const title = h('h1', null, 'Process');
  const status = badge('pending');
  const cells = FIELDS.map(([label]) => h('dd', { testid: `info-${label.toLowerCase().replace(/ /g, '-')}` }));
  const info = h('dl', { class: 'info' }, FIELDS.map(([label], at) => [h('dt', null, label), cells[at]]));
  const problem = h('p', { class: 'notice error', role: 'alert', hidden: true });
  let current = null;
  let output = null;
  let left = false;

  const show = (next) => {
    current = next;
    setText(title, fmt.processName(next));
    setBadge(status, next.status);
    FIELDS.forEach(([, value], at) => setText(cells[at], value(next) ?? ''));
  };

  const load = async () => {
    try {
      show(await api('GET', `/processes/${seg(id)}`));
      problem.hidden = true;
      return true;
    } catch (error) {
      setText(problem, error.message);
      problem.hidden = false;
      return false;
    }
  };

  const bar = actionBar({
    id: () => (current ? String(current.id) : id),
    name: () => (current ? fmt.processName(current) : id),
    done: (answer, removed) => {
      if (removed) {
        window.location.hash = '#/';
      } else if (answer && answer.id) {
        if (String(answer.id) !== String(current.id)) {
          window.location.hash = `#/process/${encodeURIComponent(answer.id)}`;
        } else {
          show(answer);
        }
      } else {
        load();
      }
    },
  });

  mount(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Overview'), ' / process'),
    h('div', { class: 'title' }, title, status),
    problem,
    info,
    bar,
    h('h2', null, 'Output ', h('a', {
      class: 'download', testid: 'log-download',
      href: `/api/v1/processes/${seg(id)}/output?format=text`, download: `${id}.log`,
    }, 'Download full log')));

  const unsubscribe = store.subscribe((changed, lists) => {
    if (!current) return;
    const key = String(current.id);
    const fresh = store.processes.get(key);
    if (fresh && (changed.has(key) || lists)) show({ ...current, ...fresh });
  });
  const ticker = setInterval(() => {
    if (current && current.status === 'running') setText(cells[FIELDS.findIndex(([l]) => l === 'Uptime')], fmt.uptime(current));
  }, 1000);

  load().then((found) => {
    if (!found || left) return;
    output = new ProcessOutput(String(current.id));
    main.append(output.view.node);
    output.start();
  });

  return () => {
    left = true;
    unsubscribe();
    clearInterval(ticker);
    if (output) output.stop();
  };
}
