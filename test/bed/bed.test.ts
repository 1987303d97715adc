import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AAD_AUTHORITY_HOST, Bed, HOST_IP, NMI_PORT, startBed } from './bed';

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
    expect(log.filter((r) => r.kind === 'token').length).toBe(3);
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
    expect((await bed.mock.requests()).filter((x) => x.kind === 'aad').length).toBe(5);
  });
});
