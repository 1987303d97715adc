/** Minimal ANSI styling: on for a TTY; --color forces it (also when piped), --no-color or NO_COLOR (https://no-color.org) turns it off. */
export interface Style { bold(s: string): string; dim(s: string): string; red(s: string): string; yellow(s: string): string; green(s: string): string }

export function styleFor(stream: NodeJS.WriteStream, colorFlag: boolean | undefined): Style {
  const on = colorFlag ?? (!process.env.NO_COLOR && !!stream.isTTY);
  const wrap = (code: number, reset: number) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[${reset}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39) };
}

/** Left-aligned text table (no dependency); `width` of a cell ignores ANSI codes. */
export function table(rows: string[][]): string {
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths = rows[0].map((_, i) => rows.reduce((w, r) => Math.max(w, visible(r[i] ?? '')), 0)); // no spread: 100,000s of rows
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i] - visible(c)))).join('  ').trimEnd()).join('\n');
}

/** Words of `text` in lines of at most `width` columns (a longer word gets a line of its own), each prefixed by `indent`. */
export function wrapWords(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + w.length > width) { lines.push(indent + line); line = w; } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(indent + line);
  return lines;
}
