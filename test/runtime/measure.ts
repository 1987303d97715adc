/**
 * Measures the example service with default settings under kubelet-like probing (real time, about
 * 3 minutes): token and NMI requests per minute at the mock, and the reaction to NMI loss and to a
 * 5 s 429 burst. Not part of `npm test`; run `npx tsc -p . && npx tsx test/runtime/measure.ts`.
 *
 * Probe settings as strategy 6 sets them: startup /livez every 4 s (x45), then readiness /readyz
 * every 4 s (failureThreshold 2), liveness /livez every 10 s (failureThreshold 3), timeout 6 s.
 */
import { startMock } from '../bed/bed';
import { mockEnv, sleep, startService } from './service';

interface Event { t: number; probe: string; status: number; reason: string }

async function main(): Promise<void> {
  const mock = await startMock({ nmi: '127.0.0.1:0', imds: '127.0.0.1:0' });
  const svc = await startService({ ...mockEnv(mock), IDENTITY_HEALTH_CHECK: 'identity' });
  const t0 = Date.now();
  const now = () => (Date.now() - t0) / 1000;
  const events: Event[] = [];
  let notReadyAt: number | undefined;
  let restartAt: number | undefined;
  let readyFails = 0;
  let liveFails = 0;
  let stop = false;

  async function probe(name: string, path: string): Promise<boolean> {
    const r = await svc.get(path).catch((e) => ({ status: 0, body: { reason: String(e) }, ms: 0 }));
    events.push({ t: now(), probe: name, status: r.status, reason: r.body?.reason ?? '' });
    return r.status === 200;
  }
  // Startup probe, then readiness and liveness loops.
  for (let i = 0; i < 45 && !(await probe('startup', '/livez')); i++) await sleep(4000);
  const readiness = (async () => {
    while (!stop) {
      if (await probe('readiness', '/readyz')) readyFails = 0;
      else if (++readyFails >= 2 && notReadyAt === undefined) notReadyAt = now();
      await sleep(4000);
    }
  })();
  const liveness = (async () => {
    while (!stop) {
      if (await probe('liveness', '/livez')) liveFails = 0;
      else if (++liveFails >= 3 && restartAt === undefined) restartAt = now();
      await sleep(10_000);
    }
  })();

  // 1. Steady state: load per minute (counted in a 60 s window, and as the mean interval).
  await mock.reset();
  await sleep(60_000);
  const log = await mock.requests();
  const tokens = log.filter((r) => r.kind === 'token').map((r) => r.at);
  const gaps = tokens.slice(1).map((t, i) => (t - tokens[i]) / 1000);
  const mean = gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length);
  console.log(`steady 60 s: token requests ${tokens.length} (intervals ${gaps.map((g) => g.toFixed(1)).join(', ')} s: ${(60 / mean).toFixed(1)} per minute), NMI requests ${log.filter((r) => r.kind === 'nmi').length}`);

  // 2. A 5 s 429 burst: no restart expected.
  const burstAt = now();
  await mock.set({ token: 429 });
  await sleep(5000);
  await mock.set({ token: 'ok' });
  await sleep(40_000);
  const burstEvents = events.filter((e) => e.t >= burstAt);
  console.log(`429 burst of 5 s at ${burstAt.toFixed(1)} s: readiness failures ${burstEvents.filter((e) => e.probe === 'readiness' && e.status !== 200).length}, liveness failures ${burstEvents.filter((e) => e.probe === 'liveness' && e.status !== 200).length}, NotReady ${notReadyAt !== undefined ? `at +${(notReadyAt - burstAt).toFixed(1)} s` : 'never'}, restart ${restartAt !== undefined ? 'YES' : 'none'}`);
  notReadyAt = undefined;

  // 3. NMI loss.
  const lossAt = now();
  await mock.set({ nmi: 'down' });
  for (let i = 0; i < 60 && restartAt === undefined; i++) await sleep(1000);
  console.log(`NMI down at ${lossAt.toFixed(1)} s: NotReady after ${notReadyAt !== undefined ? (notReadyAt - lossAt).toFixed(1) : '-'} s, restart after ${restartAt !== undefined ? (restartAt - lossAt).toFixed(1) : '-'} s`);
  stop = true;
  await Promise.all([readiness, liveness]);
  await svc.stop();
  await mock.stop();
}

main().catch((e) => { console.error(e); process.exit(1); });
