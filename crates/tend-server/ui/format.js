// Formatting of numbers, times and statuses for display.

/** `1.2 s`, `3m 04s`, `2h 05m`, `3d 4h` from milliseconds. */
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** `512 B`, `1.5 MiB`. */
export function bytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** CPU percent with one decimal, empty when unknown. */
export function cpu(percent) {
  return percent === null || percent === undefined ? '' : `${percent.toFixed(1)}%`;
}

/** Local date and time of an RFC 3339 timestamp. */
export function time(text) {
  if (!text) return '';
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toLocaleString();
}

/** How long a process has run: live while running, its total once ended. */
export function uptime(info, now = Date.now()) {
  if (info.status === 'running' && info.started_at) {
    return duration(now - new Date(info.started_at).getTime());
  }
  return info.duration_ms === null || info.duration_ms === undefined ? '' : duration(info.duration_ms);
}

/** How a process ended, in words: `0`, `SIGTERM`, `1`. */
export function exitText(info) {
  if (info.exit_code !== null && info.exit_code !== undefined) return String(info.exit_code);
  if (info.signal) return info.signal;
  return '';
}

/** `key=value` pairs of a labels object. */
export function labelPairs(labels) {
  return Object.entries(labels || {}).map(([key, value]) => `${key}=${value}`);
}

/** A process's command and arguments as a shell would need them typed: a word with
 * anything but letters, digits and `_/.,:=+@%-` is single-quoted, so `bash -c 'sleep 300'`
 * does not read as `bash -c sleep 300`. For reading only: nothing runs it. */
export function commandLine(info) {
  if (!info.command) return '';
  return [info.command, ...(info.args || [])].map(shellWord).join(' ');
}

function shellWord(word) {
  if (/^[A-Za-z0-9_\/.,:=+@%-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** The name to show for a process: its name, else the start of its id. */
export function processName(info) {
  return info.name || String(info.id).slice(0, 8);
}
