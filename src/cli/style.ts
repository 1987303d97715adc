/** Minimal ANSI styling: on for a TTY; --color forces it (also when piped), --no-color or NO_COLOR (https://no-color.org) turns it off. */
export interface Style { bold(s: string): string; dim(s: string): string; red(s: string): string; yellow(s: string): string; green(s: string): string }

export function styleFor(stream: NodeJS.WriteStream, colorFlag: boolean | undefined): Style {
  const on = colorFlag ?? (!process.env.NO_COLOR && !!stream.isTTY);
  const wrap = (code: number, reset: number) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[${reset}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39) };
}

/** Columns a cell takes on screen (ANSI codes take none). */
const visible = (s: string): number => s.replace(/\x1b\[[0-9;]*m/g, '').length;

/** Column widths to fit `row` too (grown in place); a table's rows can then be laid out one by one. */
export function widen(widths: number[], row: readonly string[]): number[] {
  row.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, visible(c)); });
  return widths;
}

/** One line of a left-aligned table with these column widths (the last cell is not padded). */
export function tableLine(row: readonly string[], widths: readonly number[]): string {
  return row.map((c, i) => (i === row.length - 1 ? c : c + ' '.repeat(widths[i] - visible(c)))).join('  ').trimEnd();
}

/** Left-aligned text table (no dependency); `width` of a cell ignores ANSI codes. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) widen(widths, r);
  return rows.map((r) => tableLine(r, widths)).join('\n');
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
