// What the daemon holds, kept live: processes, projects and pipelines, loaded over the API
// and updated by the event stream. Pages subscribe and redraw what changed.

import { api, onUnauthorized } from './api.js';
import { EventStream } from './stream.js';

/** How often the lists are refetched for what events do not carry (CPU, memory, removals). */
const REFRESH_MS = 3000;

class Store {
  constructor() {
    this.processes = new Map();
    this.projects = [];
    this.pipelines = [];
    this.loaded = false;
    this.connState = 'connecting';
    this.listeners = new Set();
    this.eventListeners = new Set();
    this.scheduled = false;
    this.changedIds = new Set();
    this.listsChanged = false;
    this.refetching = null;
    this.unknownIds = false;
    this.loggedOut = false;
    this.authListeners = new Set();
    this.lastProbe = 0;
    this.stream = null;
  }

  /** Calls `listener(loggedOut)` when the session is found gone or back. */
  onAuth(listener) {
    this.authListeners.add(listener);
  }

  setLoggedOut(loggedOut) {
    if (this.loggedOut === loggedOut) return;
    this.loggedOut = loggedOut;
    for (const listener of this.authListeners) listener(loggedOut);
  }

  /** Loads the lists and starts the event stream. */
  async start() {
    onUnauthorized(() => this.setLoggedOut(true));
    this.stream = new EventStream({
      onMessage: (message) => this.apply(message),
      // The overview needs no output line: skip decoding them.
      accept: (text) => !text.includes('"event":"output"'),
      onState: (state, resumed) => this.connChanged(state, resumed),
    }).start();
    await this.refetch();
    setInterval(() => {
      if (this.connState === 'live') this.refetch().catch(() => {});
    }, REFRESH_MS);
  }

  /** Calls `listener(changedIds, listsChanged)` once per frame after changes. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `listener(message)` for every event message but output lines. */
  onEvent(listener) {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Fetches every list again (after a reconnect, and every few seconds). */
  refetch() {
    if (this.refetching) return this.refetching;
    this.refetching = (async () => {
      try {
        const [processes, projects, pipelines] = await Promise.all([
          api('GET', '/processes'),
          api('GET', '/projects'),
          api('GET', '/pipelines'),
        ]);
        const fresh = new Map(processes.map((info) => [String(info.id), info]));
        for (const id of this.processes.keys()) if (!fresh.has(id)) this.changedIds.add(id);
        for (const [id, info] of fresh) {
          const old = this.processes.get(id);
          if (!old || JSON.stringify(old) !== JSON.stringify(info)) this.changedIds.add(id);
        }
        this.processes = fresh;
        this.projects = projects;
        this.pipelines = pipelines;
        if (!this.loaded) performance.mark('tend:lists-loaded');
        this.loaded = true;
        this.setLoggedOut(false);
        this.listsChanged = true;
        this.schedule();
      } finally {
        this.refetching = null;
      }
    })();
    return this.refetching;
  }

  connChanged(state, resumed) {
    this.connState = state;
    for (const listener of this.eventListeners) listener({ event: '_conn', state });
    const label = document.querySelector('[data-testid=conn-state]');
    if (label) {
      label.textContent = state;
      label.dataset.state = state;
    }
    if (state === 'live' && resumed) this.caughtUp();
    if (state === 'reconnecting') this.probe();
  }

  /** While reconnecting: a small request tells a refused session (401) from a daemon away. */
  probe() {
    const now = Date.now();
    if (now - this.lastProbe < 2000) return;
    this.lastProbe = now;
    api('GET', '/processes?status=queued').catch(() => {});
  }

  /**
   * After a reconnect: fetch the lists again. If the daemon restarted (our session was gone,
   * or it no longer knows our processes), its event numbers start over: stream from 1.
   */
  async caughtUp() {
    const wasLoggedOut = this.loggedOut;
    try {
      await this.refetch();
    } catch {
      return;
    }
    if (wasLoggedOut) {
      this.stream.restartFrom(1);
      for (const listener of this.eventListeners) listener({ event: '_daemon_restarted' });
    }
  }

  apply(message) {
    for (const listener of this.eventListeners) listener(message);
    if (message.event === 'lagged') return;
    if (message.pipeline) {
      this.applyPipeline(message);
      return;
    }
    const id = message.id === undefined ? null : String(message.id);
    if (id === null) return;
    const info = this.processes.get(id);
    if (!info) {
      this.fetchSoon();
      return;
    }
    switch (message.event) {
      case 'started':
        Object.assign(info, {
          status: 'running', pid: message.pid, started_at: message.time || info.started_at,
          ended_at: null, exit_code: null, signal: null, reason: null, error: null,
        });
        break;
      case 'exited':
        Object.assign(info, {
          status: message.status, exit_code: message.exit_code, signal: message.signal,
          reason: message.reason, duration_ms: message.duration_ms, error: message.error,
          ended_at: message.time || info.ended_at, cpu_percent: null,
        });
        break;
      case 'restarted':
        Object.assign(info, { status: 'pending', restarts: message.attempt });
        break;
      default:
        return;
    }
    this.changedIds.add(id);
    this.schedule();
  }

  applyPipeline(message) {
    const pipeline = this.pipelines.find((p) => p.id === message.pipeline);
    if (!pipeline || message.event === 'pipeline_started') {
      this.fetchSoon();
      return;
    }
    if (message.event === 'pipeline_finished') {
      Object.assign(pipeline, {
        status: message.status, success: message.success, ended_at: message.time,
        totals: message.totals || pipeline.totals,
      });
    }
    this.listsChanged = true;
    this.schedule();
  }

  /** A burst of unknown ids costs one refetch, not one request each. */
  fetchSoon() {
    if (this.unknownIds) return;
    this.unknownIds = true;
    setTimeout(() => {
      this.unknownIds = false;
      this.refetch().catch(() => {});
    }, 100);
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      const changed = this.changedIds;
      const lists = this.listsChanged;
      this.changedIds = new Set();
      this.listsChanged = false;
      for (const listener of this.listeners) listener(changed, lists);
    });
  }
}

/** The one store of the page. */
export const store = new Store();
