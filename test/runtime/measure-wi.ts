/**
 * Measures the example service with strategy 9's default settings plus `exchange: true` under
 * kubelet-like probing (real time, about 4.5 minutes): exchange requests per minute at the AAD
 * stand-in, and the reaction to a 5 s AAD 503 burst, to an expired token file and to a removed
 * federated identity credential. Not part of `npm test`; run
 * `npx tsc -p . && npx tsx test/runtime/measure-wi.ts`.
 *
 * Probe settings as strategy 9 sets them: startup /livez every 4 s (x45), then readiness /readyz
 * every 4 s (failureThreshold 2), liveness /livez every 10 s (failureThreshold 3).
 */
import { getStrategy } from '../../strategies';
import { CLIENT_ID, federatedToken, startAad, SUBJECT, tokenDir, webhookEnv } from './aad';
import { sleep, startService } from './service';

async function main(): Promise<void> {
  const aad = await startAad();
  const files = tokenDir();
  const plan = getStrategy('workload-identity-app-check').plan({ clientId: CLIENT_ID, exchange: true } as never) as { target: { env: ReadonlyArray<{ name: string; value?: string }> } };
  const env = { ...Object.fromEntries(plan.target.env.map((e) => [e.name, e.value ?? ''])), ...webhookEnv(aad, files.write(federatedToken())) };
  console.log(`env: ${Object.entries(env).filter(([k]) => k.startsWith('IDENTITY_HEALTH_')).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  const svc = await startService(env);
  const t0 = Date.now();
  const now = () => (Date.now() - t0) / 1000;
  let notReadyAt: number | undefined;
  let readyAgainAt: number | undefined;
  let restartAt: number | undefined;
  let readyFails = 0;
  let liveFails = 0;
  let liveFailures = 0;
  let stop = false;

  const probe = async (p: string) => (await svc.get(p).catch(() => ({ status: 0 }))).status === 200;
  for (let i = 0; i < 45 && !(await probe('/readyz')); i++) await sleep(4000);
  const readiness = (async () => {
    while (!stop) {
      if (await probe('/readyz')) {
        if (notReadyAt !== undefined && readyAgainAt === undefined) readyAgainAt = now();
        readyFails = 0;
      } else if (++readyFails >= 2 && notReadyAt === undefined) notReadyAt = now();
      await sleep(4000);
    }
  })();
  const liveness = (async () => {
    while (!stop) {
      if (await probe('/livez')) liveFails = 0;
      else {
        liveFailures++;
        if (++liveFails >= 3 && restartAt === undefined) restartAt = now();
      }
      await sleep(10_000);
    }
  })();
  const resetMarks = () => { notReadyAt = readyAgainAt = restartAt = undefined; liveFailures = 0; };

  // 1. Steady state: exchange requests in 120 s.
  aad.reset();
  await sleep(120_000);
  const at = aad.requests().map((r) => r.at);
  const gaps = at.slice(1).map((t, i) => (t - at[i]) / 1000);
  const mean = gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length);
  console.log(`steady 120 s: exchange requests ${at.length} (${(at.length / 2).toFixed(1)} per minute; intervals ${gaps.map((g) => g.toFixed(1)).join(', ')} s: ${(60 / mean).toFixed(1)} per minute)`);

  // 2. A 5 s burst of 503 at AAD: no restart expected.
  resetMarks();
  const burstAt = now();
  aad.set({ token: 503 });
  await sleep(5000);
  aad.set({ token: 'ok' });
  await sleep(40_000);
  console.log(`AAD 503 for 5 s at ${burstAt.toFixed(1)} s: NotReady ${notReadyAt !== undefined ? `after ${(notReadyAt - burstAt).toFixed(1)} s, ready again after ${readyAgainAt !== undefined ? (readyAgainAt - burstAt).toFixed(1) : '-'} s` : 'never'}, liveness failures ${liveFailures}, restart ${restartAt !== undefined ? 'YES' : 'none'}`);

  // 3. The token file expires (kubelet stopped refreshing it): seen on the next probe, cache or not.
  resetMarks();
  const expiredAt = now();
  files.write(federatedToken(-1));
  for (let i = 0; i < 60 && restartAt === undefined; i++) await sleep(1000);
  console.log(`token file expired at ${expiredAt.toFixed(1)} s: NotReady after ${notReadyAt !== undefined ? (notReadyAt - expiredAt).toFixed(1) : '-'} s, restart after ${restartAt !== undefined ? (restartAt - expiredAt).toFixed(1) : '-'} s`);
  files.write(federatedToken());
  await sleep(10_000);

  // 4. The federated identity credential is removed: seen when the cached exchange runs out.
  resetMarks();
  const ficAt = now();
  aad.set({ subject: `${SUBJECT}-removed` });
  for (let i = 0; i < 90 && restartAt === undefined; i++) await sleep(1000);
  console.log(`federated credential removed at ${ficAt.toFixed(1)} s: NotReady after ${notReadyAt !== undefined ? (notReadyAt - ficAt).toFixed(1) : '-'} s, restart after ${restartAt !== undefined ? (restartAt - ficAt).toFixed(1) : '-'} s`);

  stop = true;
  await Promise.all([readiness, liveness]);
  const leaked = /eyJ/.test(svc.output());
  await svc.stop();
  await aad.stop();
  files.cleanup();
  console.log(`token in the service log: ${leaked ? 'YES' : 'no'}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
