import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bed, HOST_IP, NMI_PORT, startBed } from './bed';

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
});
