/** Workload identity (strategies 7-9) through the CLI: flags, apply with ServiceAccounts, audit coverage and defects, recommend. */
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { optionKeys } from '../../strategies/options';
import { getStrategy, WORKLOAD_IDENTITY_STRATEGY_IDS } from '../../strategies';
import { STRATEGY_FLAGS } from '../../src/cli/strategy-flags';
import { docs, run, tempCorpus, validateK8s } from './helpers';

const GUID = '6e1e2d3c-0000-4000-8000-00000000abcd';
const STREAM = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: api # used by the Deployment
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: unused
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata:
      labels: {app: api}
    spec:
      serviceAccountName: api
      containers:
        - name: api
          image: example.azurecr.io/api:1
          ports: [{containerPort: 8080}]
`;

describe('workload identity flags', () => {
  it('every option key of strategies 7-9 has a flag, and a strategy takes exactly the flags of its keys', () => {
    for (const id of WORKLOAD_IDENTITY_STRATEGY_IDS) {
      const keys = optionKeys(getStrategy(id).optionGroups).filter((k) => k !== 'onConflict');
      for (const k of keys) expect(STRATEGY_FLAGS.some((f) => f.path[0] === k), `${id}: ${k}`).toBe(true);
      const flags: string[] = JSON.parse(run(['explain', id, '--output', 'json']).stdout).flags;
      expect(new Set(flags.map((f) => STRATEGY_FLAGS.find((x) => x.flag === f)!.path[0]))).toEqual(new Set(keys));
    }
    const r = run(['explain', 'workload-identity-probes', '--nmi-port', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--nmi-port does not apply to strategy workload-identity-probes/);
  });

  it('explain: --exchange, --proxy-sidecar (bare: 8000), --no-use-label reach the plan; no NMI/IMDS load', () => {
    const r = run(['explain', 'workload-identity-probes', '--exchange', '--proxy-sidecar', '--no-use-label', '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.options).toMatchObject({ exchange: true, proxySidecar: true, useLabel: false });
    expect(j.template.metadata.labels['azure.workload.identity/use']).toBeUndefined();
    expect(j.template.metadata.annotations['identity-health.io/workload-identity-probes-script']).toMatch(/127\.0\.0\.1:8000\/readyz/);
    expect(j.analysis.load).toMatchObject({ nmiPerPod: 0, tokenPerPod: 0.05 });
    const t = run(['explain', 'workload-identity-app-check', '--transient-grace', '30', '--output', 'json']);
    expect(JSON.parse(t.stdout).template.spec.containers[0].env).toContainEqual({ name: 'IDENTITY_HEALTH_TRANSIENT_GRACE_SECONDS', value: '30' });
    expect(run(['explain', 'workload-identity-init', '--proxy-sidecar', '99999']).code).toBe(2);
  });
});

describe('workload identity apply and audit', () => {
  it('apply labels the pod and annotates the ServiceAccounts (only those the selected workloads use, with filters); audit reports it', () => {
    const r = run(['apply', '-s', 'workload-identity-init', '--client-id', GUID, '-'], { input: STREAM });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/1 workload\(s\) changed.*2 ServiceAccount\(s\) annotated/);
    expect(r.stdout).toContain('# used by the Deployment');
    const [sa, unused, dep] = docs(r.stdout);
    expect(sa.metadata.annotations).toEqual({ 'azure.workload.identity/client-id': GUID });
    expect(unused.metadata.annotations).toEqual({ 'azure.workload.identity/client-id': GUID });
    expect(dep.spec.template.metadata.labels['azure.workload.identity/use']).toBe('true');
    validateK8s(dep);
    const filtered = docs(run(['apply', '-s', 'workload-identity-init', '--client-id', GUID, '--kind', 'Deployment', '-'], { input: STREAM }).stdout);
    expect(filtered[0].metadata.annotations).toBeDefined();
    expect(filtered[1].metadata.annotations).toBeUndefined();
    expect(run(['apply', '-s', 'workload-identity-init', '--client-id', GUID, '-'], { input: r.stdout }).stdout).toBe(r.stdout);

    const audit = JSON.parse(run(['audit', '-', '--format', 'json', '--require', 'workload-identity-init'], { input: r.stdout }).stdout).workloads[0];
    expect(audit).toMatchObject({ identity: ['workload'], strategies: ['workload-identity-init'], claims: { startGated: 'yes', runtime: 'no', otherFaults: 'at start only' }, defects: [] });
  });

  it.each(WORKLOAD_IDENTITY_STRATEGY_IDS)('%s on the corpus: apply then audit agrees, output validates', (id) => {
    const dir = tempCorpus();
    for (const f of fs.readdirSync(dir)) {
      const flags = id.endsWith('probes') ? ['--on-conflict', 'sidecar'] : id.endsWith('app-check') ? ['--on-conflict', 'skip', '--port', '8080'] : [];
      const r = run(['apply', '-s', id, ...flags, path.join(dir, f)]);
      expect(r.code, r.stderr).toBe(0);
      const skipped = new Set([...r.stderr.matchAll(/skipped \w+ (\S+):/g)].map((m) => m[1]));
      for (const d of docs(r.stdout)) if (d?.spec?.template) validateK8s(d);
      const report = JSON.parse(run(['audit', '-', '--format', 'json'], { input: r.stdout }).stdout).workloads as any[];
      for (const w of report) {
        if (skipped.has(w.name)) continue;
        expect(w.strategies, w.workload).toEqual([id]);
        expect(w.identity).toEqual(['workload']);
        expect(w.defects.filter((d: any) => d.severity === 'error')).toEqual([]);
      }
    }
  });

  it('audit defects: label missing while the checks expect the webhook env; proxy sidecar annotation without a proxy check', () => {
    const applied = run(['apply', '-s', 'workload-identity-probes', '--no-use-label', '-'], { input: STREAM }).stdout;
    const noLabel = JSON.parse(run(['audit', '-', '--format', 'json', '--require', 'workload-identity-probes'], { input: applied }).stdout);
    expect(noLabel.workloads[0].strategies).toEqual([]);
    expect(noLabel.workloads[0].defects).toContainEqual(expect.objectContaining({ code: 'wi-label-missing', severity: 'error' }));
    expect(noLabel.failed).toBe(1);

    const withProxy = (text: string) => {
      const ds = YAML.parseAllDocuments(text).map((d) => d.toJS());
      ds[2].spec.template.metadata.annotations = { ...ds[2].spec.template.metadata.annotations, 'azure.workload.identity/inject-proxy-sidecar': 'true' };
      return ds.map((d) => YAML.stringify(d)).join('---\n');
    };
    const plain = run(['apply', '-s', 'workload-identity-probes', '-'], { input: STREAM }).stdout;
    const w = JSON.parse(run(['audit', '-', '--format', 'json'], { input: withProxy(plain) }).stdout).workloads[0];
    expect(w.strategies).toEqual(['workload-identity-probes']);
    expect(w.defects).toContainEqual(expect.objectContaining({ code: 'wi-proxy-unchecked', severity: 'warning' }));
    const proxied = run(['apply', '-s', 'workload-identity-probes', '--proxy-sidecar', '-'], { input: STREAM }).stdout;
    expect(JSON.parse(run(['audit', '-', '--format', 'json'], { input: withProxy(proxied) }).stdout).workloads[0].defects).toEqual([]);

    const table = run(['audit', '-'], { input: plain });
    expect(table.stdout).toMatch(/Deployment api\s+workload\s+workload-identity-probes\s+yes\s+yes\s+yes/);
  });
});

describe('recommend --identity workload', () => {
  it.each([
    [[], ['workload-identity-probes']],
    [['--no-need-runtime-detection'], ['workload-identity-init']],
    [['--app-has-health-endpoint'], ['workload-identity-app-check']],
    [['--no-image-has-curl'], ['workload-identity-init', 'workload-identity-probes']],
    [['--no-image-has-shell'], ['workload-identity-init']],
  ])('%j -> %j', (flags, want) => {
    const r = run(['recommend', '--identity', 'workload', ...flags, '--output', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).strategies).toEqual(want);
  });
});
