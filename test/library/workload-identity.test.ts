/** Azure AD Workload Identity strategies: manifests, ServiceAccount annotation, scripts, and the checks run in real shells on token files. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Yaml } from 'cdk8s';
import * as plus27 from 'cdk8s-plus-27';
import { afterAll, describe, expect, it } from 'vitest';
import { getStrategy, WORKLOAD_IDENTITY_STRATEGY_IDS, withWorkloadIdentityAppHealthCheck, withWorkloadIdentityInitCheck, withWorkloadIdentityProbes } from '../../src';
import { allContainers, newChart, scriptsOf, shellcheck, synth, validateK8s, workloads } from './helpers';

const CLIENT = '11111111-1111-1111-1111-111111111111';

function chartWithSa() {
  const chart = newChart();
  const sa = new plus27.ServiceAccount(chart, 'sa', { metadata: { name: 'orders' } });
  const d = new plus27.Deployment(chart, 'web', { serviceAccount: sa, containers: [{ name: 'app', image: 'curlimages/curl:8.11.1', portNumber: 8080 }] });
  return { chart, d };
}

describe('workload identity strategies', () => {
  it.each(WORKLOAD_IDENTITY_STRATEGY_IDS)('%s: snapshot, schema, label, ServiceAccount annotation, shellcheck', async (id) => {
    const { chart } = chartWithSa();
    const apply = { 'workload-identity-init': withWorkloadIdentityInitCheck, 'workload-identity-probes': withWorkloadIdentityProbes, 'workload-identity-app-check': withWorkloadIdentityAppHealthCheck }[id];
    apply(chart, { clientId: CLIENT });
    const docs = synth(chart);
    await expect(Yaml.stringify(...docs)).toMatchFileSnapshot(`__snapshots__/${id}.k8s.yaml`);
    for (const d of docs) validateK8s(d);
    const sa = docs.find((d) => d.kind === 'ServiceAccount')!;
    expect(sa.metadata?.annotations).toEqual({ 'azure.workload.identity/client-id': CLIENT });
    const [w] = workloads(docs);
    expect((w.spec as any).template.metadata.labels['azure.workload.identity/use']).toBe('true');
    for (const { where, script } of scriptsOf(w)) expect(shellcheck(script), where).toBe('');
    // No HOST_IP: workload identity does not go through NMI.
    for (const c of allContainers(w)) expect(JSON.stringify(c)).not.toContain('HOST_IP');
  });

  it('a ServiceAccount annotated for another identity is a conflict', () => {
    const chart = newChart();
    new plus27.ServiceAccount(chart, 'sa', { metadata: { name: 'orders', annotations: { 'azure.workload.identity/client-id': 'other' } } });
    withWorkloadIdentityProbes(chart, { clientId: CLIENT });
    expect(() => synth(chart)).toThrow(/ServiceAccount orders: annotation azure.workload.identity\/client-id="other" differs/);
  });
});

describe('workload identity check in real shells', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-wi-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const jwt = (claims: object) => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
  const file = (name: string, content: string) => { const f = path.join(dir, name); fs.writeFileSync(f, content); return f; };
  const now = Math.floor(Date.now() / 1000);
  const valid = file('valid', `${jwt({ aud: 'api://AzureADTokenExchange', exp: now + 3600 })}\n`);
  const expired = file('expired', jwt({ exp: now - 10 }));
  const noExp = file('noexp', jwt({ sub: 'x' }));
  const script = getStrategy('workload-identity-probes').plan({ clientId: CLIENT }).target.probes as any;
  const probe = script.readinessProbe.exec.command[2] as string;
  const env = (tokenFile: string, extra: object = {}) => ({
    PATH: process.env.PATH!, AZURE_CLIENT_ID: CLIENT, AZURE_TENANT_ID: 'tenant', AZURE_FEDERATED_TOKEN_FILE: tokenFile,
    AZURE_AUTHORITY_HOST: 'https://login.invalid/', ...extra,
  });
  // The probe keeps state under /var/run/identity-health; give each run its own via a mount namespace.
  function run(shell: string[], e: NodeJS.ProcessEnv): { code: number; out: string } {
    const state = fs.mkdtempSync(path.join(dir, 'state-'));
    fs.mkdirSync('/var/run/identity-health', { recursive: true });
    try {
      const out = execFileSync('unshare', ['-m', 'sh', '-c', `mount --bind "$1" /var/run/identity-health && shift && exec "$@"`, 'x', state, ...shell, '-c', probe, 'identity-health', 'readiness'], { env: e, stdio: 'pipe' });
      return { code: 0, out: out.toString() };
    } catch (err: any) { return { code: err.status, out: String(err.stdout) + String(err.stderr) }; }
  }

  it.each([['dash'], ['busybox', 'sh']])('%s: valid file passes; missing env, unreadable, expired, no exp, other client fail with the reason', (...shell) => {
    expect(run(shell, env(valid))).toEqual({ code: 0, out: '' });
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ ...env(valid), AZURE_TENANT_ID: '' }, /AZURE_TENANT_ID is not set: the workload identity webhook did not mutate this pod/],
      [env(path.join(dir, 'missing')), /federated token file .*missing is missing or unreadable/],
      [env(expired), /expired at \d+/],
      [env(noExp), /has no exp claim/],
      [env(valid, { AZURE_CLIENT_ID: '22222222-2222-2222-2222-222222222222' }), /AZURE_CLIENT_ID is 2222.*expected 1111/],
    ];
    for (const [e, reason] of cases) {
      const r = run(shell, e);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(reason);
    }
  });
});
