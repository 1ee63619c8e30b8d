// A virtualised log view: holds up to MAX_LINES lines but keeps only the rows in sight (plus
// a margin) in the DOM, so a hundred thousand lines scroll and follow as fast as ten.

import { h, setText } from './dom.js';
import { renderAnsi, stripAnsi } from './ansi.js';

/** Lines held; beyond it the oldest tenth is dropped at once. */
export const MAX_LINES = 200000;
/** Height of one row in pixels (fixed, so positions are arithmetic). Matches app.css. */
const ROW = 18;
/** Rows drawn above and below the visible ones. */
const OVERSCAN = 20;

export const STDOUT = 0;
export const STDERR = 1;
export const MARKER = 2;

export class LogView {
  constructor() {
    this.lines = [];
    this.kinds = [];
    this.numbers = [];
    this.counter = 0;
    this.query = '';
    this.shown = null;
    this.follow = true;
    this.pending = false;
    this.programmaticTop = -1;

    this.spacer = h('div', { class: 'log-spacer' });
    this.window = h('div', { class: 'log-window' });
    this.viewport = h('div', {
      class: 'log-view', testid: 'log-view', tabindex: '0', role: 'log',
      'aria-label': 'Output', onscroll: () => this.scrolled(),
    }, this.spacer, this.window);
    this.followBox = h('input', {
      type: 'checkbox', testid: 'log-follow', checked: true,
      onchange: () => this.setFollow(this.followBox.checked),
    });
    let debounce = null;
    this.filterInput = h('input', {
      type: 'search', testid: 'log-filter', placeholder: 'Filter lines',
      'aria-label': 'Filter lines',
      // Refiltering 100,000 lines takes a while: done once typing pauses, off the handler.
      oninput: () => {
        clearTimeout(debounce);
        debounce = setTimeout(() => this.setQuery(this.filterInput.value), 120);
      },
    });
    this.counts = h('span', { class: 'dim', testid: 'log-count' });
    this.toolbar = h('div', { class: 'log-tools' },
      h('label', { class: 'inline' }, this.followBox, ' Follow'),
      h('button', { type: 'button', testid: 'log-end', onclick: () => this.setFollow(true) }, 'Jump to end'),
      this.filterInput, this.counts);
    this.node = h('div', { class: 'log' }, this.toolbar, this.viewport);
  }

  /** Adds one line of `kind` (STDOUT, STDERR or MARKER). */
  add(line, kind) {
    this.counter += 1;
    this.lines.push(line);
    this.kinds.push(kind);
    this.numbers.push(this.counter);
    if (this.lines.length > MAX_LINES) this.trim();
    if (this.shown && this.matchesAt(this.lines.length - 1)) this.shown.push(this.lines.length - 1);
    this.schedule();
  }

  /** Removes every line (the daemon restarted and replays from its start). */
  clear() {
    this.lines = [];
    this.kinds = [];
    this.numbers = [];
    if (this.shown) this.shown = [];
    this.schedule();
  }

  trim() {
    const drop = Math.floor(MAX_LINES / 10);
    this.lines.splice(0, drop);
    this.kinds.splice(0, drop);
    this.numbers.splice(0, drop);
    if (this.shown) this.refilter();
  }

  matchesAt(index) {
    return this.kinds[index] === MARKER
      || stripAnsi(this.lines[index]).toLowerCase().includes(this.query);
  }

  setQuery(text) {
    this.query = text.trim().toLowerCase();
    this.refilter();
    this.schedule();
  }

  refilter() {
    if (!this.query) {
      this.shown = null;
      return;
    }
    const shown = [];
    for (let i = 0; i < this.lines.length; i += 1) if (this.matchesAt(i)) shown.push(i);
    this.shown = shown;
  }

  setFollow(on) {
    this.follow = on;
    this.followBox.checked = on;
    this.schedule();
  }

  /** A scroll the user made away from the end pauses following. */
  scrolled() {
    const top = this.viewport.scrollTop;
    if (Math.abs(top - this.programmaticTop) > 1) {
      const atEnd = top + this.viewport.clientHeight >= this.viewport.scrollHeight - ROW;
      if (this.follow && !atEnd) this.setFollow(false);
    }
    this.schedule();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render() {
    const count = this.shown ? this.shown.length : this.lines.length;
    this.spacer.style.height = `${count * ROW}px`;
    if (this.follow) {
      const top = Math.max(0, count * ROW - this.viewport.clientHeight);
      if (this.viewport.scrollTop !== top) {
        this.viewport.scrollTop = top;
        this.programmaticTop = this.viewport.scrollTop;
      }
    }
    const height = this.viewport.clientHeight || 400;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(count, Math.ceil((this.viewport.scrollTop + height) / ROW) + OVERSCAN);
    const rows = [];
    for (let at = first; at < last; at += 1) {
      const index = this.shown ? this.shown[at] : at;
      rows.push(this.row(index));
    }
    this.window.style.transform = `translateY(${first * ROW}px)`;
    this.window.replaceChildren(...rows);
    const held = this.lines.length;
    const lines = held === 1 ? 'line' : 'lines';
    setText(this.counts, this.shown ? `${count} of ${held} ${lines} match` : `${held} ${lines}`);
  }

  row(index) {
    const kind = this.kinds[index];
    const stream = kind === STDERR ? 'stderr' : kind === MARKER ? 'marker' : 'stdout';
    const text = h('span', { class: 'text' });
    if (kind === MARKER) text.textContent = this.lines[index];
    else renderAnsi(text, this.lines[index]);
    return h('div', { class: `line ${stream}`, testid: 'log-line', 'data-stream': stream },
      h('span', { class: 'no', 'aria-hidden': 'true' }, this.numbers[index]),
      h('span', { class: 'tag', title: stream }, kind === STDERR ? 'err' : ''), text);
  }
}
