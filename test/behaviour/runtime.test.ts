/**
 * Targets the defaults must meet in the runner (issue 3): NMI loss -> NotReady within 12 s and
 * -> restart within 45 s (worst over fault phases) for the runtime strategies; a 5 s burst of
 * 429 or 500 restarts nothing; init strategies start the app within 5 s of NMI Active; identity
 * checks make at most 6 token requests per pod per minute (3 measured); NMI slower than the probe
 * timeout counts as a fault; IMDS's 70 s of 410 while updating is transient (no restart).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStrategy } from '../../strategies';
import { Bed, requireTools, startBed } from '../bed/bed';
import {
  BURSTS, failedProbesIn, firstStart, gatedUntil, measureLatency, notReadyAfter, readyAt, requestsPerMinute, restarts,
  run, SCENARIOS, STRATEGY_IDS, worst,
} from './model';

const runtimeIds = STRATEGY_IDS.filter((id) => getStrategy(id).placement !== 'init');
const initIds = STRATEGY_IDS.filter((id) => getStrategy(id).placement === 'init');
const identityIds = STRATEGY_IDS.filter((id) => getStrategy(id).checks === 'identity');

describe('runtime behaviour with default settings', () => {
  let bed: Bed;
  beforeAll(async () => { requireTools(['busybox', 'dash', 'curl', 'ip', 'unshare']); bed = await startBed(); });
  afterAll(async () => { await bed?.stop(); });

  for (const id of STRATEGY_IDS) {
    it(`${id}: happy path is Ready and never restarts`, async () => {
      const r = await run(bed, id, SCENARIOS.happy);
      expect(readyAt(r, 10)).toBe(true);
      expect(notReadyAfter(r, 10)).toBeUndefined();
      expect(restarts(r)).toBe(0);
      if (getStrategy(id).checks === 'identity' && getStrategy(id).placement !== 'init') {
        // Load counted at the mock, after start-up: the target is 6; one request per 20 s TTL is 3
        // (readiness refreshes the cached result, liveness reuses it), plus rounding at the edges.
        expect(requestsPerMinute(r, 'token', 30)).toBeLessThanOrEqual(3.5);
      }
    });
  }

  for (const id of runtimeIds) {
    it(`${id}: NMI loss -> NotReady within 12 s and restart within 45 s, worst over 5 fault phases`, async () => {
      const l = await measureLatency(bed, id, 5);
      expect(worst(l.notReady), `NotReady latencies ${l.notReady}`).toBeLessThanOrEqual(12);
      expect(worst(l.restart), `restart latencies ${l.restart}`).toBeLessThanOrEqual(45);
    });
  }

  for (const id of STRATEGY_IDS) {
    it(`${id}: single 5 s bursts of 429 and of 500 restart nothing`, async () => {
      const seen = identityIds.includes(id) && getStrategy(id).placement !== 'init';
      // The bursts must meet a token request (else the run proves nothing for identity checks),
      // counted at the mock. The token cycle is 20 or 24 s depending on where the request falls
      // on the 4 s probe grid, which drifts with the machine's load, so a run whose bursts all
      // fell between requests is run again with the bursts 2 s later (at most 3 runs; every run
      // must restart nothing).
      let hit = 0;
      for (let attempt = 0; attempt < 3 && (attempt === 0 || (seen && hit === 0)); attempt++) {
        const shift = 2 * attempt;
        const sc = { ...SCENARIOS.burst, steps: SCENARIOS.burst.steps.map((st) => ({ ...st, at: st.at + shift })) };
        const r = await run(bed, id, sc);
        const why = r.result.timeline.filter((e) => e.type !== 'probe' || !e.ok).map((e) => `${e.t} ${e.type} ${'probe' in e ? e.probe : ''}${'kind' in e ? e.kind : ''} ${'output' in e ? e.output.slice(0, 80) : ''}`).join('\n');
        expect(restarts(r), why).toBe(0);
        expect(readyAt(r, SCENARIOS.burst.duration - 1)).toBe(true);
        hit = BURSTS.filter((bu) => r.result.timeline.some((e) => e.type === 'request' && e.kind === 'token' && e.t >= bu.at + shift && e.t < bu.at + shift + 5)).length;
        if (seen && hit > 0) expect(failedProbesIn(r, BURSTS[0].at + shift, SCENARIOS.burst.duration), why).toBeGreaterThan(0);
      }
      if (seen) expect(hit, `no burst met a token request in 3 runs`).toBeGreaterThan(0);
    });
  }

  for (const id of identityIds.filter((i) => getStrategy(i).placement !== 'init')) {
    it(`${id}: token 410 for 70 s (IMDS updating) makes the pod NotReady but restarts nothing`, async () => {
      const r = await run(bed, id, SCENARIOS.imds410);
      expect(failedProbesIn(r, 30, 100)).toBeGreaterThan(0);
      expect(restarts(r)).toBe(0);
      expect(readyAt(r, SCENARIOS.imds410.duration - 1)).toBe(true);
    });
  }

  for (const id of initIds) {
    it(`${id}: the app starts within 5 s of NMI becoming Active`, async () => {
      const r = await run(bed, id, SCENARIOS.nmiLate);
      expect(gatedUntil(r, 20)).toBe(true);
      expect(firstStart(r)! - 20).toBeLessThanOrEqual(5);
    });
  }
});
