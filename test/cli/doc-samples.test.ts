/**
 * The docs' command samples are real output: every ```console block of README.md, docs/cli.md
 * and docs/pipelines.md is run, command by command, in one scratch directory per document (so an
 * `apply -i` changes what a later `audit` sees), and its output (stdout and stderr, as a terminal
 * shows them) must equal what the document prints. A line `...` stands for any lines. The files
 * the samples read are the document's own ```yaml blocks whose first line is `# <path>`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from './helpers';

interface Step { command: string; expected: string[] }

export function samplesOf(markdown: string): { files: Map<string, string>; sessions: Step[][] } {
  const files = new Map<string, string>();
  const sessions: Step[][] = [];
  for (const m of markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)) {
    const [, lang, body] = m;
    const file = /^# (\S+\.ya?ml)\n/.exec(body);
    if (lang === 'yaml' && file) files.set(file[1], body);
    if (lang !== 'console') continue;
    const steps: Step[] = [];
    for (const line of body.replace(/\n$/, '').split('\n')) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [] });
      else if (steps.length) steps[steps.length - 1].expected.push(line);
      else throw new Error(`console block starts without a command: ${line}`);
    }
    sessions.push(steps);
  }
  return { files, sessions };
}

/** Whether `actual` lines match `expected`, where a `...` line matches any run of lines. */
export function matches(actual: string[], expected: string[]): boolean {
  if (!expected.length) return !actual.length;
  if (expected[0] === '...') return Array.from({ length: actual.length + 1 }, (_, i) => i).some((i) => matches(actual.slice(i), expected.slice(1)));
  return actual.length > 0 && actual[0].trimEnd() === expected[0].trimEnd() && matches(actual.slice(1), expected.slice(1));
}

const DOCS = ['README.md', 'docs/cli.md', 'docs/pipelines.md'];

describe.each(DOCS)('%s: console samples are real output', (doc) => {
  const { files, sessions } = samplesOf(fs.readFileSync(path.join(ROOT, doc), 'utf8'));

  it('has samples, and every one matches a real run', { timeout: 300_000 }, () => {
    expect(sessions.length, `${doc} has no console samples`).toBeGreaterThan(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-docs-'));
    const bin = path.join(dir, '.bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'identity-health'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`, { mode: 0o755 });
    for (const [f, text] of files) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), text);
    }
    const env = { ...process.env, NO_COLOR: '1', PATH: `${bin}:${process.env.PATH}` };
    delete env.COLUMNS;
    let last = 0;
    try {
      for (const step of sessions.flat()) {
        // `echo $?` shows the previous command's exit code, as in the shell session the doc shows.
        const r = spawnSync('sh', ['-c', `(exit ${last}); { ${step.command}\n} 2>&1`], { cwd: dir, env, encoding: 'utf8', input: '' });
        last = r.status ?? -1;
        const actual = r.stdout.replace(/\n$/, '').split('\n').filter((l, i, all) => !(all.length === 1 && l === ''));
        if (!matches(actual, step.expected)) {
          expect(actual.join('\n'), `${doc}: $ ${step.command}`).toBe(step.expected.join('\n'));
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the sample matcher', () => {
  it('matches exact lines, `...` for any run of lines, and nothing else', () => {
    expect(matches(['a', 'b', 'c'], ['a', '...', 'c'])).toBe(true);
    expect(matches(['a', 'c'], ['a', '...', 'c'])).toBe(true);
    expect(matches(['a', 'b'], ['a', 'c'])).toBe(false);
    expect(matches(['a', 'b'], ['a'])).toBe(false);
    expect(matches(['a', 'b', 'x'], ['a', '...'])).toBe(true);
  });
});
