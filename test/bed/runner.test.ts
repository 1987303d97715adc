/**
 * The kubelet runner itself, on hand-written pods whose probes only curl the mock NMI: thresholds,
 * startup gating, initialDelaySeconds, timeoutSeconds (the exec is killed) and the restart
 * back-off. The probe results follow the mock's state, which the steps change on the virtual clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container, Probe } from '../../src/pod-template/types';
import { Bed, HOST_IP, NMI_PORT, requireTools, startBed } from './bed';
import { image } from './images';
import { runPod, TimelineEvent } from './runner';

const NMI = `http://${HOST_IP}:${NMI_PORT}/healthz`;
const probe = (cmd: string, t: Partial<Probe>): Probe => ({ exec: { command: ['/bin/sh', '-c', cmd] }, timeoutSeconds: 5, ...t });
const app = (c: Partial<Container>): Container => ({ name: 'app', ...c });
// Floor: an event is logged when its command ends, a little after its slot on the grid.
const times = (tl: TimelineEvent[], type: TimelineEvent['type']) => tl.filter((e) => e.type === type).map((e) => Math.floor(e.t));

describe('kubelet runner', () => {
  let bed: Bed;
  beforeAll(async () => { requireTools(['busybox', 'curl', 'ip']); bed = await startBed(); });
  afterAll(async () => { await bed?.stop(); });

  it('gates on the startup probe, delays liveness, flips readiness after the thresholds', async () => {
    const check = `curl -sf --max-time 2 ${NMI}`;
    const { timeline } = await runPod({
      bed, image: image('busybox', 'curl'), duration: 70,
      spec: { containers: [app({
        startupProbe: probe(check, { periodSeconds: 2, failureThreshold: 5 }),
        readinessProbe: probe(check, { periodSeconds: 4, failureThreshold: 3, successThreshold: 2 }),
        livenessProbe: probe(check, { periodSeconds: 10, failureThreshold: 3, initialDelaySeconds: 12 }),
      })] },
      steps: [
        { at: 0, label: 'down', state: { nmi: 'down' } }, { at: 5, label: 'up', state: { nmi: 'active' } },
        { at: 30, label: 'down', state: { nmi: 'down' } }, { at: 50, label: 'up', state: { nmi: 'active' } },
      ],
    });
    const runs = (p: string) => timeline.filter((e) => e.type === 'probe' && e.probe === p).map((e) => `${Math.floor(e.t)}${(e as any).ok ? '+' : '-'}`);
    // Startup every 2 s until it passes (at 6), then stops; readiness and liveness wait for it.
    expect(runs('startup')).toEqual(['0-', '2-', '4-', '6+']);
    // Readiness on its 4 s grid from the container start, first after startup passed.
    expect(runs('readiness').slice(0, 2)).toEqual(['8+', '12+']);
    // Liveness on its 10 s grid, not before 12 s; two failures (30, 40) are under its threshold of 3.
    expect(runs('liveness')).toEqual(['20+', '30-', '40-', '50+', '60+']);
    // Ready after 2 successes (12); NotReady after 3 failures (32, 36, 40); Ready after 2 successes (52, 56).
    expect(times(timeline, 'ready')).toEqual([12, 56]);
    expect(times(timeline, 'notready')).toEqual([40]);
    expect(times(timeline, 'restart')).toEqual([]);
  });

  it('kills an exec at timeoutSeconds and restarts with the crash back-off (0, 10, 20, 40 s)', async () => {
    const { timeline } = await runPod({
      bed, image: image('busybox', 'curl'), duration: 80,
      spec: { containers: [app({ livenessProbe: probe(`curl -s ${NMI}`, { periodSeconds: 10, failureThreshold: 1, timeoutSeconds: 1 }) })] },
      steps: [{ at: 0, label: 'hang', state: { nmi: 'hang' } }],
    });
    const probes = timeline.filter((e): e is Extract<TimelineEvent, { type: 'probe' }> => e.type === 'probe');
    for (const p of probes) {
      expect(p).toMatchObject({ ok: false, timedOut: true });
      expect(p.ms).toBeGreaterThanOrEqual(1000);
      expect(p.ms).toBeLessThan(2000);
    }
    const starts = timeline.filter((e) => e.type === 'start').map((e) => e.t);
    const restarts = timeline.filter((e) => e.type === 'restart').map((e) => e.t);
    const waits = restarts.slice(0, starts.length - 1).map((r, i) => Math.round(starts[i + 1] - r));
    expect(waits).toEqual([0, 10, 20, 40].slice(0, waits.length));
    expect(waits.length).toBeGreaterThanOrEqual(3);
  });

  it('runs init containers in order and starts the app only after the last one succeeded', async () => {
    const { timeline } = await runPod({
      bed, image: image('dash', 'curl'), duration: 30,
      spec: {
        initContainers: [
          { name: 'first', command: ['/bin/sh', '-c', 'echo first'] },
          { name: 'second', command: ['/bin/sh', '-c', `until curl -sf --max-time 1 ${NMI}; do sleep 3; done`] },
        ],
        containers: [app({})],
      },
      steps: [{ at: 0, label: 'down', state: { nmi: 'down' } }, { at: 10, label: 'up', state: { nmi: 'active' } }],
    });
    const inits = timeline.filter((e) => e.type === 'init').map((e) => `${(e as any).container}@${Math.floor(e.t)}`);
    // The second one's loop sleeps on the virtual clock: tries at 0, 3, 6, 9, 12.
    expect(inits).toEqual(['first@0', 'second@12']);
    expect(times(timeline, 'start')).toEqual([12]);
    expect(times(timeline, 'ready')).toEqual([12]);
  });
});
