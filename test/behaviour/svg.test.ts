/**
 * `npm run table` redraws docs/timelines/*.svg: a re-run with the same outcome must give the same
 * bytes (issue 10), so jitter below a second and values that differ per run (epoch seconds in
 * token messages, curl's "after N ms", cache ages) must not reach the picture.
 */
import { describe, expect, it } from 'vitest';
import { image } from '../bed/images';
import type { TimelineEvent } from '../bed/runner';
import { LATE_THEN_DIES, Run } from './model';
import { timelineSvg } from './svg';

function fakeRun(jitter: number, epoch: number, ms: number): Run {
  const j = (t: number) => +(t + jitter).toFixed(4);
  const timeline: TimelineEvent[] = [
    { t: 0, type: 'fault', label: 'NMI Not Active', state: { nmi: 'not-active' } },
    { t: j(0.1), type: 'start' },
    { t: j(4.05), type: 'probe', probe: 'startup', ok: false, timedOut: false, output: `identity-health: federated token expired at ${epoch} (cached 3s ago)`, ms: 40 },
    { t: j(20.1), type: 'probe', probe: 'readiness', ok: true, timedOut: false, output: '', ms: 40 },
    { t: j(20.15), type: 'ready' },
    { t: j(50.2), type: 'probe', probe: 'liveness', ok: false, timedOut: false, output: `curl: (7) Failed to connect to 127.0.10.4 port 8085 after ${ms} ms: Couldn't connect to server`, ms: 40 },
    { t: j(54.2), type: 'notready' },
    { t: j(78.2), type: 'restart', probe: 'liveness' },
    { t: j(60.2), type: 'request', kind: 'token' },
  ];
  return { strategy: 'identity-probes', scenario: LATE_THEN_DIES, image: image('busybox', 'curl'), options: {}, result: { timeline, duration: 150 } };
}

describe('timeline pictures', () => {
  it('are byte-identical for runs with the same outcome (sub-second jitter, per-run numbers in messages)', () => {
    const a = timelineSvg(fakeRun(0, 1764650000, 0), 't');
    for (const [jitter, epoch, ms] of [[0.03, 1764650123, 3], [-0.04, 1764659999, 12], [0.2, 1764650001, 0]]) {
      expect(timelineSvg(fakeRun(jitter, epoch, ms), 't')).toBe(a);
    }
    expect(a).not.toMatch(/(?:x|x1|x2|cx|width)="[0-9]+\.[0-9]{2,}"/); // coordinates with one decimal at most
    expect(a).toContain('NotReady +4 s, restart +28 s');
  });

  it('still shows a different outcome', () => {
    const other = fakeRun(0, 1764650000, 0);
    (other.result.timeline as TimelineEvent[]).splice(7, 1); // no restart
    expect(timelineSvg(other, 't')).not.toBe(timelineSvg(fakeRun(0, 1764650000, 0), 't'));
  });
});
