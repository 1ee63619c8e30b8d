// ANSI escape sequences in output lines: SGR colours and bold become styled spans, every
// other escape sequence is removed. Text always goes in as text nodes.

// CSI sequences (ESC [ params final), OSC (ESC ] ... BEL or ESC \), charset designations
// (ESC ( B), other two-byte escapes, a lone ESC.
const ESCAPES = /\x1b\[([0-9;:?<=>]*)[ -\/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[()*+][0-9A-Za-z]|\x1b[@-Z\\-_]?/g;

/** The line without escape sequences (what the filter searches). */
export function stripAnsi(line) {
  return line.includes('\x1b') ? line.replace(ESCAPES, '') : line;
}

/** The 256-colour palette entry `n` (16..255) as `rgb(...)`. */
function palette(n) {
  if (n >= 232) {
    const level = 8 + (n - 232) * 10;
    return `rgb(${level},${level},${level})`;
  }
  const c = n - 16;
  const step = (v) => (v === 0 ? 0 : 55 + v * 40);
  return `rgb(${step(Math.floor(c / 36))},${step(Math.floor(c / 6) % 6)},${step(c % 6)})`;
}

/** Reads an extended colour (`5;n` or `2;r;g;b`) from `codes` at `at`: [colour, next index]. */
function extended(codes, at) {
  if (codes[at] === 5 && codes.length > at + 1) {
    const n = codes[at + 1];
    return [n < 16 ? n : palette(n), at + 2];
  }
  if (codes[at] === 2 && codes.length > at + 3) {
    return [`rgb(${codes[at + 1]},${codes[at + 2]},${codes[at + 3]})`, at + 4];
  }
  return [null, codes.length];
}

function applySgr(state, params) {
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => parseInt(p || '0', 10));
  for (let i = 0; i < codes.length; i += 1) {
    const code = codes[i];
    if (code === 0) Object.assign(state, { fg: null, bg: null, bold: false });
    else if (code === 1) state.bold = true;
    else if (code === 22) state.bold = false;
    else if (code >= 30 && code <= 37) state.fg = code - 30;
    else if (code >= 90 && code <= 97) state.fg = code - 90 + 8;
    else if (code === 39) state.fg = null;
    else if (code >= 40 && code <= 47) state.bg = code - 40;
    else if (code >= 100 && code <= 107) state.bg = code - 100 + 8;
    else if (code === 49) state.bg = null;
    else if (code === 38 || code === 48) {
      const [colour, next] = extended(codes, i + 1);
      if (code === 38) state.fg = colour;
      else state.bg = colour;
      i = next - 1;
    }
  }
}

/** Appends `text` to `node` styled as `state`. */
function appendRun(node, text, state) {
  if (!text) return;
  if (state.fg === null && state.bg === null && !state.bold) {
    node.append(text);
    return;
  }
  const span = document.createElement('span');
  span.textContent = text;
  if (state.bold) span.classList.add('ansi-bold');
  // Palette colours are classes (themed); others are set through the CSSOM, which the
  // content security policy allows (it forbids style attributes in markup).
  if (typeof state.fg === 'number') span.classList.add(`ansi-fg${state.fg}`);
  else if (state.fg) span.style.color = state.fg;
  if (typeof state.bg === 'number') span.classList.add(`ansi-bg${state.bg}`);
  else if (state.bg) span.style.backgroundColor = state.bg;
  node.append(span);
}

/** Fills `node` with `line`, its SGR colours rendered and other escapes dropped. */
export function renderAnsi(node, line) {
  if (!line.includes('\x1b')) {
    node.textContent = line;
    return;
  }
  node.textContent = '';
  const state = { fg: null, bg: null, bold: false };
  let last = 0;
  ESCAPES.lastIndex = 0;
  for (let match = ESCAPES.exec(line); match; match = ESCAPES.exec(line)) {
    appendRun(node, line.slice(last, match.index), state);
    if (match[2] === 'm') applySgr(state, match[1]);
    last = ESCAPES.lastIndex;
    if (match[0] === '') ESCAPES.lastIndex += 1;
  }
  appendRun(node, line.slice(last), state);
}
