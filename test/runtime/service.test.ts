/**
 * The example service for real: a child process on loopback whose /readyz and /livez check the
 * mock NMI/IMDS, as kubelet's httpGet probes would call them in strategies 3 and 6.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Mock, MockState, startMock } from '../bed/bed';
import { driveHealthyProbes, mockEnv, Service, sleep, startBlackHoleProxy, startService } from './service';

const CLIENT_ID = '11111111-1111-1111-1111-111111111111';
const HEALTHY: MockState = { nmi: 'active', token: 'ok', identity: { appid: CLIENT_ID, oid: '22222222-2222-2222-2222-222222222222' } };

let mock: Mock;
const services: Service[] = [];

beforeAll(async () => { mock = await startMock({ nmi: '127.0.0.1:0', imds: '127.0.0.1:0' }); });
afterAll(async () => { await mock?.stop(); });
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
  await mock.set(HEALTHY);
  await mock.reset();
});

async function service(env: Record<string, string> = {}): Promise<Service> {
  const s = await startService({ ...mockEnv(mock), ...env });
  services.push(s);
  return s;
}

const tokenRequests = async () => (await mock.requests()).filter((r) => r.kind === 'token');

describe('example service, identity check (strategy 6)', () => {
  // No token cache here, so every probe sees the state the test just set.
  const noCache = { IDENTITY_HEALTH_CHECK: 'identity', IDENTITY_HEALTH_TOKEN_CACHE_TTL_SECONDS: '0', IDENTITY_HEALTH_CLIENT_ID: CLIENT_ID, IDENTITY_HEALTH_VERIFY_IDENTITY: 'true' };

  it('answers / and is ready and live when NMI is Active and a token is issued', async () => {
    const s = await service(noCache);
    expect((await s.get('/')).status).toBe(200);
    const ready = await s.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', probe: 'readiness', checks: [{ name: 'nmi', ok: true }, { name: 'identity', ok: true }] });
    expect((await s.get('/livez')).status).toBe(200);
    const [req] = await tokenRequests();
    expect(req.metadata).toBe('true');
    expect(req.query).toContain(`client_id=${CLIENT_ID}`);
    expect(req.query).toContain('resource=https%3A%2F%2Fmanagement.azure.com%2F');
  });

  it.each<[string, MockState, RegExp]>([
    ['NMI Not Active', { nmi: 'not-active' }, /NMI at .* is not active/],
    ['NMI down', { nmi: 'down' }, /NMI at .* unreachable: connect ECONNREFUSED/],
    ['NMI hanging', { nmi: 'hang' }, /NMI at .* did not answer: no answer within 1 s \(NMI hung or overloaded\?\)/],
    ['NMI slower than its 1 s timeout', { nmi: 'slow', nmiDelayMs: 1500 }, /NMI at .* did not answer/],
    ['token 403 (identity removed from the VMSS)', { token: 403 }, /answered 403.*an identity matched but getting its token failed.*Delete the pod so MIC assigns it again/],
    ['token 404 (no matching assigned identity)', { token: 404 }, /answered 404.*no identity assigned to this pod matches the request/],
    ['token 500 (NMI cannot reach the API server)', { token: 500 }, /answered 500.*NMI could not match this pod's IP to a pod or list pods/],
    ['token 400', { token: 400 }, /answered 400.*several identities/],
    ['token 200 without a token', { token: 'bad-body' }, /token response \(200\) carries no access_token/],
    ['token hanging', { token: 'hang' }, /token request: no answer within 2 s/],
    ['token for the node identity', { identity: { appid: '99999999-9999-9999-9999-999999999999' } }, /another identity \(appid 9999.*expected 1111/],
  ])('%s -> not ready, with the reason', async (_name, state, reason) => {
    const s = await service({ ...noCache, IDENTITY_HEALTH_TOKEN_TIMEOUT_SECONDS: '2' });
    expect((await s.get('/readyz')).status).toBe(200);
    await mock.set(state);
    const r = await s.get('/readyz');
    expect(r.status).toBe(503);
    expect(r.body.status).toBe('fail');
    expect(r.body.reason).toMatch(reason);
    // Within the probe timeout the strategy sets (NMI timeout + token timeout + 1 s).
    expect(r.ms).toBeLessThan((1 + 2 + 1) * 1000);
    expect(s.output()).not.toMatch(/eyJ/); // never a token in the log
  });

  it('after a success, NMI loss fails liveness at once (no grace: NMI loss is not transient)', async () => {
    const s = await service(noCache);
    expect((await s.get('/livez')).status).toBe(200);
    await mock.set({ nmi: 'down' });
    const r = await s.get('/livez');
    expect(r.status).toBe(503);
    expect(r.body.reason).toMatch(/unreachable/);
    expect(s.output()).toMatch(/identity-health: nmi fail: NMI at .* unreachable/);
  });

  it('a short 429 burst fails readiness but not liveness; both recover', async () => {
    const s = await service({ ...noCache, IDENTITY_HEALTH_TRANSIENT_GRACE_SECONDS: '30' });
    expect((await s.get('/livez')).status).toBe(200);
    await mock.set({ token: 429 });
    const during: number[] = [];
    for (let i = 0; i < 10; i++) { // 2 s of probes
      during.push((await s.get('/livez')).status);
      await sleep(200);
    }
    const ready = await s.get('/readyz');
    expect(during.every((x) => x === 200)).toBe(true);
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toMatch(/429.*throttled/);
    expect(ready.body.checks[1]).toMatchObject({ name: 'identity', ok: false, transient: true });
    const live = await s.get('/livez');
    expect(live.body.reason).toMatch(/transient fault for \d+ s, liveness holds up to 30 s/);
    await mock.set({ token: 'ok' });
    expect((await s.get('/readyz')).status).toBe(200);
  });

  it('a transient fault that outlasts the grace fails liveness', async () => {
    const s = await service({ ...noCache, IDENTITY_HEALTH_TRANSIENT_GRACE_SECONDS: '1' });
    expect((await s.get('/livez')).status).toBe(200);
    await mock.set({ token: 503 });
    expect((await s.get('/livez')).status).toBe(200);
    await sleep(1200);
    const r = await s.get('/livez');
    expect(r.status).toBe(503);
    expect(r.body.reason).toMatch(/transient fault lasting \d+ s \(over 1 s\).*answered 503/);
  });

  it('NMI 403/404/500 after the graces: NotReady with the reason, liveness stays 200 (a restart cannot fix them)', async () => {
    const s = await service({ ...noCache, IDENTITY_HEALTH_STARTUP_GRACE_SECONDS: '0', IDENTITY_HEALTH_TRANSIENT_GRACE_SECONDS: '0' });
    expect((await s.get('/livez')).status).toBe(200);
    for (const token of [403, 404, 500]) {
      await mock.set({ token });
      await sleep(50);
      const ready = await s.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks[1]).toMatchObject({ name: 'identity', ok: false, restart: false });
      const live = await s.get('/livez');
      expect(live.status).toBe(200);
      expect(live.body.reason).toMatch(new RegExp(`^a restart cannot fix this, liveness holds \\(readiness fails\\): token request answered ${token}`));
    }
  });

  it('liveness holds until the first success, for the startup grace only', async () => {
    await mock.set({ token: 'bad-body' });
    const s = await service({ ...noCache, IDENTITY_HEALTH_STARTUP_GRACE_SECONDS: '2' });
    const live = await s.get('/livez');
    expect(live.status).toBe(200);
    expect(live.body.reason).toMatch(/startup grace .*no access_token/);
    expect((await s.get('/readyz')).status).toBe(503);
    await sleep(2100);
    expect((await s.get('/livez')).status).toBe(503);
  });

  it('the token cache bounds token requests (counted at the mock), NMI is asked every time', async () => {
    const s = await service({ IDENTITY_HEALTH_TOKEN_CACHE_TTL_SECONDS: '2' });
    const probes = await driveHealthyProbes(s, 5000);
    const log = await mock.requests();
    const tokens = log.filter((r) => r.kind === 'token').length;
    expect(probes).toBeGreaterThan(40);
    expect(tokens).toBeGreaterThanOrEqual(2);
    expect(tokens).toBeLessThanOrEqual(Math.ceil(5000 / 2000) + 1); // one per TTL
    expect(log.filter((r) => r.kind === 'nmi').length).toBe(probes);
  });

  it('a token fault is held for the TTL (no retry storm against a throttling IMDS)', async () => {
    const s = await service({ IDENTITY_HEALTH_TOKEN_CACHE_TTL_SECONDS: '60' });
    expect((await s.get('/readyz')).status).toBe(200);
    await mock.set({ token: 429 });
    for (let i = 0; i < 5; i++) expect((await s.get('/readyz')).status).toBe(200); // cached success
    expect((await tokenRequests()).length).toBe(1);
  });
});

describe('example service behind an HTTP proxy env (AKS HTTP proxy)', () => {
  it('reaches NMI and IMDS directly: a black-hole http_proxy/HTTPS_PROXY/ALL_PROXY is never used', async () => {
    const hole = await startBlackHoleProxy();
    try {
      const s = await service({ IDENTITY_HEALTH_CHECK: 'identity', IDENTITY_HEALTH_TOKEN_CACHE_TTL_SECONDS: '0', IDENTITY_HEALTH_CLIENT_ID: CLIENT_ID, ...hole.env });
      const r = await s.get('/readyz');
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect((await s.get('/livez')).status).toBe(200);
      expect(r.ms).toBeLessThan(1000);
      expect(hole.connections()).toBe(0);
      expect((await tokenRequests()).length).toBe(2);
    } finally {
      await hole.stop();
    }
  });
});

describe('example service, NMI-only check (strategy 3)', () => {
  it('checks NMI only, never requests a token', async () => {
    const s = await service({ IDENTITY_HEALTH_CHECK: 'nmi', IDENTITY_HEALTH_NMI_TIMEOUT_SECONDS: '1' });
    expect((await s.get('/readyz')).body).toMatchObject({ status: 'ok', checks: [{ name: 'nmi', ok: true }] });
    await mock.set({ nmi: 'not-active' });
    const r = await s.get('/readyz');
    expect(r.status).toBe(503);
    expect(r.body.reason).toMatch(/not active/);
    await mock.set({ nmi: 'hang' });
    const h = await s.get('/livez');
    expect(h.status).toBe(503);
    expect(h.ms).toBeLessThan(2000); // strategy 3's probe timeout: NMI timeout + 1 s
    expect(await tokenRequests()).toHaveLength(0);
  });

  it('says so when HOST_IP is missing', async () => {
    const s = await service({ IDENTITY_HEALTH_CHECK: 'nmi', HOST_IP: '' });
    const r = await s.get('/readyz');
    expect(r.status).toBe(503);
    expect(r.body.reason).toMatch(/HOST_IP is not set: add env HOST_IP from fieldRef status.hostIP/);
  });

  it('refuses to start on a malformed setting, naming the variable', async () => {
    await expect(startService({ ...mockEnv(mock), IDENTITY_HEALTH_CHECK: 'nmy' })).rejects.toThrow(/IDENTITY_HEALTH_CHECK="nmy" must be nmi, identity or workload-identity/);
  });
});
