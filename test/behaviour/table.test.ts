/**
 * The strategy table of DESIGN.md, computed from runs of the generated checks (not from the YAML):
 * each strategy's manifest runs in the kubelet runner against the mock NMI/IMDS through the
 * scenarios the columns are defined by (model.ts TABLE_SCENARIOS).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStrategy } from '../../strategies';
import { Bed, requireTools, startBed } from '../bed/bed';
import { EXPECTED, observeRow, Row, STRATEGY_IDS, StrategyId, tableMarkdown } from './model';

describe('strategy table, observed', () => {
  let bed: Bed;
  const rows: Partial<Record<StrategyId, Row>> = {};
  beforeAll(async () => { requireTools(['busybox', 'dash', 'curl', 'ip', 'unshare']); bed = await startBed(); });
  afterAll(async () => { await bed?.stop(); });

  for (const id of STRATEGY_IDS) {
    it(`${id}: observed row equals the table in DESIGN.md and the strategy's claims`, async () => {
      const { row, runs } = await observeRow(bed, id);
      rows[id] = row;
      const why = Object.values(runs).map((r) => `${r.scenario.id}: ${r.result.timeline.filter((e) => e.type !== 'request' && e.type !== 'probe').map((e) => `${e.t}s ${e.type}`).join(', ')}`).join('\n');
      expect(row, why).toEqual(EXPECTED[id]);
      const c = getStrategy(id).claims;
      expect(row).toEqual({ startGated: c.startGated, runtime: c.runtime, otherFaults: c.otherFaults });
    });
  }

  it('prints as markdown with every row observed', () => {
    const md = tableMarkdown(rows);
    expect(md).not.toContain('not yet observed');
    expect(md.split('\n')).toHaveLength(2 + STRATEGY_IDS.length);
  });
});
