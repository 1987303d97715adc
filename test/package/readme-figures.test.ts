/**
 * The README's "Measured figures" are written by `npm run bench -- --readme`
 * (scripts/bench/figures.ts): one generated block per bench module.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BENCH_MODULES, collected, figure, startModule, table, updateReadme } from '../../scripts/bench/figures';

const README = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');

afterEach(() => collected.clear());

describe('bench figures in the README', () => {
  it('the README has a generated, non-empty block for every bench module', () => {
    for (const m of BENCH_MODULES) {
      const block = new RegExp(`<!-- bench:${m} -->\\n([\\s\\S]*?)<!-- /bench:${m} -->`).exec(README)?.[1];
      expect(block, m).toBeDefined();
      expect(block!.startsWith(table([]).split('\n').slice(0, 2).join('\n')), m).toBe(true);
      expect(block!.split('\n').filter((l) => l.startsWith('| ')).length, m).toBeGreaterThan(1);
      expect(block, m).toMatch(new RegExp(`_${m}: \\d{4}-\\d{2}-\\d{2}, \\d+ cores, load `));
    }
  });

  it('--readme replaces only the blocks of the modules that ran, and says when', () => {
    const text = 'intro\n<!-- bench:cli -->\nold cli\n<!-- /bench:cli -->\nmiddle\n<!-- bench:scale -->\nold scale\n<!-- /bench:scale -->\nend\n';
    startModule('cli');
    figure({ what: 'a | b', measured: '1 ms = 0.1x', reference: 'ref 10 ms', target: '<= 0.15x', met: true });
    figure({ what: 'observed', measured: '3', reference: '-', target: '-' });
    const out = updateReadme(text, 'today');
    expect(out).toBe('intro\n<!-- bench:cli -->\n| what | measured | reference (same run) | target | met |\n|---|---|---|---|---|\n'
      + '| a \\| b | 1 ms = 0.1x | ref 10 ms | <= 0.15x | yes |\n| observed | 3 | - | - | - |\n\n_cli: today_\n<!-- /bench:cli -->\n'
      + 'middle\n<!-- bench:scale -->\nold scale\n<!-- /bench:scale -->\nend\n');
    // Idempotent: a second write of the same figures changes nothing.
    expect(updateReadme(out, 'today')).toBe(out);
  });

  it('a README without the block of a module that ran is an error, not a silent skip', () => {
    startModule('weight');
    expect(() => updateReadme('no blocks here\n', 'today')).toThrow(/no <!-- bench:weight -->/);
  });
});
