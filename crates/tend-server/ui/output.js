// A process's output for its log view: every event of it the daemon still holds (replayed
// from seq 1), then live, resuming after a drop from the last seq seen.

import { EventStream } from './stream.js';
import { store } from './store.js';
import { LogView, STDOUT, STDERR, MARKER } from './logview.js';

export class ProcessOutput {
  constructor(id) {
    this.id = id;
    this.view = new LogView();
    this.stream = null;
    this.unlisten = null;
  }

  start() {
    const needle = `"id":${JSON.stringify(this.id)}`;
    this.stream = new EventStream({
      since: 1,
      // Only this process's events are decoded.
      accept: (text) => text.includes(needle),
      onMessage: (message) => this.apply(message),
    }).start();
    this.unlisten = store.onEvent((message) => {
      if (message.event === '_daemon_restarted') {
        this.view.clear();
        this.view.add('── the daemon restarted ──', MARKER);
        this.stream.restartFrom(1);
      }
    });
  }

  stop() {
    if (this.stream) this.stream.close();
    if (this.unlisten) this.unlisten();
  }

  apply(message) {
    const view = this.view;
    switch (message.event) {
      case 'output':
        view.add(message.line, message.stream === 'stderr' ? STDERR : STDOUT);
        break;
      case 'started':
        if (view.lines.length > 0) view.add(`── started again, pid ${message.pid} ──`, MARKER);
        break;
      case 'restarted': {
        const how = ending(message);
        view.add(`── restart ${message.attempt}${how ? ` after ${how}` : ''} ──`, MARKER);
        break;
      }
      case 'exited': {
        const how = ending(message) || message.error;
        view.add(`── ${message.status}${how ? ` (${how})` : ''} ──`, MARKER);
        break;
      }
      default:
        break;
    }
  }
}

/** How a run ended: `exit code 1`, `SIGTERM`, or empty. */
function ending(message) {
  if (message.exit_code !== null && message.exit_code !== undefined) return `exit code ${message.exit_code}`;
  return message.signal || '';
}
