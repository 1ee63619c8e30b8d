// A WebSocket on /api/v1/events that survives drops: it reconnects with `since` set past the
// last event it saw, so nothing is missed or repeated, and reports its state.

const BACKOFF_MS = [250, 500, 1000, 2000];

export class EventStream {
  /**
   * `onMessage(data, text)` gets each decoded message; `accept(text)` (optional) sees the raw
   * text first and returns false to skip decoding it (cheap filtering of output lines).
   * `since`: the first seq wanted (absent: from the next event on).
   */
  constructor({ onMessage, accept, onState, since }) {
    this.onMessage = onMessage;
    this.accept = accept || (() => true);
    this.onState = onState || (() => {});
    this.nextSeq = since || null;
    this.attempt = 0;
    this.closed = false;
    this.socket = null;
    this.timer = null;
  }

  start() {
    this.connect();
    return this;
  }

  /** Starts over from `since` (e.g. 1 after the daemon restarted and numbers afresh). */
  restartFrom(since) {
    this.nextSeq = since;
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close();
    }
    clearTimeout(this.timer);
    this.connect();
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close();
    }
  }

  connect() {
    if (this.closed) return;
    const url = new URL('/api/v1/events', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.nextSeq) url.searchParams.set('since', String(this.nextSeq));
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      const resumed = this.attempt > 0;
      this.attempt = 0;
      this.onState('live', resumed);
    };
    socket.onmessage = (message) => {
      const text = message.data;
      const seq = seqOf(text);
      if (seq) this.nextSeq = seq + 1;
      if (!this.accept(text)) return;
      this.onMessage(JSON.parse(text), text);
    };
    socket.onclose = () => {
      if (this.closed || this.socket !== socket) return;
      this.onState('reconnecting', false);
      const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      this.attempt += 1;
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }
}

/** The `"seq":N` of a message without decoding all of it (0 when it has none). */
function seqOf(text) {
  const at = text.indexOf('"seq":');
  if (at < 0) return 0;
  return parseInt(text.slice(at + 6, at + 26), 10) || 0;
}
