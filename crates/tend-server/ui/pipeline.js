// A pipeline's page: its steps in dependency order with live statuses and durations, the
// report once it finished, and cancel.

import { api, seg } from './api.js';
import { add, h, mount, setText } from './dom.js';
import { store } from './store.js';
import * as fmt from './format.js';
import { badge, processHref } from './rows.js';
import { confirmAction } from './dialog.js';
import { pipelineStatus } from './overview.js';

/** Each step's depth: 0 without dependencies, else one more than its deepest dependency. */
function depths(steps, after) {
  const depth = new Map();
  const visit = (name, trail) => {
    if (depth.has(name)) return depth.get(name);
    if (trail.has(name)) return 0;
    trail.add(name);
    const deps = after[name] || [];
    const d = deps.length ? 1 + Math.max(...deps.map((dep) => visit(dep, trail))) : 0;
    depth.set(name, d);
    return d;
  };
  for (const step of steps) visit(step.name, new Set());
  return depth;
}

/** How long a step ran, or runs so far. */
function stepDuration(step, now) {
  if (step.duration_ms !== undefined && step.duration_ms !== null) return fmt.duration(step.duration_ms);
  if (step.status === 'running' && step.started_at) return fmt.duration(now - new Date(step.started_at).getTime());
  return '';
}

export function pipelinePage(main, id) {
  const title = h('h1', null, `Pipeline ${id.slice(0, 8)}`);
  const status = badge('running', 'pipeline-status');
  const body = h('tbody');
  const summary = h('p', { testid: 'pipeline-summary' });
  const report = h('section', { testid: 'pipeline-report', hidden: true });
  const problem = h('p', { class: 'notice error', role: 'alert', testid: 'action-error', hidden: true });
  const cancel = h('button', { type: 'button', class: 'danger', testid: 'action-cancel', onclick: () => doCancel() }, 'Cancel');
  let state = null;

  const doCancel = async () => {
    if (!(await confirmAction('Cancel this pipeline? Running steps are stopped.', 'Cancel pipeline'))) return;
    try {
      draw(await api('POST', `/pipelines/${seg(id)}/cancel`));
      problem.hidden = true;
    } catch (error) {
      setText(problem, `Cancel: ${error.message}`);
      problem.hidden = false;
    }
  };

  const draw = (next) => {
    state = next;
    const steps = next.report.steps;
    const after = next.after || {};
    const depth = depths(steps, after);
    const order = steps.map((step, at) => ({ step, at }))
      .sort((a, b) => depth.get(a.step.name) - depth.get(b.step.name) || a.at - b.at);
    const now = Date.now();
    body.replaceChildren(...order.map(({ step }) => h('tr', { testid: `pipeline-step-${step.name}`, id: `step-${step.name}` },
      h('td', { class: 'num' }, depth.get(step.name)),
      h('td', null, step.name),
      h('td', { testid: 'after' }, (after[step.name] || []).join(', ')),
      h('td', null, badge(step.status)),
      h('td', { class: 'num' }, step.attempts ?? ''),
      h('td', { class: 'num' }, step.exit_code ?? step.signal ?? ''),
      h('td', { class: 'num', testid: 'duration' }, stepDuration(step, now)),
      h('td', null, step.process_id ? h('a', { href: processHref(step.process_id) }, 'output') : ''),
      h('td', null, step.blocked_by ? `blocked by ${step.blocked_by}` : (step.error || '')))));
    setBadge(next);
    const t = next.report.totals;
    setText(summary, `${next.report.mode}, ${steps.length} steps · passed ${t.passed}, failed ${t.failed}, allowed failures ${t.allowed_failures}, skipped ${t.skipped}, cancelled ${t.cancelled}${next.ended_at ? ` · took ${fmt.duration(next.report.duration_ms)}` : ''}`);
    cancel.hidden = next.status !== 'running';
    drawReport(next);
  };

  const setBadge = (next) => {
    const word = pipelineStatus({ ...next, success: next.report.success });
    setText(status, word);
    status.className = `badge s-${word}`;
  };

  const drawReport = (next) => {
    report.hidden = next.status === 'running';
    if (report.hidden) return;
    report.replaceChildren();
    add(report, [h('h2', null, 'Report'),
      next.error ? h('p', { class: 'notice error' }, next.error) : null,
      next.report.steps.map((step) => h('details', { class: 'step-report' },
        h('summary', null, `${step.name}: ${step.status}`),
        h('pre', { class: 'output' }, step.output || '(no output)')))]);
  };

  const load = async () => {
    try {
      draw(await api('GET', `/pipelines/${seg(id)}`));
    } catch (error) {
      setText(problem, error.message);
      problem.hidden = false;
    }
  };

  mount(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Overview'), ' / pipeline'),
    h('div', { class: 'title' }, title, status, cancel),
    problem, summary,
    h('table', { class: 'grid', testid: 'pipeline-steps' },
      h('thead', null, h('tr', null, ['Level', 'Step', 'After', 'Status', 'Attempts', 'Exit', 'Duration', 'Process', 'Note'].map((c) => h('th', null, c)))),
      body),
    report);

  let reload = null;
  const unlisten = store.onEvent((message) => {
    const ours = message.pipeline === id || message.event === '_daemon_restarted';
    if (!ours || reload) return;
    // A burst of step events costs one request.
    reload = setTimeout(() => {
      reload = null;
      load();
    }, 50);
  });
  const ticker = setInterval(() => {
    if (state && state.status === 'running') draw(state);
  }, 1000);
  load();
  return () => {
    unlisten();
    clearInterval(ticker);
    clearTimeout(reload);
  };
}
