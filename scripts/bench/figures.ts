/**
 * One figure of `npm run bench`: what was measured, the reference measured in the same run (or
 * "-" where the figure is an absolute bound), the target, and whether it is met. Each module
 * reports through `figure()`, which prints the line; `npm run bench -- --readme` writes every
 * module's figures into README.md between `<!-- bench:<module> -->` and `<!-- /bench:<module> -->`.
 */
/** The bench modules, in the order they run (each a file here exporting `run()`). */
export const BENCH_MODULES = ['synth', 'weight', 'cli', 'scale', 'latency'] as const;

export interface Figure {
  readonly what: string;
  readonly measured: string;
  readonly reference: string;
  readonly target: string;
  /** undefined: observed, no target. */
  readonly met?: boolean;
}

export const collected = new Map<string, Figure[]>();
let current = '';

export function startModule(name: string): void {
  current = name;
  collected.set(name, []);
}

export function figure(f: Figure): void {
  collected.get(current)?.push(f);
  const verdict = f.met === undefined ? '' : f.met ? ' -> met' : ' -> NOT met';
  console.log(`- ${f.what}: ${f.measured}${f.reference !== '-' ? ` (reference: ${f.reference})` : ''}; target ${f.target}${verdict}`);
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The markdown table of one module's figures. */
export function table(figures: readonly Figure[]): string {
  return [
    '| what | measured | reference (same run) | target | met |',
    '|---|---|---|---|---|',
    ...figures.map((f) => `| ${cell(f.what)} | ${cell(f.measured)} | ${cell(f.reference)} | ${cell(f.target)} | ${f.met === undefined ? '-' : f.met ? 'yes' : 'no'} |`),
  ].join('\n');
}

/** README text with each measured module's block replaced (blocks of modules not run stay as they are). */
export function updateReadme(readme: string, when: string): string {
  let out = readme;
  for (const [name, figures] of collected) {
    const re = new RegExp(`(<!-- bench:${name} -->\\n)[\\s\\S]*?(<!-- /bench:${name} -->)`);
    if (!re.test(out)) throw new Error(`README.md has no <!-- bench:${name} --> ... <!-- /bench:${name} --> block`);
    out = out.replace(re, (_, open, close) => `${open}${table(figures)}\n\n_${name}: ${when}_\n${close}`);
  }
  return out;
}
