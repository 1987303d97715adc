/**
 * onConflict 'sidecar': the app already has its own probes, so the check runs in the injected
 * sidecar. The runner models one container, so the sidecar container is run as that container:
 * its readiness (which, in a pod, takes the whole pod out of Service endpoints: a pod is Ready
 * only when every container is) and its liveness (which restarts only the sidecar) react to
 * NMI as the app's own probes would. The app's probes are checked to be untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyStrategy } from '../../src/transform';
import { Bed, requireTools, startBed } from '../bed/bed';
import { defaultImage } from '../bed/images';
import { runPod } from '../bed/runner';
import { deployment, notReadyAfter, restartAfter, Run, SCENARIOS } from './model';

describe("onConflict 'sidecar'", () => {
  let bed: Bed;
  beforeAll(async () => { requireTools(['busybox', 'curl', 'ip', 'unshare']); bed = await startBed(); });
  afterAll(async () => { await bed?.stop(); });

  it.each(['nmi-probes', 'identity-probes'] as const)('%s: the sidecar goes NotReady and restarts on NMI loss; the app keeps its probes', async (id) => {
    const d = deployment();
    const own = { httpGet: { path: '/health', port: 8080 } };
    d.spec.template.spec.containers[0].readinessProbe = own;
    const r = applyStrategy(d, id, { onConflict: 'sidecar' });
    const spec = (r.doc as any).spec.template.spec;
    const [app, sidecar] = spec.containers;
    expect(app.readinessProbe).toEqual(own);
    expect(app.livenessProbe).toBeUndefined();
    expect(sidecar.name).toBe('identity-health-check');

    const sc = SCENARIOS.nmiDies;
    const annotations = (r.doc as any).spec.template.metadata.annotations;
    const result = await runPod({ bed, annotations, spec: { ...spec, containers: [sidecar] }, image: defaultImage('curl'), steps: sc.steps, duration: sc.duration });
    const run: Run = { strategy: id, scenario: sc, image: defaultImage('curl'), options: {}, result };
    const nr = notReadyAfter(run, sc.fault.start);
    const rs = restartAfter(run, sc.fault.start);
    expect(nr! - sc.fault.start).toBeLessThanOrEqual(12);
    expect(rs! - sc.fault.start).toBeLessThanOrEqual(45);
  });
});
