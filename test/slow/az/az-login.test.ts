/**
 * The identity-init az variant with the real Azure CLI (scripts/slow-setup.d/30-az.sh installs the
 * version the default image pins) against the NMI/IMDS stand-in in the bed: the generated script's
 * `az login --identity --client-id ...` / `--resource-id ...` parses, and az (MSAL for Python)
 * gets its token from the stand-in with the selector it was given. After the token az lists
 * subscriptions at management.azure.com, which the bed does not stand in for (no route out of the
 * namespace): the login ends there, with a name-resolution error, past the identity part. The
 * old `--username` form is refused by this Azure CLI outright.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRATEGIES } from '../../../src';
import { Bed, HOST_IP, POD_MI, requireTools, startBed } from '../../bed/bed';

const AZ_VERSION = '2.91.0';
const AZ_DIR = path.join(process.env.IDENTITY_HEALTH_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'identity-health'), `az-${AZ_VERSION}`, 'venv', 'bin');

describe(`identity-init with az (Azure CLI ${AZ_VERSION}) against the stand-in`, () => {
  let bed: Bed;
  let home: string;
  beforeAll(async () => {
    if (!fs.existsSync(path.join(AZ_DIR, 'az'))) throw new Error(`az is missing in ${AZ_DIR}: run scripts/slow-setup.d/30-az.sh (npm run test:slow does)`);
    requireTools(['ip', 'curl', 'timeout']);
    bed = await startBed();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-az-'));
  });
  afterAll(async () => { await bed?.stop(); if (home) fs.rmSync(home, { recursive: true, force: true }); });

  /** Run a script as the init container would (env: HOST_IP, the az config dir), inside the bed. */
  function sh(script: string): { code: number; out: string } {
    const env = { PATH: `${AZ_DIR}:/usr/bin:/bin`, HOST_IP, HOME: home, AZURE_CONFIG_DIR: path.join(home, '.azure') };
    try {
      return { code: 0, out: execFileSync('ip', ['netns', 'exec', bed.netns, 'sh', '-c', script], { env, stdio: 'pipe', timeout: 180_000 }).toString() };
    } catch (e: any) { if (e.status === undefined || e.status === null) throw e; return { code: e.status, out: String(e.stdout) + String(e.stderr) }; }
  }
  const initScript = (o: object) => STRATEGIES['identity-init'].plan({ client: 'az', deadline: 1, ...o }).initContainers[0].command![2];

  it.each([
    ['clientId', { clientId: POD_MI.clientId }, 'client_id', POD_MI.clientId],
    ['miResId', { miResId: POD_MI.resourceId }, 'msi_res_id', POD_MI.resourceId],
  ] as const)('%s: the generated az login parses and gets its token from NMI with that selector', async (_name, options, param, value) => {
    await bed.mock.reset();
    const r = sh(initScript(options));
    const tokens = (await bed.mock.requests()).filter((x) => x.kind === 'token');
    expect(tokens.length, r.out).toBeGreaterThan(0);
    const q = new URLSearchParams(tokens[0].query);
    expect(q.get(param)).toBe(value);
    expect(tokens[0]).toMatchObject({ metadata: 'true', by: 'nmi', status: 200 });
    // Past the identity: az then asks ARM for subscriptions, which is not stood in.
    expect(r.out).toMatch(/management\.azure\.com/);
    expect(r.out).not.toMatch(/unrecognized arguments|no longer supported/);
  });

  it('the old --username form is refused by this Azure CLI (what the az variant generated before)', () => {
    const r = sh(`az login --identity --username '${POD_MI.clientId}' --allow-no-subscriptions --output none`);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('Passing the managed identity ID with --username is no longer supported');
  });
});
