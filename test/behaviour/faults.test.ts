/**
 * Faults beyond the table's three columns, each run against the stand-in as upstream behaves
 * (test/bed/mock-identity.mjs): the identity removed from the VMSS (NMI 403), the binding gone
 * (NMI 404, managed and standard mode), NMI unable to reach the API server (500), NMI's SIGTERM
 * window (rules removed, Active for 10 s), proxy env in every container, and for workload
 * identity a pod the webhook did not mutate or whose ServiceAccount lacks the client-id
 * annotation. What each strategy does (NotReady / restart / nothing) must be the decision in
 * model.ts FAULT_EXPECTED: a restart only where one can help.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bed, requireTools, startBed } from '../bed/bed';
import { FAULT_EXPECTED, faultScenarios, reactionOf, run, STRATEGY_IDS, WORKLOAD_IDENTITY_STRATEGY_IDS } from './model';

describe('faults beyond the table: what each strategy does', () => {
  let bed: Bed;
  beforeAll(async () => { requireTools(['busybox', 'dash', 'curl', 'ip', 'unshare']); bed = await startBed(); });
  afterAll(async () => { await bed?.stop(); });

  for (const id of [...STRATEGY_IDS, ...WORKLOAD_IDENTITY_STRATEGY_IDS]) {
    for (const sc of faultScenarios(id, { essential: true })) {
      it(`${id}, ${sc.id}: ${FAULT_EXPECTED[id][sc.id]}`, async () => {
        const r = await run(bed, id, sc);
        const why = r.result.timeline.filter((e) => e.type !== 'request').map((e) => `${e.t.toFixed(1)}s ${e.type}${'output' in e && e.output ? `: ${e.output.slice(0, 300)}` : ''}`).join('\n');
        expect(reactionOf(r).cell, why).toBe(FAULT_EXPECTED[id][sc.id]);
      });
    }
  }
});
