// One row per process, updated in place: the overview redraws only the cells whose text
// changed, so a thousand rows stay cheap to keep live. Rows are grid rows with ARIA table
// roles rather than a <table>: each skips layout and paint while off screen
// (content-visibility), which a table row cannot.

import { h, setText } from './dom.js';
import * as fmt from './format.js';

/** The column headings of a process table (after any leading columns of the caller). */
export const PROCESS_COLUMNS = ['Status', 'PID', 'Restarts', 'CPU', 'Memory', 'Uptime', 'Exit', 'Labels', 'Command'];

/** A status badge: `<span data-testid=status class="badge s-running">running</span>`. */
export function badge(status, testid = 'status') {
  return h('span', { class: `badge s-${status}`, testid }, status);
}

/** Puts `status` on a badge made by [badge]. */
export function setBadge(node, status) {
  setText(node, status);
  const cls = `badge s-${status}`;
  if (node.className !== cls) node.className = cls;
}

/** A cell of a grid row. */
export function cell(props, ...children) {
  return h('div', { role: 'cell', ...props }, ...children);
}

/** A grid table: the header row of `columns`, and the body it returns as `body`. */
export function gridTable(kind, columns, testid) {
  const body = h('div', { role: 'rowgroup' });
  const head = h('div', { role: 'rowgroup' }, h('div', { role: 'row', class: 'prow head' },
    columns.map((c) => h('div', { role: 'columnheader' }, c))));
  const table = h('div', { role: 'table', class: `ptable ${kind}`, testid }, head, body);
  return { table, body };
}

/** The href of a process's page. */
export function processHref(id) {
  return `#/process/${encodeURIComponent(id)}`;
}

/**
 * A row for process `info`; `lead` are the leading cells (a name by default). Returns
 * `{ row, update(info) }`.
 */
export function processRow(info, lead) {
  const id = String(info.id);
  const link = h('a', { href: processHref(id) });
  const status = badge(info.status);
  const cells = {
    pid: cell({ class: 'num' }),
    restarts: cell({ class: 'num' }),
    cpu: cell({ class: 'num' }),
    memory: cell({ class: 'num' }),
    uptime: cell({ class: 'num', testid: 'uptime' }),
    exit: cell({ class: 'num', testid: 'exit' }),
    labels: cell({ class: 'labels' }),
    command: cell({ class: 'command' }),
  };
  const leading = lead || [cell(null, link)];
  const row = h('div', { role: 'row', class: 'prow', testid: `process-row-${id}` }, leading,
    cell(null, status), Object.values(cells));
  let labelsText = null;
  const update = (next) => {
    if (!lead) setText(link, fmt.processName(next));
    setBadge(status, next.status);
    setText(cells.pid, next.pid ?? '');
    setText(cells.restarts, next.restarts ?? 0);
    setText(cells.cpu, fmt.cpu(next.cpu_percent));
    setText(cells.memory, fmt.bytes(next.memory_bytes));
    setText(cells.uptime, fmt.uptime(next));
    setText(cells.exit, fmt.exitText(next));
    const pairs = fmt.labelPairs(next.labels);
    if (pairs.join('\n') !== labelsText) {
      labelsText = pairs.join('\n');
      cells.labels.replaceChildren(...pairs.map((pair) => h('span', { class: 'label' }, pair)));
    }
    setText(cells.command, fmt.commandLine(next));
  };
  update(info);
  return { row, update, uptimeCell: cells.uptime };
}

/** Whether `info` passes the overview's filters (`text`, `status`, `label`). */
export function matches(info, filter) {
  if (filter.status && info.status !== filter.status) return false;
  if (filter.label) {
    const [key, value] = filter.label.split('=');
    const labels = info.labels || {};
    if (!(key in labels)) return false;
    if (value !== undefined && labels[key] !== value) return false;
  }
  if (filter.text) {
    const haystack = [info.name, String(info.id), info.command, ...(info.args || []),
      ...fmt.labelPairs(info.labels)].join(' ').toLowerCase();
    if (!haystack.includes(filter.text)) return false;
  }
  return true;
}
