import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AAD_AUTHORITY_HOST, Bed, HOST_IP, ManagedIdentity, NMI_PORT, NODE_MI, POD_MI, startBed } from './bed';

/** The bed itself: the mock answers inside the namespace as the checks expect. */
describe('test bed', () => {
  let bed: Bed;
  beforeAll(async () => { bed = await startBed(); });
  afterAll(async () => { await bed?.stop(); });

  const curl = (...a: string[]) => {
    const [cmd, ...args] = bed.wrap(['curl', '-sS', '--max-time', '2', ...a]);
    try {
      return { code: 0, out: execFileSync(cmd, args, { stdio: 'pipe' }).toString() };
    } catch (e: any) { return { code: e.status as number, out: String(e.stdout) + String(e.stderr) }; }
  };

  const TOKEN = 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net';
  const HEALTH = `http://${HOST_IP}:${NMI_PORT}/healthz`;
  /** A token request with these query parameters: status, the access token's claims, the body. */
  const token = (query = '', maxTime = '2') => {
    const r = curl('--max-time', maxTime, '-w', '\\n%{http_code}', '-H', 'Metadata: true', `${TOKEN}${query}`);
    const lines = r.out.trimEnd().split('\n');
    const status = Number(lines.pop());
    const body = lines.join('\n').trimEnd();
    const jwt = /"access_token":"([^"]+)"/.exec(body)?.[1];
    const claims = jwt ? JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) : undefined;
    return { code: r.code, status, body, claims };
  };
  const OTHER: ManagedIdentity = { clientId: '55555555-5555-5555-5555-555555555555', objectId: '66666666-6666-6666-6666-666666666666', resourceId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/billing' };
  const DEFAULTS = { nmi: 'active', nmiVersion: '1.8.17', nmiMode: 'standard', intercept: 'auto', podIdentities: [POD_MI], nodeIdentities: [NODE_MI, POD_MI], podInCache: true, token: 'ok', tokenVersion: '1.0', identity: null, nmiRetryMs: 80_000, imds: 'ok', imdsRetryMs: 112_000 } as const;
  beforeEach(async () => { await bed.mock.set({ ...DEFAULTS, podIdentities: [POD_MI], nodeIdentities: [NODE_MI, POD_MI] }); });

  it('defaults: the pod bound to POD_MI, the node VMSS holding NODE_MI and POD_MI (bed.ts and the mock agree)', async () => {
    const s = await bed.mock.set({});
    expect(s).toMatchObject({ podIdentities: [POD_MI], nodeIdentities: [NODE_MI, POD_MI], nmiRetryMs: 80_000, nmiMode: 'standard' });
  });

  describe('NMI (its rule intercepting): pkg/nmi/server/server.go and pkg/nmi/standard.go', () => {
    it('no selector: the first bound identity; client_id: that one; object_id is not read; msi_res_id always, mi_res_id from 1.8.15', async () => {
      await bed.mock.set({ podIdentities: [POD_MI, OTHER], nodeIdentities: [NODE_MI, POD_MI, OTHER] });
      expect(token().claims).toMatchObject({ appid: POD_MI.clientId, oid: POD_MI.objectId, xms_mirid: POD_MI.resourceId });
      expect(token(`&client_id=${OTHER.clientId}`).claims.appid).toBe(OTHER.clientId);
      expect(token(`&object_id=${OTHER.objectId}`).claims.appid).toBe(POD_MI.clientId);
      expect(token(`&msi_res_id=${encodeURIComponent(OTHER.resourceId)}`).claims.appid).toBe(OTHER.clientId);
      expect(token(`&mi_res_id=${encodeURIComponent(OTHER.resourceId)}`).claims.appid).toBe(OTHER.clientId);
      await bed.mock.set({ nmiVersion: '1.8.14' });
      expect(token(`&mi_res_id=${encodeURIComponent(OTHER.resourceId)}`).claims.appid).toBe(POD_MI.clientId);
      expect(token(`&msi_res_id=${encodeURIComponent(OTHER.resourceId)}`).claims.appid).toBe(OTHER.clientId);
      const t = token();
      expect(JSON.parse(t.body)).not.toHaveProperty('client_id'); // NMI's msiResponse has none
      expect((await bed.mock.requests()).at(-1)).toMatchObject({ kind: 'token', by: 'nmi', status: 200 });
    });

    it('404 for no matching identity: at once in managed mode, held through the retry window in standard mode', async () => {
      await bed.mock.set({ nmiMode: 'managed' });
      const r = token(`&client_id=${OTHER.clientId}`);
      expect(r.status).toBe(404);
      // standard.go listPodIDsWithRetry's error text, plain (http.Error), as the real NMI v1.8.17 sent it (test/slow/cluster/nmi.test.ts)
      expect(r.body).toBe('no azure identity found for request clientID 5555##### REDACTED #####5555'); // managed.go
      await bed.mock.set({ podIdentities: [] });
      expect(token().status).toBe(404);
      await bed.mock.set({ nmiMode: 'standard' });
      expect(token('', '1').code).toBe(28); // still retrying when the client gives up
      await bed.mock.set({ nmiRetryMs: 300 });
      expect(token(`&client_id=${OTHER.clientId}`).status).toBe(404);
      // standard.go listPodIDsWithRetry's error, plain text (http.Error), as the real NMI v1.8.17 sends it (test/slow/cluster/nmi.test.ts)
      await bed.mock.set({ nmiRetryMs: 1000 });
      expect(token()).toMatchObject({ status: 404, body: 'getting assigned identities for pod default/app in CREATED state failed after 1 attempts, retry duration [1]s, error: <nil>. Check MIC pod logs for identity assignment errors' });
    });

    it('403 when the matched identity is not on the node (removed from the VMSS); 500 when NMI cannot match the pod; 400 without resource or Metadata', async () => {
      await bed.mock.set({ nodeIdentities: [NODE_MI] });
      const r = token();
      expect(r.status).toBe(403);
      expect(r.body).toContain('Identity not found');
      await bed.mock.set({ nodeIdentities: [NODE_MI, POD_MI], podInCache: false });
      expect(token()).toMatchObject({ status: 500, body: 'pod list is empty' });
      await bed.mock.set({ podInCache: true });
      expect(curl('-w', '%{http_code}', '-H', 'Metadata: true', TOKEN.replace(/&resource=.*/, '')).out).toBe('parameter resource cannot be empty\n400');
      expect(curl(TOKEN).out).toContain('Required metadata header not specified');
    });
  });

  describe('IMDS (no NMI rule): managed identities how-to-use-vm-token, error handling', () => {
    it('answers with the identity the selector names, 400 when several and none named, 400 Identity not found', async () => {
      await bed.mock.set({ nmi: 'not-active' });
      const none = token();
      expect(none.status).toBe(400);
      expect(none.body).toContain('Multiple user assigned identities exist');
      const named = token(`&client_id=${POD_MI.clientId}`);
      expect(named.claims.appid).toBe(POD_MI.clientId);
      expect(JSON.parse(named.body).client_id).toBe(POD_MI.clientId);
      expect(token(`&object_id=${NODE_MI.objectId}`).claims.appid).toBe(NODE_MI.clientId); // IMDS reads object_id
      expect(token(`&msi_res_id=${encodeURIComponent(POD_MI.resourceId)}`).claims.appid).toBe(POD_MI.clientId);
      expect(token(`&client_id=${OTHER.clientId}`)).toMatchObject({ status: 400, body: expect.stringContaining('Identity not found') });
      await bed.mock.set({ nodeIdentities: [NODE_MI] });
      expect(token().claims.appid).toBe(NODE_MI.clientId); // the only identity: the node's
      expect((await bed.mock.requests()).at(-1)).toMatchObject({ by: 'imds', status: 200 });
    });

    it('NMI killed: its DNAT rule stays, token connections are refused (as the real NMI after SIGKILL); a graceful stop lets IMDS answer', async () => {
      for (const crashed of [{ nmi: 'killed' }, { nmi: 'down', intercept: true }] as const) {
        await bed.mock.set(crashed);
        expect(token().code).toBe(7);
        expect(curl('-o', '/dev/null', `http://${HOST_IP}:${NMI_PORT}/healthz`).code).toBe(7);
        await bed.mock.set({ nmi: 'down', intercept: 'auto' });
        expect(token().status).toBe(400); // rule gone: IMDS, several identities, none named
      }
    });

    it('IMDS answering 500: at once to a pod it reaches directly; through NMI, held while adal retries (112 s), then 403 in plain text', async () => {
      await bed.mock.set({ imds: 500, nmi: 'not-active' });
      expect(token(`&client_id=${POD_MI.clientId}`).status).toBe(500);
      await bed.mock.set({ nmi: 'active' });
      expect(token('', '2').code).toBe(28); // still retrying when the client gives up
      await bed.mock.set({ imdsRetryMs: 300 });
      const r = token();
      expect(r.status).toBe(403);
      expect(r.body).toMatch(/^adal: Refresh request failed\. Status Code = '500'\./);
      await bed.mock.set({ imds: 400 }); // adal does not retry a 400
      expect(token().status).toBe(403);
    });

    it('v2.0 tokens carry azp, not appid', async () => {
      await bed.mock.set({ tokenVersion: '2.0' });
      const c = token().claims;
      expect(c.azp).toBe(POD_MI.clientId);
      expect(c).not.toHaveProperty('appid');
    });
  });

  it('health: only /healthz; nothing listens before v1.5; SIGTERM: rule removed at once, Active for the window, then down', async () => {
    expect(curl('-w', '%{http_code}', `http://${HOST_IP}:${NMI_PORT}/other`).out).toBe('404 page not found\n404');
    await bed.mock.set({ nmiVersion: '1.4.0' });
    expect(curl(HEALTH).code).toBe(7);
    await bed.mock.set({ nmiVersion: '1.8.17' });
    await bed.mock.sigterm(1500);
    expect(curl(HEALTH).out).toBe('Active');
    expect(token().status).toBe(400); // IMDS answers: several identities, none named
    await new Promise((r) => setTimeout(r, 2000));
    expect(curl(HEALTH).code).toBe(7);
    expect((await bed.mock.set({})).nmi).toBe('down');
  });

  it('serves NMI health in each state and refuses when down', async () => {
    expect(curl(`http://${HOST_IP}:${NMI_PORT}/healthz`).out).toBe('Active');
    await bed.mock.set({ nmi: 'not-active' });
    expect(curl(`http://${HOST_IP}:${NMI_PORT}/healthz`).out).toBe('Not Active');
    await bed.mock.set({ nmi: 'down' });
    expect(curl(`http://${HOST_IP}:${NMI_PORT}/healthz`).code).toBe(7);
    await bed.mock.set({ nmi: 'active' });
    expect(curl(`http://${HOST_IP}:${NMI_PORT}/healthz`).out).toBe('Active');
  });

  it('issues tokens only with the Metadata header and answers the configured status', async () => {
    const url = 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F';
    expect(curl('-H', 'Metadata: true', url).out).toContain('"access_token":"');
    expect(curl('--fail', url).code).toBe(22);
    await bed.mock.set({ token: 403 });
    expect(curl('--fail', '-H', 'Metadata: true', url).code).toBe(22);
    await bed.mock.set({ token: 'ok' });
    const log = await bed.mock.requests();
    expect(log.filter((r) => r.kind === 'token').length).toBeGreaterThanOrEqual(3);
  });

  it('AAD: issues a token for a well-formed client-assertion grant, answers its error bodies, hangs', async () => {
    const url = `${AAD_AUTHORITY_HOST}33333333-3333-3333-3333-333333333333/oauth2/v2.0/token`;
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.c2ln';
    const form = `client_id=44444444-4444-4444-4444-444444444444&client_assertion=${jwt}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default`;
    expect(curl('--data', form, url).out).toContain('"access_token":"');
    expect(curl('--data', 'grant_type=client_credentials', url).out).toContain('AADSTS900144');
    await bed.mock.set({ aad: 400 });
    const r = curl('--data', form, url);
    expect(r.out).toContain('AADSTS70021: No matching federated identity record found');
    expect(curl('--fail', '--data', form, url).code).toBe(22);
    await bed.mock.set({ aad: 'hang' });
    expect(curl('--max-time', '1', '--data', form, url).code).toBe(28);
    await bed.mock.set({ aad: 'ok' });
    expect((await bed.mock.requests()).filter((x) => x.kind === 'aad').length).toBeGreaterThanOrEqual(5);
  });
});
