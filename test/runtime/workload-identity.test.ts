/**
 * Unit tests of the workload identity check (strategy 9) against the AAD / proxy stand-ins in
 * ./aad.ts and token files in a temp dir; the cache and grace timers run on a fake clock.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  checkFederatedToken, checkWorkloadIdentity, checkWorkloadIdentityProxy, createHealthHandlers, exchangeFederatedToken,
  fromEnv, IdentityHealth, IdentityHealthOptions, proxyFor, RUNTIME_ENV, WorkloadIdentityCheckOptions, workloadIdentityTokenUrl,
} from '../../src/runtime';
import {
  Aad, ASSERTION_TYPE, CLIENT_ID, federatedToken, jwt, selfSignedCert, startAad, startConnectProxy, TENANT_ID, tokenDir, webhookEnv,
} from './aad';

let aad: Aad;
let files: ReturnType<typeof tokenDir>;
let valid: string;
beforeAll(async () => {
  aad = await startAad();
  files = tokenDir();
});
afterAll(async () => {
  await aad?.stop();
  files?.cleanup();
});
afterEach(() => aad.reset());

/** A fresh valid token file and options that read the webhook env from a map (never process.env). */
function wi(o: Partial<WorkloadIdentityCheckOptions> = {}, env: Record<string, string | undefined> = {}): WorkloadIdentityCheckOptions {
  valid = files.write(federatedToken());
  return { env: { ...webhookEnv(aad, valid), ...env }, timeoutMs: 300, proxyTimeoutMs: 300, ...o };
}
const exchanges = () => aad.requests().length;
/** Nothing in a result may carry the federated token or an access token. */
const noToken = (x: unknown) => expect(JSON.stringify(x)).not.toMatch(/eyJ/);

describe('checkFederatedToken: webhook env and token file', () => {
  it('is healthy with the four env vars and an unexpired JWT, and says until when', async () => {
    const r = await checkFederatedToken(wi());
    expect(r).toMatchObject({ name: 'workload-identity', ok: true, transient: false, reason: expect.stringMatching(/webhook env set, federated token in .* valid until 20\d\d-/) });
    noToken(r);
  });

  // Per variable, as the webhook sets them (azure-workload-identity v1.6 pkg/webhook/webhook.go
  // addEnvironmentVariables); each needs the pod recreated, so no restart (restart: false).
  it.each<[string, RegExp]>([
    ['AZURE_CLIENT_ID', /^AZURE_CLIENT_ID is not set while the other webhook variables are: the pod's ServiceAccount has no annotation azure.workload.identity\/client-id \(missing, empty or misspelt\).*recreate the pod \(a container restart does not help\)$/],
    ['AZURE_TENANT_ID', /^AZURE_TENANT_ID is not set while the other webhook variables are: neither the ServiceAccount annotation azure.workload.identity\/tenant-id nor the webhook's configured tenant/],
    ['AZURE_FEDERATED_TOKEN_FILE', /^AZURE_FEDERATED_TOKEN_FILE is not set while the other webhook variables are: the container defines it itself, empty \(the webhook keeps a variable the container already has\)/],
    ['AZURE_AUTHORITY_HOST', /^AZURE_AUTHORITY_HOST is not set while the other webhook variables are/],
  ])('without %s: says which source the webhook takes it from', async (name, reason) => {
    const r = await checkFederatedToken(wi({}, { [name]: undefined }));
    expect(r).toMatchObject({ ok: false, transient: false, restart: false, reason: expect.stringMatching(reason) });
    expect((await checkFederatedToken(wi({}, { [name]: '' }))).reason).toMatch(reason);
  });

  it('none set: the pod lacks the azure.workload.identity/use label (the webhook, failurePolicy Fail, never starts a pod unmutated)', async () => {
    const r = await checkFederatedToken({ env: {} });
    expect(r).toMatchObject({ ok: false, restart: false });
    expect(r.reason).toMatch(/^none of AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST is set: the workload identity webhook did not mutate this container. The pod lacks the label azure.workload.identity\/use: "true" .*or this container is listed in the annotation azure.workload.identity\/skip-containers/);
    expect(r.reason).not.toMatch(/webhook was not running/);
  });

  it('reads process.env by default', async () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, webhookEnv(aad, files.write(federatedToken())));
      expect((await checkFederatedToken()).ok).toBe(true);
      delete process.env.AZURE_TENANT_ID;
      expect((await checkFederatedToken()).reason).toMatch(/^AZURE_TENANT_ID is not set while/);
    } finally {
      for (const k of Object.keys(webhookEnv(aad, ''))) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
    }
  });

  it('checks AZURE_CLIENT_ID against the expected client id (case-insensitive GUID)', async () => {
    expect((await checkFederatedToken(wi({ expectClientId: CLIENT_ID.toUpperCase() }))).ok).toBe(true);
    const other = '55555555-5555-5555-5555-555555555555';
    expect(await checkFederatedToken(wi({ expectClientId: other }))).toMatchObject({
      ok: false, restart: false,
      reason: `AZURE_CLIENT_ID is ${CLIENT_ID}, expected ${other}: fix the ServiceAccount annotation azure.workload.identity/client-id (or the container's own AZURE_CLIENT_ID, which the webhook keeps) and recreate the pod; a container restart does not help`,
    });
  });

  it.each<[string, () => string, RegExp]>([
    ['missing', () => path.join(files.dir, 'nope'), /federated token file .*nope is missing or unreadable \(projected service account token volume\): ENOENT/],
    ['a directory (unreadable as a file)', () => files.dir, /is missing or unreadable .*EISDIR/],
    ['empty', () => files.write('', 'empty'), /federated token file .*empty is empty$/],
    ['blank', () => files.write(' \n', 'blank'), /is empty$/],
    ['not a JWT', () => files.write('not-a-jwt', 'plain'), /federated token in .*plain has no exp claim \(not a JWT\?\)/],
    ['a JWT without exp', () => files.write(jwt({ sub: 'x' }), 'noexp'), /has no exp claim/],
    ['a JWT with a string exp', () => files.write(jwt({ exp: '99999999999' }), 'strexp'), /has no exp claim/],
    ['expired', () => files.write(federatedToken(-60), 'expired'), /federated token in .*expired expired at 20\d\d-\d\d-\d\dT.*Z \(kubelet stopped refreshing the projected token\?\)/],
  ])('token file %s -> hard fault with the reason', async (_name, file, reason) => {
    const r = await checkFederatedToken(wi({}, { AZURE_FEDERATED_TOKEN_FILE: file() }));
    expect(r).toMatchObject({ name: 'workload-identity', ok: false, transient: false, reason: expect.stringMatching(reason) });
    noToken(r);
  });

  it('compares exp with the clock (exp must be in the future)', async () => {
    const o = wi();
    const exp = (JSON.parse(Buffer.from(fs.readFileSync(valid, 'utf8').split('.')[1], 'base64url').toString()) as { exp: number }).exp;
    expect((await checkFederatedToken({ ...o, now: () => exp * 1000 - 1 })).ok).toBe(true);
    expect((await checkFederatedToken({ ...o, now: () => exp * 1000 })).reason).toMatch(/expired at/);
  });

  it('does not wait on a FIFO (no writer) or a device', async () => {
    const fifo = path.join(files.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const t0 = Date.now();
    expect((await checkFederatedToken(wi({}, { AZURE_FEDERATED_TOKEN_FILE: fifo }))).reason).toMatch(/is empty|unreadable/);
    expect((await checkFederatedToken(wi({}, { AZURE_FEDERATED_TOKEN_FILE: '/dev/zero' }))).reason).toMatch(/no exp claim/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('reads a huge file only in part (a wrong path must not stall the probe)', async () => {
    const big = files.write('x'.repeat(200_000), 'big');
    const r = await checkFederatedToken(wi({}, { AZURE_FEDERATED_TOKEN_FILE: big }));
    expect(r.reason).toMatch(/no exp claim/);
  });
});

describe('checkWorkloadIdentityProxy', () => {
  it('is ready on 200 from GET 127.0.0.1:<port>/readyz, not on 503, refused or hanging', async () => {
    expect(await checkWorkloadIdentityProxy({ proxyPort: aad.proxyPort })).toMatchObject({ name: 'wi-proxy', ok: true, status: 200 });
    aad.set({ proxy: 'not-ready' });
    expect(await checkWorkloadIdentityProxy({ proxyPort: aad.proxyPort })).toMatchObject({ ok: false, transient: false, status: 503, reason: `workload identity proxy sidecar not ready on port ${aad.proxyPort}: http://127.0.0.1:${aad.proxyPort}/readyz answered 503` });
    expect((await checkWorkloadIdentityProxy({ proxyPort: 1 })).reason).toMatch(/not ready on port 1: connect ECONNREFUSED .*is the azwi-proxy sidecar running\? annotation azure.workload.identity\/inject-proxy-sidecar/);
    aad.set({ proxy: 'hang' });
    const t0 = Date.now();
    expect((await checkWorkloadIdentityProxy({ proxyPort: aad.proxyPort, proxyTimeoutMs: 300 })).reason).toMatch(/no answer within 0.3 s \(proxy hung\?\)/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('exchangeFederatedToken: client credentials at AAD', () => {
  it('builds the URL from AZURE_AUTHORITY_HOST (trailing / or not) and AZURE_TENANT_ID', () => {
    expect(workloadIdentityTokenUrl('https://login.microsoftonline.com/', TENANT_ID)).toBe(`https://login.microsoftonline.com/${TENANT_ID}/oauth2/v2.0/token`);
    expect(workloadIdentityTokenUrl('https://login.microsoftonline.com', TENANT_ID)).toBe(`https://login.microsoftonline.com/${TENANT_ID}/oauth2/v2.0/token`);
  });

  it('POSTs the form an Azure SDK sends, with the file as client assertion, and never returns a token', async () => {
    const r = await exchangeFederatedToken(wi());
    expect(r).toEqual({ name: 'wi-exchange', ok: true, transient: false, status: 200, reason: `token exchange at ${aad.authorityHost}${TENANT_ID}/oauth2/v2.0/token succeeded` });
    const [req] = aad.requests();
    expect(req).toMatchObject({ method: 'POST', path: `/${TENANT_ID}/oauth2/v2.0/token`, contentType: 'application/x-www-form-urlencoded' });
    expect(req.form).toEqual({
      client_id: CLIENT_ID, client_assertion: fs.readFileSync(valid, 'utf8'), client_assertion_type: ASSERTION_TYPE,
      grant_type: 'client_credentials', scope: 'https://management.azure.com/.default',
    });
    await exchangeFederatedToken(wi({ scope: 'https://vault.azure.net/.default' }));
    expect(aad.requests()[1].form.scope).toBe('https://vault.azure.net/.default');
  });

  it.each<[string, Parameters<Aad['set']>[0], number, RegExp]>([
    ['no matching federated identity credential (AADSTS700213)', { subject: 'system:serviceaccount:shop:other' }, 400,
      /answered 400: invalid_request: AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:shop:orders'.*: no matching federated identity credential: add one to the identity \(issuer = the cluster's OIDC issuer URL, subject = system:serviceaccount:<namespace>:<service account>/],
    ['older code AADSTS70021', { token: 400, error: 'invalid_request', description: 'AADSTS70021: No matching federated identity record found for presented assertion.' }, 400, /AADSTS70021.*: no matching federated identity credential/],
    ['invalid_client 401', { token: 401, error: 'invalid_client', description: 'AADSTS7000215: Invalid client secret provided.' }, 401, /answered 401: invalid_client: .*AAD rejected the client assertion \(invalid_client\): no matching federated identity credential/],
    ['invalid_client 400 without a known code', { token: 400, error: 'invalid_client', description: 'AADSTS50027: JWT token is invalid or malformed.' }, 400, /AAD rejected the client assertion \(invalid_client\)/],
    ['unknown client id (AADSTS700016)', { clientId: '55555555-5555-5555-5555-555555555555' }, 400, /unauthorized_client: AADSTS700016: .*: the application \(AZURE_CLIENT_ID\) is not found in the tenant: check the service account annotation/],
    ['other 400', { token: 400, error: 'invalid_request', description: 'AADSTS900144: missing parameter.' }, 400, /AAD rejected the request \(invalid_request\): federated identity credential missing or wrong/],
  ])('%s -> hard fault that says so', async (_name, state, status, reason) => {
    aad.set(state);
    const r = await exchangeFederatedToken(wi());
    expect(r).toMatchObject({ name: 'wi-exchange', ok: false, transient: false, status, reason: expect.stringMatching(reason) });
    expect(r.reason).not.toMatch(/Trace ID/); // the first sentence only
    noToken(r);
  });

  it('keeps what AAD says about the assertion (issuer, subject, audience), drops the trace ids, in both layouts AAD uses', async () => {
    // As AAD answered in Azure/azure-workload-identity#616 (ids replaced).
    aad.set({ token: 400, error: 'invalid_request', description: "AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://oidc.example/issuer'. Assertion Subject: 'system:serviceaccount:default:workload-identity-sa'. Assertion Audience: 'api://AzureADTokenExchange'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation" });
    const r = await exchangeFederatedToken(wi());
    expect(r.reason).toMatch(/Assertion Subject: 'system:serviceaccount:default:workload-identity-sa'. Assertion Audience: 'api:\/\/AzureADTokenExchange'.*: no matching federated identity credential/);
    expect(r.reason).not.toMatch(/Trace ID|Correlation/);
    // Trace ids on the same line (Azure/azure-workload-identity#1200), and the case-sensitivity code.
    aad.set({ token: 400, error: 'invalid_client', description: "AADSTS7002138: No matching federated identity record found for presented assertion subject 'system:serviceaccount:Shop:orders'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation Trace ID: xx Correlation ID: yy Timestamp: 2025-04-22 01:01:11Z" });
    const r2 = await exchangeFederatedToken(wi());
    expect(r2.reason).toMatch(/AADSTS7002138: .*workload-identity-federation: no matching federated identity credential: .*matched case-sensitively/);
    expect(r2.reason).not.toMatch(/Trace ID|Correlation/);
  });

  it.each([429, 500, 503, 504])('%i -> transient', async (status) => {
    aad.set({ token: status, error: 'temporarily_unavailable', description: 'AADSTS50196: The server terminated an operation because it encountered a client request loop.' });
    const r = await exchangeFederatedToken(wi());
    expect(r).toMatchObject({ ok: false, transient: true, status, reason: expect.stringMatching(status === 429 ? /answered 429.*AAD throttled/ : new RegExp(`answered ${status}.*transient fault at AAD`)) });
  });

  it('a timeout is transient and bounded', async () => {
    aad.set({ token: 'hang' });
    const t0 = Date.now();
    const r = await exchangeFederatedToken(wi());
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r).toMatchObject({ ok: false, transient: true, reason: expect.stringMatching(/token exchange at .*: no answer within 0.3 s \(AAD slow or unreachable/) });
  });

  it('200 without access_token is a hard fault', async () => {
    aad.set({ token: 'bad-body' });
    expect(await exchangeFederatedToken(wi())).toMatchObject({ ok: false, transient: false, status: 200, reason: expect.stringMatching(/answered 200 without an access_token/) });
  });

  it('a refused connection is a hard fault; a malformed AZURE_AUTHORITY_HOST is named', async () => {
    expect(await exchangeFederatedToken(wi({}, { AZURE_AUTHORITY_HOST: 'http://127.0.0.1:1/' }))).toMatchObject({ ok: false, transient: false, reason: expect.stringMatching(/failed: connect ECONNREFUSED .*egress to AZURE_AUTHORITY_HOST blocked\?/) });
    expect((await exchangeFederatedToken(wi({}, { AZURE_AUTHORITY_HOST: 'not a url' }))).reason).toBe('AZURE_AUTHORITY_HOST="not a url" is not an http(s) URL');
    expect((await exchangeFederatedToken(wi({}, { AZURE_AUTHORITY_HOST: 'ftp://x/' }))).reason).toMatch(/is not an http\(s\) URL/);
    await new Promise((r) => setTimeout(r, 400)); // a stray timer would throw here
  });

  it('scrubs anything token-shaped that AAD might echo', async () => {
    aad.set({ token: 400, error: 'invalid_client', description: `AADSTS50027: bad assertion ${federatedToken()}.` });
    const r = await exchangeFederatedToken(wi());
    expect(r.reason).toMatch(/bad assertion <redacted>/);
    noToken(r);
  });

  it('does not exchange when the token file is bad', async () => {
    const r = await exchangeFederatedToken(wi({}, { AZURE_FEDERATED_TOKEN_FILE: path.join(files.dir, 'nope') }));
    expect(r).toMatchObject({ name: 'workload-identity', ok: false });
    expect(exchanges()).toBe(0);
  });
});

describe('HTTPS_PROXY / NO_PROXY for the exchange (as curl and the Azure SDKs)', () => {
  const AAD = 'https://login.microsoftonline.com/t/oauth2/v2.0/token';

  it('picks the proxy for https targets unless NO_PROXY covers the host', () => {
    expect(proxyFor(AAD, {})).toBeUndefined();
    expect(proxyFor(AAD, { HTTPS_PROXY: 'http://proxy.corp:3128' })?.host).toBe('proxy.corp:3128');
    expect(proxyFor(AAD, { https_proxy: 'proxy.corp:3128' })?.href).toBe('http://proxy.corp:3128/');
    expect(proxyFor('http://127.0.0.1:1/t', { HTTPS_PROXY: 'http://proxy.corp:3128' })).toBeUndefined(); // plain http: direct
    for (const noProxy of ['*', 'login.microsoftonline.com', '.microsoftonline.com', 'microsoftonline.com', '*.microsoftonline.com', 'x, login.microsoftonline.com:443', 'LOGIN.microsoftonline.com']) {
      expect(proxyFor(AAD, { HTTPS_PROXY: 'http://p:1', NO_PROXY: noProxy }), noProxy).toBeUndefined();
    }
    for (const noProxy of ['online.com', 'microsoft.com', '10.0.0.0/8', '']) {
      expect(proxyFor(AAD, { HTTPS_PROXY: 'http://p:1', no_proxy: noProxy }), noProxy).toBeDefined();
    }
    expect(proxyFor('https://[::1]:8443/t', { HTTPS_PROXY: 'http://p:1', NO_PROXY: '[::1]:8443' })).toBeUndefined();
    expect(() => proxyFor(AAD, { HTTPS_PROXY: 'http://[bad' })).toThrow('HTTPS_PROXY is set but is not a URL');
    expect(() => proxyFor(AAD, { HTTPS_PROXY: 'https://p:1' })).toThrow(/only an http:\/\/ proxy \(CONNECT\) is supported/);
  });

  it('tunnels through the proxy (CONNECT, credentials from the URL) and names it, never its password', async () => {
    const cert = selfSignedCert(files.dir);
    const tls = await startAad({ tls: cert });
    const proxy = await startConnectProxy({ auth: 'user:p@ss' });
    try {
      const env = { HTTPS_PROXY: proxy.url.replace('//', '//user:p%40ss@') };
      const r = await exchangeFederatedToken(wi({}, { AZURE_AUTHORITY_HOST: tls.authorityHost, ...env }));
      // The tunnel was opened; this process does not trust the stand-in's certificate (the service test does).
      expect(proxy.connects()).toEqual([{ target: tls.authorityHost.replace(/^https:\/\/|\/$/g, ''), auth: `Basic ${Buffer.from('user:p@ss').toString('base64')}` }]);
      expect(r).toMatchObject({ ok: false, transient: false, reason: expect.stringMatching(new RegExp(`via proxy http://127.0.0.1:\\d+ failed: .*self[- ]signed certificate`)) });
      expect(r.reason).not.toContain('p@ss');
      const wrong = await exchangeFederatedToken(wi({}, { AZURE_AUTHORITY_HOST: tls.authorityHost, HTTPS_PROXY: proxy.url }));
      expect(wrong).toMatchObject({ ok: false, transient: false, status: 407, reason: expect.stringMatching(/answered CONNECT with 407 \(the proxy wants credentials: user:password in HTTPS_PROXY\)/) });
    } finally {
      await proxy.stop();
      await tls.stop();
    }
  });

  it('a proxy that refuses the tunnel: 403 hard, 502 transient; an unreachable proxy is named', async () => {
    const target = { AZURE_AUTHORITY_HOST: 'https://127.0.0.1:9/' };
    for (const [answer, transient] of [[403, false], [502, true]] as const) {
      const proxy = await startConnectProxy({ answer });
      try {
        const r = await exchangeFederatedToken(wi({}, { ...target, HTTPS_PROXY: proxy.url }));
        expect(r).toMatchObject({ ok: false, transient, status: answer, reason: expect.stringMatching(new RegExp(`answered CONNECT with ${answer} \\(the proxy refused the tunnel`)) });
      } finally {
        await proxy.stop();
      }
    }
    const r = await exchangeFederatedToken(wi({}, { ...target, HTTPS_PROXY: 'http://127.0.0.1:1' }));
    expect(r).toMatchObject({ ok: false, transient: false, reason: expect.stringMatching(/via proxy http:\/\/127.0.0.1:1 failed: connect ECONNREFUSED .*is the proxy in HTTPS_PROXY reachable\?/) });
    expect((await exchangeFederatedToken(wi({}, { ...target, HTTPS_PROXY: 'http://[bad' }))).reason).toMatch(/HTTPS_PROXY is set but is not a URL/);
  });

  it('leaves no socket behind, direct or through the tunnel', async () => {
    const cert = selfSignedCert(files.dir);
    if (!cert) return;
    const tls = await startAad({ tls: cert });
    const proxy = await startConnectProxy();
    const handles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    try {
      const before = handles();
      for (let i = 0; i < 20; i++) {
        await exchangeFederatedToken(wi()); // direct, http
        await exchangeFederatedToken(wi({}, { AZURE_AUTHORITY_HOST: tls.authorityHost, HTTPS_PROXY: proxy.url })); // tunnel, then TLS fails
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(proxy.connects()).toHaveLength(20);
      expect(handles() - before).toBeLessThanOrEqual(2);
    } finally {
      await proxy.stop();
      await tls.stop();
    }
  });

  it('a proxy that accepts the tunnel and then stalls is bounded by the timeout', async () => {
    const net = await import('node:net');
    const stall = net.createServer((s) => s.once('data', () => s.write('HTTP/1.1 200 Connection Established\r\n\r\n'))); // then silence
    await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
    try {
      const t0 = Date.now();
      const r = await exchangeFederatedToken(wi({}, { AZURE_AUTHORITY_HOST: 'https://127.0.0.1:9/', HTTPS_PROXY: `http://127.0.0.1:${(stall.address() as import('node:net').AddressInfo).port}` }));
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(r).toMatchObject({ ok: false, transient: true, reason: expect.stringMatching(/via proxy .*no answer within 0.3 s/) });
    } finally {
      await new Promise((r) => stall.close(r));
    }
    await new Promise((r) => setTimeout(r, 400)); // no stray timer or socket error afterwards
  });
});

describe('checkWorkloadIdentity: the whole check, in the shell order', () => {
  it('env and file only by default: no request at all', async () => {
    expect(await checkWorkloadIdentity(wi())).toMatchObject({ name: 'workload-identity', ok: true, reason: 'webhook env and federated token file ok' });
    expect(exchanges()).toBe(0);
  });

  it('with proxy and exchange: all three, and the first failure stops the rest', async () => {
    const all = wi({ exchange: true, proxyPort: aad.proxyPort });
    expect(await checkWorkloadIdentity(all)).toMatchObject({ ok: true, reason: 'webhook env and federated token file, proxy sidecar, token exchange ok' });
    expect(exchanges()).toBe(1);
    aad.set({ proxy: 'not-ready' });
    expect(await checkWorkloadIdentity(all)).toMatchObject({ name: 'wi-proxy', ok: false });
    expect(exchanges()).toBe(1);
    aad.set({ proxy: 'ready', subject: 'other' });
    expect(await checkWorkloadIdentity(all)).toMatchObject({ name: 'wi-exchange', ok: false, reason: expect.stringMatching(/AADSTS700213/) });
    expect(await checkWorkloadIdentity({ ...all, env: { ...all.env, AZURE_FEDERATED_TOKEN_FILE: files.write(federatedToken(-1), 'old') } })).toMatchObject({ name: 'workload-identity', ok: false, reason: expect.stringMatching(/expired/) });
    expect(exchanges()).toBe(2);
  });
});

describe('IdentityHealth with workload identity, on a fake clock', () => {
  let t = 0;
  const health = (o: Partial<IdentityHealthOptions> = {}, w: Partial<WorkloadIdentityCheckOptions> = {}) => {
    t = 1_000_000;
    return new IdentityHealth({ check: 'workload-identity', workloadIdentity: wi({ exchange: true, ...w }), now: () => t, ...o });
  };

  it('bounds one evaluation as the manifest assumes (1 s + proxy 2 s + exchange timeout)', () => {
    expect(new IdentityHealth({ check: 'workload-identity' }).boundMs).toBe(1000);
    expect(new IdentityHealth({ check: 'workload-identity', workloadIdentity: { exchange: true } }).boundMs).toBe(5000);
    expect(new IdentityHealth({ check: 'workload-identity', workloadIdentity: { exchange: true, timeoutMs: 2000, proxyPort: 8000 } }).boundMs).toBe(5000);
    expect(new IdentityHealth({ check: 'workload-identity' }).kind).toBe('workload-identity');
  });

  it('checks the file every call, caches the exchange for the TTL (concurrent callers share one request)', async () => {
    const h = health({ tokenCacheTtlMs: 20_000 }, { proxyPort: aad.proxyPort });
    const rs = await Promise.all([h.readiness(), h.liveness(), h.readiness()]);
    expect(rs.map((r) => r.ok)).toEqual([true, true, true]);
    expect(rs[0].checks.map((c) => c.name)).toEqual(['workload-identity', 'wi-proxy', 'wi-exchange']);
    expect(exchanges()).toBe(1);
    t += 19_999;
    expect((await h.readiness()).ok).toBe(true);
    expect(exchanges()).toBe(1);
    // The file is read every call: an expired token shows at once, cache or not.
    const saved = fs.readFileSync(valid, 'utf8');
    files.write(federatedToken(-5), path.basename(valid));
    const r = await h.readiness();
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/expired at/) });
    expect(r.checks.map((c) => c.name)).toEqual(['workload-identity']);
    files.write(saved, path.basename(valid));
    // So is the proxy.
    aad.set({ proxy: 'not-ready' });
    expect((await h.readiness()).reason).toMatch(/proxy sidecar not ready/);
    aad.set({ proxy: 'ready' });
    t += 1;
    expect((await h.readiness()).ok).toBe(true);
    expect(exchanges()).toBe(2);
  });

  it('without exchange: never calls AAD', async () => {
    const h = health({}, { exchange: false });
    for (let i = 0; i < 5; i++) { expect((await h.readiness()).ok).toBe(true); t += 60_000; }
    expect(exchanges()).toBe(0);
  });

  it('a missing federated identity credential fails liveness at once after a success, and readiness', async () => {
    const h = health({ tokenCacheTtlMs: 0 });
    expect((await h.liveness()).ok).toBe(true);
    aad.set({ subject: 'system:serviceaccount:shop:renamed' });
    t += 1;
    const live = await h.liveness();
    expect(live).toMatchObject({ ok: false, reason: expect.stringMatching(/no matching federated identity credential/) });
    expect((await h.readiness()).ok).toBe(false);
  });

  it('AAD 500/429/timeouts fail readiness but liveness only after the transient grace', async () => {
    const h = health({ tokenCacheTtlMs: 0, transientGraceMs: 60_000 });
    expect((await h.liveness()).ok).toBe(true);
    aad.set({ token: 503 });
    t += 1;
    expect((await h.readiness())).toMatchObject({ ok: false, checks: [{ ok: true }, { name: 'wi-exchange', ok: false, transient: true }] });
    t += 30_000;
    expect((await h.liveness())).toMatchObject({ ok: true, reason: expect.stringMatching(/transient fault for 30 s, liveness holds up to 60 s: .*answered 503/) });
    aad.set({ token: 'hang' });
    t += 31_000;
    expect((await h.liveness())).toMatchObject({ ok: false, reason: expect.stringMatching(/transient fault lasting 61 s \(over 60 s\): token exchange .*no answer within/) });
    aad.set({ token: 'ok' });
    t += 1;
    expect((await h.liveness()).ok).toBe(true);
    aad.set({ token: 429 });
    t += 1;
    expect((await h.liveness()).reason).toMatch(/transient fault for 0 s/); // the grace starts again
  });

  it('holds liveness during the startup grace until the first success (token file missing at start)', async () => {
    const h = new IdentityHealth({ check: 'workload-identity', workloadIdentity: wi({}, { AZURE_FEDERATED_TOKEN_FILE: path.join(files.dir, 'later') }), startupGraceMs: 180_000, now: () => t });
    expect(await h.liveness()).toMatchObject({ ok: true, reason: expect.stringMatching(/startup grace \(180 s left\): federated token file .*later is missing/) });
    expect((await h.readiness()).ok).toBe(false);
    t += 180_000;
    expect((await h.liveness()).ok).toBe(false);
  });

  it.each<[string, Record<string, string | undefined>, RegExp]>([
    ['webhook never mutated the pod', { AZURE_CLIENT_ID: undefined, AZURE_TENANT_ID: undefined, AZURE_FEDERATED_TOKEN_FILE: undefined, AZURE_AUTHORITY_HOST: undefined }, /none of AZURE_CLIENT_ID/],
    ['ServiceAccount annotation missing', { AZURE_CLIENT_ID: undefined }, /annotation azure.workload.identity\/client-id/],
  ])('%s: NotReady with the reason, liveness never fails (only recreating the pod helps: no restart loop)', async (_name, env, reason) => {
    const h = new IdentityHealth({ check: 'workload-identity', workloadIdentity: wi({ exchange: true }, env), startupGraceMs: 180_000, now: () => t });
    expect(await h.readiness()).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
    for (const step of [0, 180_000, 3_600_000]) {
      t += step;
      expect(await h.liveness()).toMatchObject({ ok: true, reason: expect.stringMatching(reason) });
    }
    expect(exchanges()).toBe(0);
  });

  it('logs changes only, never a token', async () => {
    const lines: string[] = [];
    const h = health({ tokenCacheTtlMs: 0, log: (l) => lines.push(l) });
    await h.readiness();
    await h.readiness();
    aad.set({ subject: 'other' });
    await h.readiness();
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^identity-health: wi-exchange fail: .*AADSTS700213/);
    noToken(lines);
  });

  it('handlers answer 503 with the reason and the check names', async () => {
    const handlers = createHealthHandlers({ check: 'workload-identity', workloadIdentity: wi({ exchange: true }), checks: [{ name: 'db', check: () => true }] });
    const r = await handlers.report('readiness');
    expect(r.checks.map((c) => c.name)).toEqual(['workload-identity', 'wi-exchange', 'db']);
    expect(r.ok).toBe(true);
  });
});

describe('fromEnv for workload identity (strategy 9)', () => {
  const base = { [RUNTIME_ENV.check]: 'workload-identity' };

  it('reads the env strategy 9 sets; no HOST_IP or NMI settings', () => {
    const env = {
      ...base, [RUNTIME_ENV.clientId]: CLIENT_ID, [RUNTIME_ENV.wiExchange]: 'true', [RUNTIME_ENV.wiScope]: 'https://vault.azure.net/.default',
      [RUNTIME_ENV.tokenTimeout]: '3', [RUNTIME_ENV.wiProxyPort]: '8000', [RUNTIME_ENV.tokenCacheTtl]: '30',
      [RUNTIME_ENV.startupGrace]: '120', [RUNTIME_ENV.transientGrace]: '90',
    };
    const o = fromEnv(env);
    expect(o).toEqual({
      check: 'workload-identity',
      workloadIdentity: { expectClientId: CLIENT_ID, exchange: true, scope: 'https://vault.azure.net/.default', timeoutMs: 3000, proxyPort: 8000, env },
      tokenCacheTtlMs: 30_000, startupGraceMs: 120_000, transientGraceMs: 90_000,
    });
    expect(new IdentityHealth(o).boundMs).toBe(1000 + 2000 + 3000);
  });

  it('defaults: no exchange, no proxy, the usual cache and graces', () => {
    expect(fromEnv(base)).toMatchObject({
      check: 'workload-identity', workloadIdentity: { exchange: false, proxyPort: undefined, timeoutMs: 4000 },
      tokenCacheTtlMs: 20_000, startupGraceMs: 180_000, transientGraceMs: 60_000,
    });
  });

  it('the webhook env comes from the given map, not process.env', async () => {
    const env = { ...base, ...webhookEnv(aad, files.write(federatedToken())) };
    expect((await new IdentityHealth(fromEnv(env)).readiness()).ok).toBe(true);
    expect((await new IdentityHealth(fromEnv(base)).readiness()).reason).toMatch(/^none of AZURE_CLIENT_ID/);
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ [RUNTIME_ENV.wiExchange]: 'yes' }, /IDENTITY_HEALTH_WI_EXCHANGE="yes" must be true or false/],
    [{ [RUNTIME_ENV.wiProxyPort]: '80000' }, /IDENTITY_HEALTH_WI_PROXY_PORT="80000" is not a port/],
    [{ [RUNTIME_ENV.wiProxyPort]: 'http' }, /IDENTITY_HEALTH_WI_PROXY_PORT="http" is not a port/],
    [{ [RUNTIME_ENV.tokenTimeout]: '-1' }, /IDENTITY_HEALTH_TOKEN_TIMEOUT_SECONDS="-1" is not a number of seconds/],
    [{ [RUNTIME_ENV.tokenCacheTtl]: 'x' }, /IDENTITY_HEALTH_TOKEN_CACHE_TTL_SECONDS="x"/],
  ])('refuses %j', (env, msg) => {
    expect(() => fromEnv({ ...base, ...env })).toThrow(msg);
  });
});
