/**
 * Unit tests of the runtime module (src/runtime), against the mock NMI/IMDS on loopback; the
 * cache and grace timers run on a fake clock.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManagedIdentity, Mock, NODE_MI, POD_MI, startMock } from '../bed/bed';
import {
  checkIdentity, checkNmi, claimMismatch, createHealthHandlers, decodeJwtPayload, fromEnv, IdentityHealth, IdentityHealthOptions,
  identitySelectorError, RUNTIME_ENV, tokenUrl,
} from '../../src/runtime';

const APPID = '11111111-1111-1111-1111-111111111111';
const OID = '22222222-2222-2222-2222-222222222222';
const OTHER_MI: ManagedIdentity = { clientId: '55555555-5555-5555-5555-555555555555', objectId: '66666666-6666-6666-6666-666666666666', resourceId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/billing' };

let mock: Mock;
beforeAll(async () => { mock = await startMock({ nmi: '127.0.0.1:0', imds: '127.0.0.1:0' }); });
afterAll(async () => { await mock?.stop(); });
afterEach(async () => {
  await mock.set({ nmi: 'active', token: 'ok', identity: { appid: APPID, oid: OID }, nmiVersion: '1.8.17', nmiMode: 'standard', podIdentities: [POD_MI], nodeIdentities: [NODE_MI, POD_MI], podInCache: true });
  await mock.reset();
});

const nmi = () => ({ hostIp: '127.0.0.1', port: mock.nmiPort, timeoutMs: 300 });
const identity = (o: object = {}) => ({ imdsEndpoint: `http://127.0.0.1:${mock.imdsPort}`, timeoutMs: 300, ...o });
const count = async (kind: 'nmi' | 'token') => (await mock.requests()).filter((r) => r.kind === kind).length;

describe('checkNmi', () => {
  it('is healthy only on 200 with body Active', async () => {
    expect(await checkNmi(nmi())).toMatchObject({ name: 'nmi', ok: true, status: 200 });
    await mock.set({ nmi: 'not-active' });
    expect(await checkNmi(nmi())).toMatchObject({ ok: false, status: 200, transient: false, reason: expect.stringMatching(/not active \(body: "Not Active"\)/) });
  });

  it('reports refused and hanging NMI, bounded by the timeout', async () => {
    await mock.set({ nmi: 'down' });
    expect((await checkNmi(nmi())).reason).toMatch(/unreachable: connect ECONNREFUSED/);
    await mock.set({ nmi: 'hang' });
    const t0 = Date.now();
    const r = await checkNmi(nmi());
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r).toMatchObject({ ok: false, transient: false, reason: expect.stringMatching(/did not answer: no answer within 0.3 s/) });
  });

  it('reads HOST_IP from the env and says what to add when it is missing', async () => {
    const saved = process.env.HOST_IP;
    try {
      delete process.env.HOST_IP;
      expect((await checkNmi({ port: mock.nmiPort })).reason).toMatch(/HOST_IP is not set: add env HOST_IP from fieldRef status.hostIP/);
      process.env.HOST_IP = '127.0.0.1';
      expect((await checkNmi({ port: mock.nmiPort })).ok).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.HOST_IP; else process.env.HOST_IP = saved;
    }
  });
});

describe('checkIdentity', () => {
  it('requests a token with the Metadata header, resource and selector, and never returns the token', async () => {
    const r = await checkIdentity(identity({ resource: 'https://vault.azure.net', clientId: APPID }));
    expect(r).toEqual({ name: 'identity', ok: true, reason: 'token request succeeded', transient: false, status: 200 });
    const [req] = (await mock.requests()).filter((x) => x.kind === 'token');
    expect(req.metadata).toBe('true');
    expect(req.query).toBe(`?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&client_id=${APPID}`);
  });

  it('selects by msi_res_id (what IMDS documents and every NMI reads), never by object_id', async () => {
    expect(tokenUrl({ miResId: '/subscriptions/x/id', imdsEndpoint: 'http://127.0.0.1:1/' })).toMatch(/^http:\/\/127\.0\.0\.1:1\/metadata\/identity\/oauth2\/token\?/);
    expect(tokenUrl({ miResId: '/subscriptions/x/id' })).toBe('http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F&msi_res_id=%2Fsubscriptions%2Fx%2Fid');
    expect(tokenUrl({ clientId: APPID, objectId: OID })).not.toContain('object_id');
    // An NMI older than 1.8.15 reads msi_res_id only: with mi_res_id it would answer with the first bound identity.
    await mock.set({ identity: null, nmiVersion: '1.8.14', podIdentities: [OTHER_MI, POD_MI] });
    expect((await checkIdentity(identity({ miResId: POD_MI.resourceId }))).ok).toBe(true);
    const [req] = (await mock.requests()).filter((x) => x.kind === 'token');
    expect(new URLSearchParams(req.query).get('msi_res_id')).toBe(POD_MI.resourceId);
    expect(req.query).not.toMatch(/[?&]mi_res_id=/);
    expect(req).toMatchObject({ by: 'nmi', status: 200 });
  });

  it('refuses objectId as the only selector (NMI ignores object_id), naming clientId/miResId; keeps it as a claim to verify', async () => {
    const r = await checkIdentity(identity({ objectId: OID }));
    expect(r).toMatchObject({ ok: false, transient: false, restart: false, reason: expect.stringMatching(/objectId .* cannot select the identity: AAD Pod Identity's NMI ignores object_id .* Select it with clientId \(IDENTITY_HEALTH_CLIENT_ID\) or miResId \(IDENTITY_HEALTH_MI_RES_ID\)/) });
    expect(await count('token')).toBe(0);
    expect(() => new IdentityHealth({ identity: { objectId: OID } })).toThrow(/identity-health: objectId .* cannot select the identity/);
    expect(() => createHealthHandlers(fromEnv({ [RUNTIME_ENV.objectId]: OID, HOST_IP: '127.0.0.1' }))).toThrow(/NMI ignores object_id/);
    expect(identitySelectorError({ miResId: '/subscriptions/x/id', objectId: OID })).toBeUndefined();
    // Beside a selector, objectId is the oid claim to verify.
    expect((await checkIdentity(identity({ clientId: APPID, objectId: OID }))).ok).toBe(true);
    await mock.set({ identity: { appid: APPID, oid: '99999999-9999-9999-9999-999999999999' } });
    expect(await checkIdentity(identity({ clientId: APPID, objectId: OID }))).toMatchObject({ ok: false, reason: expect.stringMatching(/another identity \(oid 9999.*expected 2222/) });
  });

  // NMI's statuses (aad-pod-identity pkg/nmi/server/server.go msiHandler): 404 no matching
  // assigned identity, 403 matched but its token failed, 500 pod lookup failed. Restart only helps none of them.
  it.each<[number, RegExp, boolean, boolean | undefined]>([
    [400, /answered 400: mock_error: mock answers 400: bad request: the resource or the Metadata header is missing, or several identities .* none is selected \(set clientId or miResId\)/, false, false],
    [403, /answered 403.*an identity matched but getting its token failed: .*not \(or no longer\) on the node's VMSS\/VM, or it was deleted and recreated .*Delete the pod so MIC assigns it again.*A container restart does not help/, false, false],
    [404, /answered 404.*no identity assigned to this pod matches the request: check the pod's aadpodidbinding label .*clientId\/miResId .*A container restart does not help/, false, false],
    [410, /answered 410.*IMDS is updating/, true, undefined],
    [429, /answered 429.*throttled/, true, undefined],
    [500, /answered 500.*NMI could not match this pod's IP to a pod or list pods \(is the API server reachable from NMI\?/, true, false],
    [503, /answered 503.*transient/, true, undefined],
  ])('%i -> %s (transient %s, restart %s)', async (status, reason, transient, restart) => {
    await mock.set({ token: status });
    const r = await checkIdentity(identity());
    expect(r).toMatchObject({ ok: false, status, transient, reason: expect.stringMatching(reason) });
    expect(r.restart).toBe(restart);
  });

  it('treats a timeout as transient and returns within the bound', async () => {
    await mock.set({ token: 'hang' });
    const t0 = Date.now();
    expect(await checkIdentity(identity())).toMatchObject({ ok: false, transient: true, reason: expect.stringMatching(/no answer within 0.3 s/) });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('verifies appid/oid claims when asked (by default when clientId or objectId is set)', async () => {
    expect((await checkIdentity(identity({ clientId: APPID, objectId: OID }))).ok).toBe(true);
    await mock.set({ identity: { appid: '99999999-9999-9999-9999-999999999999', oid: OID } });
    const r = await checkIdentity(identity({ clientId: APPID }));
    expect(r).toMatchObject({ ok: false, transient: false, reason: expect.stringMatching(/another identity \(appid 9999.*expected 1111.*another identity bound to the pod answered, or the selector names the wrong one/) });
    expect((await checkIdentity(identity({ clientId: APPID, verifyIdentity: false }))).ok).toBe(true);
  });

  it('takes the client id from azp in v2.0 tokens (no appid there), from appid in v1.0 ones', () => {
    const tok = (claims: object) => `x.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
    expect(claimMismatch(tok({ azp: APPID, oid: OID, ver: '2.0' }), { clientId: APPID, objectId: OID })).toBeUndefined();
    expect(claimMismatch(tok({ azp: APPID.toUpperCase() }), { clientId: APPID })).toBeUndefined();
    expect(claimMismatch(tok({ appid: APPID, ver: '1.0' }), { clientId: APPID })).toBeUndefined();
    expect(claimMismatch(tok({ azp: OID }), { clientId: APPID })).toBe(`token was issued to another identity (azp ${OID}, expected ${APPID})`);
    expect(claimMismatch(tok({ oid: OID }), { clientId: APPID })).toBe(`token was issued to another identity (appid/azp missing, expected ${APPID})`);
    expect(claimMismatch(tok({}), { clientId: APPID, verifyIdentity: false })).toBeUndefined();
  });

  it('fails on a 200 without access_token, and keeps a token out of the reason', async () => {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url!.includes('empty') ? '{"access_token":""}' : 'not json');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await checkIdentity({ imdsEndpoint: endpoint, resource: 'empty' })).reason).toBe('token response (200) carries no access_token');
      expect((await checkIdentity({ imdsEndpoint: endpoint })).ok).toBe(false);
    } finally {
      server.close();
    }
  });

  it('bounds a body that stalls after the headers, as a transient timeout', async () => {
    const server = http.createServer((_req, res) => { res.writeHead(200); res.write('{"access_'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const t0 = Date.now();
      const r = await checkIdentity({ imdsEndpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 300 });
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(r).toMatchObject({ ok: false, transient: true, reason: expect.stringMatching(/no answer within 0.3 s/) });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('reports a malformed endpoint instead of throwing', async () => {
    expect((await checkIdentity({ imdsEndpoint: 'not a url', timeoutMs: 100 })).reason).toMatch(/token endpoint unreachable: .*Invalid URL/);
    expect((await checkNmi({ hostIp: 'bad host', timeoutMs: 100 })).ok).toBe(false);
    await new Promise((r) => setTimeout(r, 200)); // a stray timer would throw here
  });

  it('reports an unreachable token endpoint', async () => {
    expect((await checkIdentity({ imdsEndpoint: 'http://127.0.0.1:1', timeoutMs: 500 })).reason).toMatch(/token endpoint unreachable: connect ECONNREFUSED/);
  });

  it('decodes a JWT payload without verifying it', () => {
    const jwt = `x.${Buffer.from(JSON.stringify({ appid: APPID })).toString('base64url')}.sig`;
    expect(decodeJwtPayload(jwt)).toEqual({ appid: APPID });
    expect(decodeJwtPayload('nodots')).toBeUndefined();
    expect(decodeJwtPayload('a.!!!.c')).toBeUndefined();
  });
});

describe('pod identity faults as the stand-in models upstream (not raw statuses)', () => {
  const faults: Array<[string, object, number, RegExp]> = [
    ['pod not bound (no AzureIdentityBinding; managed mode answers at once)', { nmiMode: 'managed', podIdentities: [] }, 404, /no identity assigned to this pod matches the request/],
    ['selector names an identity not bound to the pod', { nmiMode: 'managed', podIdentities: [OTHER_MI] }, 404, /no identity assigned to this pod matches/],
    ['identity removed from the node\'s VMSS', { nodeIdentities: [] }, 403, /an identity matched but getting its token failed.*Delete the pod so MIC assigns it again/],
    ['NMI cannot list pods (API server unreachable from NMI)', { podInCache: false }, 500, /NMI could not match this pod's IP to a pod or list pods/],
  ];
  it.each(faults)('%s -> %i with its own reason; NotReady, liveness holds after the graces', async (_name, state, status, reason) => {
    await mock.set({ identity: null, ...state });
    const clock = { t: 1_000_000 };
    const h = new IdentityHealth({ nmi: nmi(), identity: identity({ clientId: APPID, timeoutMs: 3000 }), tokenCacheTtlMs: 0, startupGraceMs: 0, transientGraceMs: 0, now: () => clock.t });
    const r = await h.readiness();
    expect(r).toMatchObject({ ok: false, checks: [{ name: 'nmi', ok: true }, { name: 'identity', ok: false, status, restart: false, reason: expect.stringMatching(reason) }] });
    clock.t += 600_000;
    expect(await h.liveness()).toMatchObject({ ok: true, reason: expect.stringMatching(/^a restart cannot fix this/) });
    const [req] = (await mock.requests()).filter((x) => x.kind === 'token');
    expect(req).toMatchObject({ by: 'nmi', status });
  });
});

describe('IdentityHealth (cache, graces) on a fake clock', () => {
  function make(o: Partial<IdentityHealthOptions> = {}) {
    const clock = { t: 1_000_000 };
    const h = new IdentityHealth({ nmi: nmi(), identity: identity(), now: () => clock.t, ...o });
    return { h, clock };
  }

  it('checks NMI on every call, requests a token once per TTL, and shares an in-flight request', async () => {
    const { h, clock } = make({ tokenCacheTtlMs: 20_000 });
    await Promise.all(Array.from({ length: 5 }, () => h.readiness()));
    expect(await count('token')).toBe(1);
    for (let i = 0; i < 4; i++) { clock.t += 4_000; expect((await h.readiness()).ok).toBe(true); }
    expect(await count('token')).toBe(1); // 16 s later: still cached
    clock.t += 4_000;
    await h.liveness();
    expect(await count('token')).toBe(2);
    expect(await count('nmi')).toBe(10);
  });

  it('asks no token while NMI is not ready', async () => {
    await mock.set({ nmi: 'not-active' });
    const { h } = make();
    const r = await h.readiness();
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/not active/) });
    expect(r.checks.map((c) => c.name)).toEqual(['nmi']);
    expect(await count('token')).toBe(0);
  });

  it('liveness holds until the first success or the startup grace', async () => {
    await mock.set({ token: 'bad-body' });
    const { h, clock } = make({ tokenCacheTtlMs: 0, startupGraceMs: 180_000 });
    expect(await h.liveness()).toMatchObject({ ok: true, reason: expect.stringMatching(/startup grace \(180 s left\).*no access_token/) });
    expect((await h.readiness()).ok).toBe(false);
    clock.t += 180_000;
    expect((await h.liveness()).ok).toBe(false);
  });

  it('after the first success, NMI loss and hard faults fail liveness at once', async () => {
    const { h } = make({ tokenCacheTtlMs: 0 });
    expect((await h.liveness()).ok).toBe(true);
    await mock.set({ nmi: 'down' });
    expect(await h.liveness()).toMatchObject({ ok: false, reason: expect.stringMatching(/NMI .* unreachable/) });
    await mock.set({ nmi: 'active', token: 'bad-body' });
    expect(await h.liveness()).toMatchObject({ ok: false, reason: expect.stringMatching(/no access_token/) });
    const pinned = make({ tokenCacheTtlMs: 0, identity: identity({ clientId: APPID }) });
    await mock.set({ token: 'ok' });
    expect((await pinned.h.liveness()).ok).toBe(true);
    await mock.set({ identity: { appid: '99999999-9999-9999-9999-999999999999' } });
    expect(await pinned.h.liveness()).toMatchObject({ ok: false, reason: expect.stringMatching(/another identity \(appid 9999/) });
  });

  it.each([403, 404, 500])('NMI %i after a success: NotReady with the reason, liveness holds for good (a restart cannot fix it)', async (status) => {
    const { h, clock } = make({ tokenCacheTtlMs: 0, transientGraceMs: 60_000 });
    expect((await h.liveness()).ok).toBe(true);
    await mock.set({ token: status });
    expect(await h.readiness()).toMatchObject({ ok: false, reason: expect.stringMatching(new RegExp(`answered ${status}`)) });
    for (const step of [0, 61_000, 600_000]) {
      clock.t += step;
      expect(await h.liveness()).toMatchObject({ ok: true, reason: expect.stringMatching(new RegExp(`^a restart cannot fix this, liveness holds \\(readiness fails\\): token request answered ${status}`)) });
    }
  });

  it('transient faults fail readiness at once and liveness only after the transient grace', async () => {
    const { h, clock } = make({ tokenCacheTtlMs: 0, transientGraceMs: 60_000 });
    expect((await h.liveness()).ok).toBe(true);
    await mock.set({ token: 429 });
    expect((await h.readiness()).ok).toBe(false);
    clock.t += 30_000;
    await mock.set({ token: 503 }); // another transient fault continues the streak
    expect(await h.liveness()).toMatchObject({ ok: true, reason: expect.stringMatching(/transient fault for 30 s, liveness holds up to 60 s/) });
    clock.t += 31_000;
    expect(await h.liveness()).toMatchObject({ ok: false, reason: expect.stringMatching(/lasting 61 s \(over 60 s\)/) });
    await mock.set({ token: 'ok' });
    expect((await h.liveness()).ok).toBe(true);
    await mock.set({ token: 429 });
    expect((await h.liveness()).ok).toBe(true); // a new streak starts from zero
  });

  it('logs each change once (verdict or reason), never a token', async () => {
    const lines: string[] = [];
    const { h } = make({ tokenCacheTtlMs: 0, log: (l) => lines.push(l) });
    await h.readiness();
    await h.readiness();
    await mock.set({ nmi: 'not-active' });
    await h.readiness();
    await h.readiness();
    await mock.set({ nmi: 'active', token: 429 });
    await h.readiness();
    await mock.set({ token: 500 });
    await h.readiness();
    expect(lines).toEqual([
      expect.stringMatching(/^identity-health: nmi ok/),
      'identity-health: identity ok: token request succeeded',
      expect.stringMatching(/^identity-health: nmi fail: .*not active/),
      expect.stringMatching(/^identity-health: nmi ok/),
      expect.stringMatching(/^identity-health: identity fail: token request answered 429/),
      expect.stringMatching(/^identity-health: identity fail: token request answered 500/),
    ]);
    expect(lines.join('\n')).not.toMatch(/eyJ|access_token/);
  });

  it('knows its bound and refuses a check of nothing', () => {
    expect(new IdentityHealth().boundMs).toBe(5000);
    expect(new IdentityHealth({ check: 'nmi' }).boundMs).toBe(1000);
    expect(new IdentityHealth({ checkNmi: false, identity: { timeoutMs: 2000 } }).boundMs).toBe(2000);
    expect(() => new IdentityHealth({ check: 'nmi', checkNmi: false })).toThrow(/checks nothing/);
  });

  it('with checkNmi false, requests the token without asking NMI', async () => {
    const { h } = make({ checkNmi: false });
    expect((await h.readiness()).checks.map((c) => c.name)).toEqual(['identity']);
    expect(await count('nmi')).toBe(0);
  });
});

describe('fromEnv', () => {
  it('reads the env strategies 3 and 6 set, with their defaults', () => {
    expect(fromEnv({})).toEqual({
      check: 'identity', checkNmi: undefined,
      nmi: { hostIp: '', port: 8085, timeoutMs: 1000 },
      identity: { resource: undefined, apiVersion: undefined, clientId: undefined, objectId: undefined, miResId: undefined, verifyIdentity: undefined, timeoutMs: 4000, imdsEndpoint: undefined },
      tokenCacheTtlMs: 20_000, startupGraceMs: 180_000, transientGraceMs: 60_000,
    });
    const o = fromEnv({
      HOST_IP: '10.0.0.4', [RUNTIME_ENV.check]: 'identity', [RUNTIME_ENV.nmiPort]: '9085', [RUNTIME_ENV.nmiTimeout]: '2',
      [RUNTIME_ENV.resource]: 'https://vault.azure.net', [RUNTIME_ENV.apiVersion]: '2019-08-01', [RUNTIME_ENV.clientId]: APPID,
      [RUNTIME_ENV.verifyIdentity]: 'true', [RUNTIME_ENV.checkNmi]: 'false', [RUNTIME_ENV.tokenTimeout]: '5',
      [RUNTIME_ENV.tokenCacheTtl]: '30', [RUNTIME_ENV.startupGrace]: '120', [RUNTIME_ENV.transientGrace]: '45',
    });
    expect(o).toMatchObject({
      checkNmi: false, nmi: { hostIp: '10.0.0.4', port: 9085, timeoutMs: 2000 },
      identity: { resource: 'https://vault.azure.net', apiVersion: '2019-08-01', clientId: APPID, verifyIdentity: true, timeoutMs: 5000 },
      tokenCacheTtlMs: 30_000, startupGraceMs: 120_000, transientGraceMs: 45_000,
    });
  });

  it.each([
    [{ [RUNTIME_ENV.check]: 'both' }, /IDENTITY_HEALTH_CHECK="both" must be nmi, identity or workload-identity/],
    [{ [RUNTIME_ENV.nmiPort]: '70000' }, /IDENTITY_HEALTH_NMI_PORT="70000" is not a port/],
    [{ [RUNTIME_ENV.tokenTimeout]: '4s' }, /IDENTITY_HEALTH_TOKEN_TIMEOUT_SECONDS="4s" is not a number of seconds/],
    [{ [RUNTIME_ENV.verifyIdentity]: 'yes' }, /IDENTITY_HEALTH_VERIFY_IDENTITY="yes" must be true or false/],
    [{ [RUNTIME_ENV.check]: 'nmi', [RUNTIME_ENV.checkNmi]: 'false' }, /checks nothing/],
  ])('refuses %j', (env, msg) => {
    expect(() => fromEnv(env)).toThrow(msg);
  });
});

describe('createHealthHandlers', () => {
  it('serves /readyz and /livez on node:http with the app checks, 404 elsewhere', async () => {
    let db = true;
    const health = createHealthHandlers({
      check: 'nmi', nmi: nmi(),
      checks: [
        { name: 'db', check: () => db || { ok: false, reason: 'db down' } },
        { name: 'cache', check: async () => { throw new Error('cache refused'); }, liveness: false },
        { name: 'loop', check: () => true, liveness: true },
      ],
    });
    const server = http.createServer((req, res) => { if (!health.handle(req, res)) { res.statusCode = 404; res.end(); } });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('content-type')).toMatch(/application\/json/);
      expect(await ready.json()).toMatchObject({ status: 'fail', reason: 'cache: cache refused', checks: [{ name: 'nmi', ok: true }, { name: 'db', ok: true }, { name: 'cache', ok: false }, { name: 'loop', ok: true }] });
      const live = await fetch(`${base}/livez?verbose`);
      expect(live.status).toBe(200);
      expect(((await live.json()) as any).checks.map((c: { name: string }) => c.name)).toEqual(['nmi', 'loop']);
      db = false;
      expect(((await (await fetch(`${base}/readyz`)).json()) as any).checks[1]).toMatchObject({ name: 'db', ok: false, reason: 'db down' });
      expect((await fetch(`${base}/other`)).status).toBe(404);
      expect((await fetch(`${base}/readyz`, { method: 'POST' })).status).toBe(404);
      const head = await fetch(`${base}/livez`, { method: 'HEAD' });
      expect(head.status).toBe(200);
    } finally {
      server.close();
    }
  });

  it('bounds a slow app check', async () => {
    const health = createHealthHandlers({ check: 'nmi', nmi: nmi(), appCheckTimeoutMs: 200, checks: [{ name: 'slow', check: () => new Promise(() => undefined) }] });
    const t0 = Date.now();
    const r = await health.report('readiness');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r).toMatchObject({ ok: false, reason: 'slow: no answer within 0.2 s' });
  });

  it('answers through an Express-style res and a Fastify-style reply', async () => {
    const health = createHealthHandlers({ check: 'nmi', nmi: nmi() });
    const express = { statusCode: 0, headers: {} as Record<string, string>, body: '', setHeader(k: string, v: string) { this.headers[k] = v; }, end(b?: string) { this.body = b ?? ''; } };
    await health.readiness({ url: '/readyz', method: 'GET' }, express);
    expect(express.statusCode).toBe(200);
    expect(JSON.parse(express.body)).toMatchObject({ status: 'ok', probe: 'readiness' });
    const sent: unknown[] = [];
    const reply = { c: 0, code(s: number) { this.c = s; return this; }, header() { return this; }, send(b: unknown) { sent.push(b); return this; } };
    await mock.set({ nmi: 'not-active' });
    await health.liveness({ url: '/livez', method: 'GET' }, reply);
    expect(reply.c).toBe(503); // NMI lost after a success
    await health.readiness({ url: '/readyz', method: 'GET' }, reply);
    expect(reply.c).toBe(503);
    expect(JSON.parse(sent[1] as string)).toMatchObject({ status: 'fail', reason: expect.stringMatching(/not active/) });
  });
});
