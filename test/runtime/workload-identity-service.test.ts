/**
 * The example service for real with the env strategy 9 (workload-identity-app-check) sets plus
 * the webhook's env: a child process on loopback whose /readyz and /livez read a token file in a
 * temp dir, ask the proxy stand-in and exchange the token at the AAD stand-in (./aad.ts).
 */
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getStrategy } from '../../strategies';
import { Aad, CLIENT_ID, federatedToken, selfSignedCert, startAad, startConnectProxy, tokenDir, webhookEnv } from './aad';
import { driveHealthyProbes, Service, sleep, startBlackHoleProxy, startService } from './service';

let aad: Aad;
let files: ReturnType<typeof tokenDir>;
const services: Service[] = [];

beforeAll(async () => {
  aad = await startAad();
  files = tokenDir();
});
afterAll(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
  await aad?.stop();
  files?.cleanup();
});
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
  aad.reset();
});

/** The env appCheckPlan puts on the container (taken from the strategy itself), as name -> value. */
function strategyEnv(o: Record<string, unknown>): Record<string, string> {
  const plan = getStrategy('workload-identity-app-check').plan(o as never) as { target: { env: ReadonlyArray<{ name: string; value?: string }> } };
  return Object.fromEntries(plan.target.env.map((e) => [e.name, e.value ?? '']));
}

async function service(env: Record<string, string>): Promise<Service> {
  const s = await startService(env);
  services.push(s);
  return s;
}

/** Strategy 9 with exchange and proxy, plus the webhook env; the token file is fresh. */
function podEnv(extra: Record<string, string> = {}, options: Record<string, unknown> = {}): Record<string, string> {
  const file = files.write(federatedToken());
  return {
    ...strategyEnv({ clientId: CLIENT_ID, exchange: true, requestTimeout: 2, proxySidecar: aad.proxyPort, ...options }),
    ...webhookEnv(aad, file),
    ...extra,
  };
}

const noCache = { IDENTITY_HEALTH_TOKEN_CACHE_TTL_SECONDS: '0' };

describe('example service, workload identity check (strategy 9)', () => {
  it('runs on the env the strategy sets: ready and live with env, file, proxy and exchange ok', async () => {
    const env = podEnv(noCache);
    expect(env).toMatchObject({ IDENTITY_HEALTH_CHECK: 'workload-identity', IDENTITY_HEALTH_CLIENT_ID: CLIENT_ID, IDENTITY_HEALTH_WI_EXCHANGE: 'true', IDENTITY_HEALTH_WI_PROXY_PORT: String(aad.proxyPort), IDENTITY_HEALTH_TOKEN_TIMEOUT_SECONDS: '2' });
    expect(env.HOST_IP).toBeUndefined();
    const s = await service(env);
    expect(s.output()).toMatch(/check workload-identity/);
    const ready = await s.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([['workload-identity', true], ['wi-proxy', true], ['wi-exchange', true]]);
    expect((await s.get('/livez')).status).toBe(200);
    const [req] = aad.requests();
    expect(req.form.client_assertion).toBe(fs.readFileSync(env.AZURE_FEDERATED_TOKEN_FILE, 'utf8'));
    expect(req.form.scope).toBe('https://management.azure.com/.default');
  });

  it.each<[string, (env: Record<string, string>) => void, RegExp]>([
    ['federated token expired', (env) => { files.write(federatedToken(-30)); void env; }, /federated token in .* expired at .*kubelet stopped refreshing/],
    ['token file removed', () => fs.rmSync(files.file), /federated token file .* is missing or unreadable .*ENOENT/],
    ['token file emptied', () => files.write(''), /federated token file .* is empty/],
    ['federated identity credential removed (subject no longer matches)', () => aad.set({ subject: 'system:serviceaccount:shop:old' }), /answered 400: invalid_request: AADSTS700213: .*: no matching federated identity credential/],
    ['AAD answers 401 invalid_client', () => aad.set({ token: 401, error: 'invalid_client', description: 'AADSTS7000215: Invalid client secret provided.' }), /answered 401: invalid_client.*AAD rejected the client assertion/],
    ['AAD 500', () => aad.set({ token: 500 }), /answered 500.*transient fault at AAD/],
    ['AAD hanging', () => aad.set({ token: 'hang' }), /no answer within 2 s/],
    ['proxy not ready', () => aad.set({ proxy: 'not-ready' }), /proxy sidecar not ready on port \d+: .*answered 503/],
    ['proxy hanging', () => aad.set({ proxy: 'hang' }), /proxy sidecar not ready on port \d+: no answer within 2 s/],
  ])('%s -> not ready, with the reason, within the probe timeout', async (_name, fault, reason) => {
    const env = podEnv(noCache);
    const s = await service(env);
    expect((await s.get('/readyz')).status).toBe(200);
    fault(env);
    const r = await s.get('/readyz');
    expect(r.status).toBe(503);
    expect(r.body.reason).toMatch(reason);
    // Under the probe timeout strategy 9 sets: its bound (1 + 2 exchange + 2 proxy) + 1 s.
    expect(r.ms).toBeLessThan((1 + 2 + 2 + 1) * 1000);
    expect(s.output()).not.toMatch(/eyJ/); // never a token in the log
    expect(JSON.stringify(r.body)).not.toMatch(/eyJ/);
  });

  it('a wrong AZURE_CLIENT_ID (annotation differs from the expected identity) -> not ready', async () => {
    const s = await service(podEnv({ ...noCache, AZURE_CLIENT_ID: '55555555-5555-5555-5555-555555555555' }));
    const r = await s.get('/readyz');
    expect(r.status).toBe(503);
    expect(r.body.reason).toMatch(/^AZURE_CLIENT_ID is 55555555-5555-5555-5555-555555555555, expected 4444.*: fix the ServiceAccount annotation azure.workload.identity\/client-id/);
    expect((await s.get('/livez')).status).toBe(200); // recreating the pod fixes it, a restart does not
    expect(aad.requests()).toHaveLength(0);
  });

  it('a pod the webhook did not mutate: not ready with the reason, and no restart loop after the startup grace', async () => {
    const env = strategyEnv({ clientId: CLIENT_ID, startupGrace: 1 });
    const s = await service(env); // no AZURE_* at all
    const ready = await s.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toMatch(/^none of AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST is set: the workload identity webhook did not mutate this container. The pod lacks the label azure.workload.identity\/use: "true"/);
    const live = await s.get('/livez');
    expect(live.status).toBe(200);
    expect(live.body.reason).toMatch(/startup grace/);
    await sleep(1100);
    const after = await s.get('/livez');
    expect(after.status).toBe(200);
    expect(after.body.reason).toMatch(/^a restart cannot fix this, liveness holds \(readiness fails\): none of AZURE_CLIENT_ID/);
  });

  it('the ServiceAccount annotation missing (AZURE_CLIENT_ID alone unset): says so, NotReady, no restart', async () => {
    const env = podEnv({ ...noCache, IDENTITY_HEALTH_STARTUP_GRACE_SECONDS: '0' });
    delete env.AZURE_CLIENT_ID;
    const s = await service(env);
    const r = await s.get('/readyz');
    expect(r.status).toBe(503);
    expect(r.body.reason).toMatch(/^AZURE_CLIENT_ID is not set while the other webhook variables are: the pod's ServiceAccount has no annotation azure.workload.identity\/client-id/);
    expect((await s.get('/livez')).status).toBe(200);
    expect(aad.requests()).toHaveLength(0);
  });

  it('AZURE_KUBERNETES_TOKEN_PROXY set (custom token endpoint): no exchange at AZURE_AUTHORITY_HOST, ready, and says why', async () => {
    const s = await service(podEnv({ ...noCache, AZURE_KUBERNETES_TOKEN_PROXY: 'https://127.0.0.1:1' }));
    const r = await s.get('/readyz');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.checks[2]).toMatchObject({ name: 'wi-exchange', ok: true, reason: expect.stringMatching(/^token exchange skipped: AZURE_KUBERNETES_TOKEN_PROXY is set \(custom token endpoint\)/) });
    expect(aad.requests()).toHaveLength(0);
  });

  it('behind a black-hole http_proxy/HTTPS_PROXY/ALL_PROXY: the proxy sidecar is reached directly, the checks pass', async () => {
    const hole = await startBlackHoleProxy();
    try {
      const s = await service(podEnv({ ...noCache, ...hole.env })); // AZURE_AUTHORITY_HOST is http here: HTTPS_PROXY is for https only
      const r = await s.get('/readyz');
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.checks.map((c: { name: string }) => c.name)).toEqual(['workload-identity', 'wi-proxy', 'wi-exchange']);
      expect(hole.connections()).toBe(0);
    } finally {
      await hole.stop();
    }
  });

  it('a short AAD 5xx burst fails readiness but not liveness; a missing federated credential fails liveness at once', async () => {
    const s = await service(podEnv({ ...noCache, IDENTITY_HEALTH_TRANSIENT_GRACE_SECONDS: '30' }));
    expect((await s.get('/livez')).status).toBe(200);
    aad.set({ token: 503 });
    for (let i = 0; i < 5; i++) { expect((await s.get('/livez')).status).toBe(200); await sleep(100); }
    expect((await s.get('/readyz')).body).toMatchObject({ status: 'fail', checks: [{ ok: true }, { ok: true }, { name: 'wi-exchange', transient: true }] });
    expect((await s.get('/livez')).body.reason).toMatch(/transient fault for \d+ s, liveness holds up to 30 s: .*answered 503/);
    aad.set({ token: 'ok', subject: 'system:serviceaccount:shop:old' });
    const live = await s.get('/livez');
    expect(live.status).toBe(503);
    expect(live.body.reason).toMatch(/no matching federated identity credential/);
    aad.set({ subject: 'system:serviceaccount:shop:orders' });
    expect((await s.get('/readyz')).status).toBe(200);
  });

  it('follows a rotated token file (kubelet replaces it atomically)', async () => {
    const env = podEnv(noCache);
    const s = await service(env);
    expect((await s.get('/readyz')).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      files.write(federatedToken(3601 + i)); // differs from the first one (exp in seconds)
      expect((await s.get('/readyz')).status).toBe(200);
    }
    const sent = aad.requests().map((r) => r.form.client_assertion);
    expect(new Set(sent).size).toBe(4); // each exchange used the file as it was then
  });

  it('the exchange cache bounds requests to AAD (counted at the stand-in); the file is read every call', async () => {
    const s = await service(podEnv({ IDENTITY_HEALTH_TOKEN_CACHE_TTL_SECONDS: '2' }));
    const probes = await driveHealthyProbes(s, 5000);
    const exchanges = aad.requests().length;
    expect(probes).toBeGreaterThan(40);
    expect(exchanges).toBeGreaterThanOrEqual(2);
    expect(exchanges).toBeLessThanOrEqual(Math.ceil(5000 / 2000) + 1); // one per TTL
    files.write(federatedToken(-1));
    expect((await s.get('/readyz')).body.reason).toMatch(/expired/); // cached exchange or not
  });

  it('without exchange (the strategy default) and without proxy: the env and the file only, no request to AAD', async () => {
    const env = { ...strategyEnv({ clientId: CLIENT_ID }), ...webhookEnv(aad, files.write(federatedToken())) };
    expect(env.IDENTITY_HEALTH_WI_EXCHANGE).toBe('false');
    const s = await service(env);
    const r = await s.get('/readyz');
    expect(r.status).toBe(200);
    expect(r.body.checks.map((c: { name: string }) => c.name)).toEqual(['workload-identity']);
    expect(aad.requests()).toHaveLength(0);
  });

  it('exchanges over https (as at login.microsoftonline.com), trusting the system CAs plus NODE_EXTRA_CA_CERTS only', async () => {
    const cert = selfSignedCert(files.dir);
    const tls = await startAad({ tls: cert });
    try {
      const env = { ...podEnv(noCache), AZURE_AUTHORITY_HOST: tls.authorityHost };
      expect(env.AZURE_AUTHORITY_HOST).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
      const trusted = await service({ ...env, NODE_EXTRA_CA_CERTS: cert.certFile });
      const ok = await trusted.get('/readyz');
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(tls.requests()).toHaveLength(1);
      const untrusted = await service(env);
      const r = await untrusted.get('/readyz');
      expect(r.status).toBe(503);
      expect(r.body.checks[2]).toMatchObject({ name: 'wi-exchange', ok: false, transient: false, reason: expect.stringMatching(/token exchange at https:.* failed: .*self[- ]signed certificate.*\(TLS: an HTTPS proxy in the way\? its CA goes in NODE_EXTRA_CA_CERTS\)/) });
      expect(tls.requests()).toHaveLength(1); // refused before any form was sent
    } finally {
      await tls.stop();
    }
  });

  it('goes through HTTPS_PROXY (CONNECT) as the app\'s Azure SDK would, and around it with NO_PROXY', async () => {
    const cert = selfSignedCert(files.dir);
    const tls = await startAad({ tls: cert });
    const proxy = await startConnectProxy();
    try {
      const env = { ...podEnv(noCache), AZURE_AUTHORITY_HOST: tls.authorityHost, NODE_EXTRA_CA_CERTS: cert.certFile, HTTPS_PROXY: proxy.url };
      const viaProxy = await service(env);
      const r = await viaProxy.get('/readyz');
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.checks[2].reason).toMatch(/succeeded$/);
      expect(r.body.checks[2].reason).toContain(`via proxy ${proxy.url}`);
      expect(proxy.connects()).toHaveLength(1);
      expect(tls.requests()).toHaveLength(1);
      const direct = await service({ ...env, NO_PROXY: 'localhost,127.0.0.1' });
      expect((await direct.get('/readyz')).status).toBe(200);
      expect(proxy.connects()).toHaveLength(1); // NO_PROXY: not through the proxy
      expect(tls.requests()).toHaveLength(2);
    } finally {
      await proxy.stop();
      await tls.stop();
    }
  });

  it('refuses to start on a malformed setting, naming the variable', async () => {
    await expect(startService({ IDENTITY_HEALTH_CHECK: 'workload-identity', IDENTITY_HEALTH_WI_PROXY_PORT: 'eight' })).rejects.toThrow(/IDENTITY_HEALTH_WI_PROXY_PORT="eight" is not a port/);
  });
});
