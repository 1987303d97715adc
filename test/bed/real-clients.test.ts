/**
 * The stand-ins against clients no one here wrote: @azure/identity's ManagedIdentityCredential
 * (MSAL Node's IMDS source, pointed at the NMI/IMDS stand-in through
 * AZURE_POD_IDENTITY_AUTHORITY_HOST, the variable MSAL reads for pod identity) and its
 * WorkloadIdentityCredential (MSAL's confidential client with a client assertion read from a
 * projected token file) against the AAD stand-in over TLS. A real client that cannot get a token
 * from a stand-in, or reads its errors differently from the upstream service's, is a stand-in bug.
 *
 * WorkloadIdentityCredential runs in a child process: it must trust the stand-in's self-signed
 * certificate (NODE_EXTRA_CA_CERTS is read at process start) and MSAL only accepts https
 * authorities. `disableInstanceDiscovery` keeps MSAL from asking login.microsoftonline.com about
 * an authority it does not know (127.0.0.1): with it, MSAL fetches the tenant's OpenID metadata
 * from the stand-in, as it does from AAD for a private cloud.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NODE_MI, POD_MI } from './bed';
import { Aad, CLIENT_ID, federatedToken, selfSignedCert, startAad, TENANT_ID, tokenDir, webhookEnv } from '../runtime/aad';
import { msalStandIn, OTHER_MI as OTHER } from './msal-stand-in';

const SCOPE = 'https://vault.azure.net/.default';
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

describe('ManagedIdentityCredential (@azure/identity) against the NMI/IMDS stand-in', () => {
  const mock = msalStandIn({ nmi: 'active', intercept: 'auto', nmiMode: 'managed', podIdentities: [POD_MI, OTHER], nodeIdentities: [NODE_MI, POD_MI, OTHER], podInCache: true, token: 'ok', tokenVersion: '1.0', identity: null });
  const lastToken = async () => (await mock.requests()).filter((r) => r.kind === 'token').at(-1)!;
  // MSAL keeps managed identity tokens in a process-wide cache: a fresh resource per call reaches the stand-in.
  let n = 0;
  const get = (o: ConstructorParameters<typeof ManagedIdentityCredential>[0]) =>
    new ManagedIdentityCredential(o as any).getToken(`https://r${++n}.vault.azure.net/.default`, { abortSignal: AbortSignal.timeout(20_000) });

  it('client id: NMI answers with that identity; the request carries client_id and Metadata: true', async () => {
    const t = await get({ clientId: OTHER.clientId });
    expect(claims(t.token)).toMatchObject({ appid: OTHER.clientId, aud: `https://r${n}.vault.azure.net` });
    expect(t.expiresOnTimestamp).toBeGreaterThan(Date.now());
    const r = await lastToken();
    expect(r).toMatchObject({ by: 'nmi', status: 200, metadata: 'true' });
    expect(new URLSearchParams(r.query).get('client_id')).toBe(OTHER.clientId);
  });

  it('resource id: MSAL sends msi_res_id, which NMI reads', async () => {
    const t = await get({ resourceId: OTHER.resourceId });
    expect(claims(t.token).appid).toBe(OTHER.clientId);
    expect(new URLSearchParams((await lastToken()).query).get('msi_res_id')).toBe(OTHER.resourceId);
  });

  it('object id: NMI does not read object_id and answers with the first bound identity (what an app selecting by object id gets)', async () => {
    const t = await get({ objectId: OTHER.objectId });
    expect(claims(t.token)).toMatchObject({ appid: POD_MI.clientId, oid: POD_MI.objectId });
    expect(new URLSearchParams((await lastToken()).query).get('object_id')).toBe(OTHER.objectId);
  });

  it('NMI rule gone: IMDS answers the named identity, and refuses a request naming none when the node has several', async () => {
    await mock.set({ nmi: 'not-active' });
    expect(claims((await get({ clientId: POD_MI.clientId })).token).appid).toBe(POD_MI.clientId);
    expect((await lastToken()).by).toBe('imds');
    await expect(get({})).rejects.toThrow(/Multiple user assigned identities exist/);
  });

  // MSAL retries 404 and 5xx with back-off (IMDS retry guidance), about 20 s per fault: the 500
  // case (pod not matched) is covered by bed.test.
  it('NMI errors reach the app: 404 (not bound, after the client\'s retries), 403 (identity removed from the VMSS, not retried)', async () => {
    await mock.set({ podIdentities: [] });
    await expect(get({ clientId: POD_MI.clientId })).rejects.toThrow(/no azure identity found/);
    // MSAL's own IMDS retry (not retryOptions) asks several times over ~20 s before it gives up.
    const statuses = (await mock.requests()).filter((r) => r.kind === 'token').map((r) => r.status);
    expect(statuses.length).toBeGreaterThan(1);
    expect(new Set(statuses)).toEqual(new Set([404]));
    await mock.reset();
    await mock.set({ podIdentities: [POD_MI], nodeIdentities: [NODE_MI] });
    await expect(get({ clientId: POD_MI.clientId })).rejects.toThrow(/Identity not found/);
    expect((await mock.requests()).filter((r) => r.kind === 'token').map((r) => r.status)).toEqual([403]);
  }, 60_000);

  it('v2.0 tokens (azp) are accepted by the client as well', async () => {
    await mock.set({ tokenVersion: '2.0' });
    expect(claims((await get({ clientId: POD_MI.clientId })).token).azp).toBe(POD_MI.clientId);
  });
});

/** WorkloadIdentityCredential in a child process with the webhook's env; prints {ok, token} or {ok: false, message}. */
function workloadIdentityGetToken(env: Record<string, string>): Promise<{ ok: boolean; token?: string; message?: string }> {
  const script = `
    const { WorkloadIdentityCredential } = require('@azure/identity');
    new WorkloadIdentityCredential({ disableInstanceDiscovery: true })
      .getToken(${JSON.stringify(SCOPE)}, { abortSignal: AbortSignal.timeout(15000) })
      .then((t) => console.log(JSON.stringify({ ok: true, token: t.token })), (e) => console.log(JSON.stringify({ ok: false, message: String(e && e.message) })));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '', ...env }, cwd: path.join(__dirname, '..', '..'), timeout: 30_000 }, (err, stdout, stderr) => {
      try { resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')); } catch { reject(new Error(`WorkloadIdentityCredential child failed: ${err?.message ?? ''} ${stderr}`)); }
    });
  });
}

describe('WorkloadIdentityCredential (@azure/identity) against the AAD stand-in', () => {
  let aad: Aad;
  let files: ReturnType<typeof tokenDir>;
  let certFile: string;
  beforeAll(async () => {
    files = tokenDir();
    const cert = selfSignedCert(files.dir);
    certFile = cert.certFile;
    aad = await startAad({ tls: cert });
  });
  afterAll(async () => { await aad?.stop(); files?.cleanup(); });
  beforeEach(() => aad.reset());
  const env = () => ({ ...webhookEnv(aad, files.file), NODE_EXTRA_CA_CERTS: certFile });

  it('exchanges the projected token for an access token: metadata, then a client-assertion grant with the file content', async () => {
    const assertion = federatedToken();
    files.write(assertion);
    const r = await workloadIdentityGetToken(env());
    expect(r.message).toBeUndefined();
    expect(claims(r.token!)).toMatchObject({ appid: CLIENT_ID, tid: TENANT_ID });
    const log = aad.requests();
    expect(log.map((x) => `${x.method} ${x.path}`)).toEqual([`GET /${TENANT_ID}/v2.0/.well-known/openid-configuration`, `POST /${TENANT_ID}/oauth2/v2.0/token`]);
    expect(log[1].form).toMatchObject({ client_id: CLIENT_ID, grant_type: 'client_credentials', client_assertion: assertion, scope: SCOPE });
  });

  it("AAD's refusals reach the app with their AADSTS codes: expired assertion, wrong subject, no federated credential", async () => {
    files.write(federatedToken(-60));
    expect((await workloadIdentityGetToken(env())).message).toMatch(/AADSTS700024/);
    files.write(federatedToken(3600, { sub: 'system:serviceaccount:shop:other' }));
    expect((await workloadIdentityGetToken(env())).message).toMatch(/AADSTS700213/);
    files.write(federatedToken());
    aad.set({ token: 400, error: 'invalid_request', description: 'AADSTS70021: No matching federated identity record found for presented assertion.' });
    expect((await workloadIdentityGetToken(env())).message).toMatch(/AADSTS70021/);
  }, 60_000);

  it('v2.0 tokens (azp) come through', async () => {
    files.write(federatedToken());
    aad.set({ tokenVersion: '2.0' });
    expect(claims((await workloadIdentityGetToken(env())).token!).azp).toBe(CLIENT_ID);
  });
});
