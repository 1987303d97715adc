/**
 * The generated commands in every shell x client combination a strategy supports (BusyBox sh and
 * dash; curl and BusyBox wget), a clear message when the client or HOST_IP is missing, the
 * token faults the checks must tell apart, proxy env that must not be used, and which options
 * catch "NMI gone, token requests reach IMDS".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStrategy } from '../../strategies';
import { Bed, NODE_MI, POD_MI, requireTools, startBed } from '../bed/bed';
import { Client, image, IMAGES, Shell } from '../bed/images';
import { TimelineEvent } from '../bed/runner';
import {
  DEAD_PROXY, FAULT_SCENARIOS, firstStart, gatedUntil, LATE_THEN_DIES, NODE_IDENTITY_VARIANTS, notReadyAfter, observeNodeIdentity, readyAt, restartAfter, run, Scenario,
  STRATEGY_IDS,
} from './model';

const execIds = STRATEGY_IDS.filter((id) => getStrategy(id).placement !== 'app');
const outputs = (tl: TimelineEvent[]) => tl.flatMap((e) => (e.type === 'probe' || e.type === 'init' ? [e.output] : []));
const brief = (id: string, state: object): Scenario => ({ id, title: id, duration: 3, fault: { start: 0, end: 3 }, steps: [{ at: 0, label: id, state }] });

describe('generated commands in real shells', () => {
  let bed: Bed;
  beforeAll(async () => { requireTools(['busybox', 'dash', 'curl', 'ip', 'unshare']); bed = await startBed(); });
  afterAll(async () => { await bed?.stop(); });

  for (const id of execIds) {
    for (const img of IMAGES) {
      it(`${id} with ${img.id} (${img.standsFor}): gated until NMI is Active${getStrategy(id).placement === 'probes' ? ', NotReady and restart when it goes' : ''}`, async () => {
        const r = await run(bed, id, LATE_THEN_DIES, { image: img, options: { client: img.client } });
        expect(gatedUntil(r, 20)).toBe(true);
        expect(readyAt(r, 45)).toBe(true);
        const out = outputs(r.result.timeline).join('\n');
        expect(out).toContain('is not active (body: Not Active)');
        if (getStrategy(id).placement === 'probes') {
          expect(notReadyAfter(r, 50)).toBeDefined();
          expect(restartAfter(r, 50)).toBeDefined();
          expect(out).toContain('unreachable');
        }
      });
    }
  }

  for (const id of ['nmi-init', 'identity-probes'] as const) {
    for (const shell of ['busybox', 'dash'] as Shell[]) {
      for (const client of ['curl', 'wget'] as Client[]) {
        it(`${id}, ${shell} without ${client}: the message names the missing binary`, async () => {
          const r = await run(bed, id, brief('no-client', {}), { image: image(shell, 'none'), options: { client } });
          const out = outputs(r.result.timeline);
          expect(out.length).toBeGreaterThan(0);
          expect(out[0]).toContain(`identity-health: ${client} not found in this container`);
          expect(readyAt(r, 3)).toBe(false);
        });
      }
    }
  }

  // The identity claim check decodes the JWT with the image's own tr and base64. NMI and IMDS
  // both honour client_id, so an answer for another identity comes only from something else in
  // the path (a proxy, a broken interceptor): the stand-in's `identity` override plays that part.
  for (const img of IMAGES) {
    it(`identity-probes with ${img.id}: clientId set, a token for another identity fails; the pod's passes, as v1.0 (appid) and v2.0 (azp)`, async () => {
      const options = { client: img.client, checkNmi: false, clientId: POD_MI.clientId };
      const other = await run(bed, 'identity-probes', brief('other-token', { identity: { appid: NODE_MI.clientId, oid: NODE_MI.objectId } }), { image: img, options });
      expect(outputs(other.result.timeline)[0]).toContain(`token was issued to another identity (expected client id ${POD_MI.clientId} in appid or azp)`);
      for (const tokenVersion of ['1.0', '2.0'] as const) {
        const own = await run(bed, 'identity-probes', brief(`pod-token-${tokenVersion}`, { tokenVersion }), { image: img, options });
        expect(own.result.timeline.find((e) => e.type === 'probe'), tokenVersion).toMatchObject({ probe: 'startup', ok: true });
      }
    });
  }

  // AKS's HTTP proxy feature puts proxy env in every container; NMI and IMDS must be reached directly.
  for (const img of IMAGES) {
    it(`identity-probes with ${img.id}: proxy env pointing at a proxy that does not answer changes nothing`, async () => {
      const sc: Scenario = { ...brief('proxy-env', {}), podEnv: FAULT_SCENARIOS.proxyEnv.podEnv };
      const r = await run(bed, 'identity-probes', sc, { image: img, options: { client: img.client, clientId: POD_MI.clientId } });
      expect(r.result.timeline.find((e) => e.type === 'probe'), outputs(r.result.timeline).join('\n')).toMatchObject({ probe: 'startup', ok: true });
      expect(DEAD_PROXY).toMatch(/^http:\/\/127\./);
    });
  }

  it('an init container past its deadline fails loudly and kubelet runs it again with back-off', async () => {
    const sc: Scenario = { id: 'init-deadline', title: 'NMI Not Active for 45 s', duration: 70, fault: { start: 0, end: 45 }, steps: [
      { at: 0, label: 'NMI Not Active', state: { nmi: 'not-active' } },
      { at: 45, label: 'NMI Active', state: { nmi: 'active' } },
    ] };
    const r = await run(bed, 'nmi-init', sc, { options: { deadline: 10 } });
    const inits = r.result.timeline.filter((e): e is Extract<TimelineEvent, { type: 'init' }> => e.type === 'init');
    // Fails at ~10 s, again at ~20 s (run again at once), again at ~40 s (after 10 s), passes at ~60 s (after 20 s).
    expect(inits.map((e) => e.ok)).toEqual([false, false, false, true]);
    expect(inits[0].output).toMatch(/giving up after 10s and \d+ tries; last error: (identity-health: )?NMI at .* is not active/);
    expect(inits[3].t).toBeGreaterThanOrEqual(45);
    expect(firstStart(r)! - inits[3].t).toBeLessThan(0.1); // the app starts as the last init container ends
  });

  // A hanging NMI: the client's bound ends the check, and the message says so, in every image.
  for (const img of IMAGES) {
    it(`nmi-probes with ${img.id}: a hanging NMI fails within the bound, saying it timed out`, async () => {
      const r = await run(bed, 'nmi-probes', brief('nmi-hang', { nmi: 'hang' }), { image: img, options: { client: img.client } });
      const p = r.result.timeline.find((e) => e.type === 'probe');
      expect(p).toMatchObject({ ok: false, timedOut: false });
      expect((p as { output: string }).output).toMatch(img.client === 'curl' ? /unreachable: curl: \(28\)/ : /unreachable: .*no answer within 2 s \(wget stopped by timeout\)/s);
    });
  }

  it('without HOST_IP the check says how to set it', async () => {
    const r = await run(bed, 'nmi-probes', brief('no-host-ip', {}), { withoutHostIp: true });
    expect(outputs(r.result.timeline)[0]).toContain('HOST_IP is not set (add env HOST_IP from fieldRef status.hostIP)');
  });

  // Each token fault fails the check with the status in the message, with either client; NMI's
  // own statuses say what they mean and what fixes them (aad-pod-identity pkg/nmi/server).
  const MESSAGE: Record<string, string> = {
    400: 'IMDS refused the request (400), so NMI is not intercepting',
    403: 'an identity matched but NMI could not get its token (NMI 403)',
    404: 'no identity bound to this pod matches the request (NMI 404)',
    500: 'NMI could not match this pod (NMI 500)',
    'bad-body': 'token response carries no access_token',
  };
  for (const client of ['curl', 'wget'] as Client[]) {
    for (const token of [400, 403, 404, 410, 429, 500, 'bad-body'] as const) {
      it(`identity-probes (${client}): token ${token} fails the check with a reason`, async () => {
        const r = await run(bed, 'identity-probes', brief(`token-${token}`, { token }), { options: { client } });
        const out = outputs(r.result.timeline)[0];
        expect(out).toContain(MESSAGE[token] ?? 'identity-health: token request failed');
        if (token !== 'bad-body') expect(out).toContain(String(token));
        expect(readyAt(r, 3)).toBe(false);
      });
    }
  }
});

describe('NMI gone, token requests reach IMDS', () => {
  let bed: Bed;
  beforeAll(async () => { bed = await startBed(); });
  afterAll(async () => { await bed?.stop(); });

  // IMDS answers the identity a request names (the pod's is on the VMSS: a valid token), and
  // 400 to one naming none while the node has several. Only the NMI health check sees NMI gone
  // for a request naming the pod's identity; a request naming none fails anyway.
  const expected: Record<string, { atStart: boolean; atRuntime: boolean }> = {
    'defaults (checkNmi)': { atStart: true, atRuntime: true },
    'checkNmi: false': { atStart: true, atRuntime: true },
    'checkNmi: false, clientId (verifyIdentity)': { atStart: false, atRuntime: false },
    'checkNmi: false, clientId, verifyIdentity: false': { atStart: false, atRuntime: false },
  };
  for (const id of STRATEGY_IDS.filter((s) => getStrategy(s).checks === 'identity')) {
    for (const v of NODE_IDENTITY_VARIANTS) {
      it(`${id}, ${v.name}`, async () => {
        const row = await observeNodeIdentity(bed, id, v);
        const e = expected[v.name];
        expect(row.atStart).toBe(e.atStart);
        expect(row.atRuntime).toBe(getStrategy(id).placement === 'init' ? false : e.atRuntime);
      });
    }
  }
});
