/** Azure AD Workload Identity strategies: manifests, ServiceAccount annotation, scripts, and the checks run in real shells on token files. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Yaml } from 'cdk8s';
import * as plus27 from 'cdk8s-plus-27';
import { afterAll, describe, expect, it } from 'vitest';
import { getStrategy, WORKLOAD_IDENTITY_STRATEGY_IDS, withWorkloadIdentityAppHealthCheck, withWorkloadIdentityInitCheck, withWorkloadIdentityProbes } from '../../src';
import { allContainers, newChart, probeScriptOf, scriptsOf, shellcheck, synth, validateK8s, workloads } from './helpers';

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
  const probeOf = (o: object) => probeScriptOf(getStrategy('workload-identity-probes').plan({ clientId: CLIENT, ...o }));
  const probe = probeOf({});
  const env = (tokenFile: string, extra: object = {}) => ({
    PATH: process.env.PATH!, AZURE_CLIENT_ID: CLIENT, AZURE_TENANT_ID: 'tenant', AZURE_FEDERATED_TOKEN_FILE: tokenFile,
    AZURE_AUTHORITY_HOST: 'http://127.0.0.1:9/', ...extra,
  });
  // The probe keeps state under /var/run/identity-health; give each run its own via a mount namespace.
  function run(shell: string[], e: NodeJS.ProcessEnv, mode = 'readiness', script = probe): { code: number; out: string } {
    const state = fs.mkdtempSync(path.join(dir, 'state-'));
    fs.mkdirSync('/var/run/identity-health', { recursive: true });
    try {
      const out = execFileSync('unshare', ['-m', 'sh', '-c', `mount --bind "$1" /var/run/identity-health && shift && exec "$@"`, 'x', state, ...shell, '-c', script, 'identity-health', mode], { env: e, stdio: 'pipe' });
      return { code: 0, out: out.toString() };
    } catch (err: any) { return { code: err.status, out: String(err.stdout) + String(err.stderr) }; }
  }

  it.each([['dash'], ['busybox', 'sh']])('%s: valid file passes; expired, unreadable, no exp fail with the reason (exit 1: a restart may help)', (...shell) => {
    expect(run(shell, env(valid))).toEqual({ code: 0, out: '' });
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [env(path.join(dir, 'missing')), /federated token file .*missing is missing or unreadable/],
      [env(expired), /expired at \d+/],
      [env(noExp), /has no exp claim/],
    ];
    for (const [e, reason] of cases) {
      const r = run(shell, e);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(reason);
    }
  });

  // azure-workload-identity pkg/webhook: objectSelector on the pod label, failurePolicy Fail
  // since v1.0, each variable added only when non-empty (AZURE_CLIENT_ID from the ServiceAccount
  // annotation). The env is fixed at pod creation: exit 3, liveness holds (no restart loop).
  it.each([['dash'], ['busybox', 'sh']])('%s: each missing variable says what it means and what fixes it; only recreating the pod does, so liveness holds', (...shell) => {
    const none = { PATH: process.env.PATH! };
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [none, /no AZURE_\* env: .*label azure.workload.identity\/use: "true" is missing \(a pod created while the webhook is down is rejected, not started: failurePolicy Fail since v1.0\)/],
      [{ ...env(valid), AZURE_CLIENT_ID: '' }, /AZURE_CLIENT_ID is not set while the other AZURE_\* variables are: the ServiceAccount annotation azure.workload.identity\/client-id is missing, empty or misspelt/],
      [{ ...env(valid), AZURE_TENANT_ID: '' }, /AZURE_TENANT_ID is not set while the other AZURE_\* variables are/],
      [env(valid, { AZURE_CLIENT_ID: '22222222-2222-2222-2222-222222222222' }), /AZURE_CLIENT_ID is 2222.*expected 1111.*recreate the pod/],
    ];
    for (const [e, reason] of cases) {
      const r = run(shell, e);
      expect(r.code, r.out).toBe(3);
      expect(r.out).toMatch(reason);
      for (const mode of ['liveness', 'startup']) { // the startup probe's 180 s would end in a restart too
        const live = run(shell, e, mode);
        expect(live.code, mode).toBe(0);
        expect(live.out).toMatch(/a container restart cannot fix this: liveness holds/);
      }
    }
  });

  it.each([['dash'], ['busybox', 'sh']])('%s: with AZURE_KUBERNETES_TOKEN_PROXY (custom token endpoint) the exchange is skipped; without it, it is made', (...shell) => {
    const exchanging = probeOf({ exchange: true });
    const refused = run(shell, env(valid), 'readiness', exchanging); // nothing listens at AZURE_AUTHORITY_HOST
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/token exchange at http:\/\/127.0.0.1:9\/tenant\/oauth2\/v2.0\/token/);
    expect(run(shell, env(valid, { AZURE_KUBERNETES_TOKEN_PROXY: 'https://10.0.0.1:8443' }), 'readiness', exchanging)).toEqual({ code: 0, out: '' });
  });
});
