// The overview: projects with their services, ad-hoc processes and pipelines, filtered and
// kept live by the store.

import { h, mount, setText, field } from './dom.js';
import { store } from './store.js';
import * as fmt from './format.js';
import { PROCESS_COLUMNS, badge, cell, gridTable, processRow, processHref, matches } from './rows.js';

const STATUSES = ['', 'running', 'pending', 'queued', 'exited', 'failed', 'killed'];

export function overviewPage(main) {
  const filter = { text: '', status: '', label: '' };
  const rows = new Map();
  const adhoc = gridTable('processes', ['Name', ...PROCESS_COLUMNS], 'process-table');
  const adhocBody = adhoc.body;
  const projectsBox = h('div', { testid: 'projects' });
  const pipelinesBody = h('tbody');
  const counts = h('span', { class: 'counts', role: 'status' });
  const adhocEmpty = h('p', { class: 'empty', hidden: true }, 'No ad-hoc processes.');

  const onFilter = () => {
    filter.text = textInput.value.trim().toLowerCase();
    filter.status = statusSelect.value;
    filter.label = labelInput.value.trim();
    applyFilter();
  };
  const textInput = h('input', { type: 'search', testid: 'filter-name', placeholder: 'name, id, command', oninput: onFilter });
  const statusSelect = h('select', { testid: 'filter-status', onchange: onFilter },
    STATUSES.map((s) => h('option', { value: s }, s || 'any')));
  const labelInput = h('input', { type: 'search', testid: 'filter-label', placeholder: 'key=value', oninput: onFilter });

  mount(main,
    h('h1', null, 'Overview'),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      field('Filter', textInput), field('Status', statusSelect), field('Label', labelInput), counts),
    h('section', { 'aria-labelledby': 'h-projects' }, h('h2', { id: 'h-projects' }, 'Projects'), projectsBox),
    h('section', { 'aria-labelledby': 'h-adhoc' }, h('h2', { id: 'h-adhoc' }, 'Processes'),
      adhoc.table, adhocEmpty),
    h('section', { 'aria-labelledby': 'h-pipelines' }, h('h2', { id: 'h-pipelines' }, 'Pipelines'),
      h('table', { class: 'grid', testid: 'pipeline-table' },
        h('thead', null, h('tr', null, ['Pipeline', 'Status', 'Mode', 'Steps', 'Passed', 'Failed', 'Created', 'Duration'].map((c) => h('th', null, c)))),
        pipelinesBody)));

  /** Ids of processes shown in a project or pipeline rather than among the ad-hoc ones. */
  const owned = () => {
    const projects = new Set(store.projects.map((p) => p.name));
    const pipelines = new Set(store.pipelines.map((p) => p.id));
    return (info) => {
      const labels = info.labels || {};
      return projects.has(labels.project) || pipelines.has(labels.pipeline);
    };
  };

  const drawAdhoc = () => {
    const isOwned = owned();
    const ids = [...store.processes.values()].filter((info) => !isOwned(info))
      .map((info) => String(info.id)).sort();
    const wanted = new Set(ids);
    for (const [id, entry] of rows) {
      if (!wanted.has(id) && entry.row.parentNode === adhocBody) {
        entry.row.remove();
        rows.delete(id);
      }
    }
    let previous = null;
    for (const id of ids) {
      let entry = rows.get(id);
      if (!entry) {
        entry = processRow(store.processes.get(id));
        rows.set(id, entry);
      }
      const expected = previous ? previous.nextSibling : adhocBody.firstChild;
      if (expected !== entry.row) adhocBody.insertBefore(entry.row, expected);
      previous = entry.row;
    }
    adhocEmpty.hidden = ids.length > 0;
  };

  const drawProjects = () => {
    // Project rows are few: drawn afresh, keeping the live rows of their processes.
    const boxes = store.projects.map((project) => {
      const { table, body } = gridTable('services', ['Service', 'State', ...PROCESS_COLUMNS]);
      for (const service of project.services) {
        const info = service.process && (store.processes.get(String(service.process.id)) || service.process);
        const name = cell(null, info ? h('a', { href: processHref(info.id) }, service.name) : service.name);
        const state = cell(null, badge(service.state, 'service-state'));
        if (info) {
          const entry = processRow(info, [name, state]);
          rows.set(String(info.id), entry);
          body.append(entry.row);
        } else {
          body.append(h('div', { role: 'row', class: 'prow', testid: `service-row-${project.name}-${service.name}` },
            name, state, cell({ class: 'wide' }, service.error || '')));
        }
      }
      return h('div', { class: 'project', testid: `project-${project.name}` },
        h('h3', null, project.name, ' ', h('span', { class: 'dim' }, project.dir)),
        project.pipeline ? h('p', null, 'Steps: ', h('a', { href: `#/pipeline/${encodeURIComponent(project.pipeline)}` }, 'pipeline')) : null,
        table);
    });
    projectsBox.replaceChildren(...(boxes.length ? boxes : [h('p', { class: 'empty' }, 'No projects.')]));
  };

  const drawPipelines = () => {
    pipelinesBody.replaceChildren(...store.pipelines.map((p) => h('tr', { testid: `pipeline-row-${p.id}` },
      h('td', null, h('a', { href: `#/pipeline/${encodeURIComponent(p.id)}` }, p.id.slice(0, 8))),
      h('td', null, badge(pipelineStatus(p))),
      h('td', null, p.mode), h('td', { class: 'num' }, p.steps),
      h('td', { class: 'num' }, p.totals ? p.totals.passed : ''),
      h('td', { class: 'num' }, p.totals ? p.totals.failed : ''),
      h('td', null, fmt.time(p.created_at)),
      h('td', { class: 'num' }, p.ended_at ? fmt.duration(new Date(p.ended_at) - new Date(p.created_at)) : ''))));
  };

  const applyFilter = () => {
    let shown = 0;
    for (const [id, entry] of rows) {
      const info = store.processes.get(id);
      const visible = !info || matches(info, filter);
      entry.row.hidden = !visible;
      if (visible) shown += 1;
    }
    setText(counts, `${shown} of ${rows.size} shown`);
  };

  const redraw = (changed, lists) => {
    if (lists) {
      drawProjects();
      drawAdhoc();
      drawPipelines();
    }
    for (const id of changed) {
      const info = store.processes.get(id);
      const entry = rows.get(id);
      if (info && entry) entry.update(info);
    }
    applyFilter();
  };

  redraw(new Set(), true);
  markPainted();
  const unsubscribe = store.subscribe(redraw);
  const ticker = setInterval(() => {
    const now = Date.now();
    for (const [id, entry] of rows) {
      const info = store.processes.get(id);
      if (info && info.status === 'running') setText(entry.uptimeCell, fmt.uptime(info, now));
    }
  }, 1000);
  return () => {
    unsubscribe();
    clearInterval(ticker);
  };
}

let painted = false;

/** Marks (User Timing) the frame after the first full draw of the overview. */
function markPainted() {
  if (painted || !store.loaded) return;
  painted = true;
  requestAnimationFrame(() => setTimeout(() => performance.mark('tend:overview-painted'), 0));
}

/** A pipeline's badge: running, passed, failed or cancelled. */
export function pipelineStatus(pipeline) {
  if (pipeline.status === 'finished') return pipeline.success ? 'passed' : 'failed';
  return pipeline.status;
}
