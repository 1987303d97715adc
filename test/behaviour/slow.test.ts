/**
 * NMI slower than the probe timeout: the exec (or the app's own bound) must end the check and
 * count it as a failure, so a hanging NMI stops traffic and restarts the container like a dead
 * one; an init container keeps waiting. These runs cost real seconds (each check waits out its
 * bound), so they run concurrently, each pod on its own bed (the clocks are per run).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStrategy } from '../../strategies';
import { Bed, requireTools, startBed } from '../bed/bed';
import { firstStart, gatedUntil, notReadyAfter, readyAt, restartAfter, run, SCENARIOS, STRATEGY_IDS } from './model';

describe.concurrent('NMI slow beyond the probe timeout', () => {
  const beds: Bed[] = [];
  beforeAll(() => requireTools(['busybox', 'dash', 'curl', 'ip', 'unshare']));
  afterAll(async () => { await Promise.all(beds.map((b) => b.stop())); });
  const sc = SCENARIOS.nmiSlow;

  for (const id of STRATEGY_IDS.filter((s) => getStrategy(s).placement !== 'init')) {
    it(`${id}: NotReady and restart while NMI is slow, Ready again after`, async () => {
      const bed = await startBed();
      beds.push(bed);
      const r = await run(bed, id, sc);
      const nr = notReadyAfter(r, sc.fault.start);
      const rs = restartAfter(r, sc.fault.start);
      expect(nr).toBeLessThanOrEqual(sc.fault.start + 12);
      expect(rs).toBeLessThanOrEqual(sc.fault.start + 45);
      // No probe outlived its timeout: the bounds in the script are below timeoutSeconds.
      for (const e of r.result.timeline) if (e.type === 'probe') expect(e.timedOut, JSON.stringify(e)).toBe(false);
      expect(readyAt(r, sc.duration - 1)).toBe(true);
    }, 90_000);
  }

  for (const id of STRATEGY_IDS.filter((s) => getStrategy(s).placement === 'init')) {
    it(`${id}: the init container keeps waiting while NMI is slow at start`, async () => {
      const bed = await startBed();
      beds.push(bed);
      const r = await run(bed, id, SCENARIOS.nmiSlowStart);
      expect(gatedUntil(r, 20)).toBe(true);
      expect(firstStart(r)! - 20).toBeLessThanOrEqual(5);
    }, 90_000);
  }
});
