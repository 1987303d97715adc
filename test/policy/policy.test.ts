/**
 * Cluster policies: the Kyverno ClusterPolicy is valid against the Kyverno CRD (the real Kyverno CLI
 * checks that it makes the same change as apply: test/slow/pipelines); the ValidatingAdmissionPolicy is valid against the Kubernetes schemas and its
 * CEL rejects every corpus workload that carries the binding label until apply has added the check.
 */
import Ajv from 'ajv';
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { getStrategy, STRATEGY_IDS, WORKLOAD_IDENTITY_STRATEGY_IDS } from '../../strategies';
import { applyPlan } from '../../src/pod-template/apply';
import { auditWorkload } from '../../src/audit';
import { kyvernoPolicy } from '../../src/policy/kyverno';
import { bindingRequirement, parseSelector } from '../../src/policy/selector';
import { vapObjects } from '../../src/policy/vap';
import { planFor } from '../../src/transform';
import { docs, run } from '../cli/helpers';
import { corpusWorkloads, templateOf, vapAdmits, withTemplateLabels } from './helpers';

const ALL = [...STRATEGY_IDS, ...WORKLOAD_IDENTITY_STRATEGY_IDS];
/** Options per strategy for the corpus: app checks need a port (the corpus has workloads without one). */
const OPTIONS: Record<string, Record<string, unknown>> = { 'nmi-app-check': { port: 8080 }, 'identity-app-check': { port: 8080 }, 'workload-identity-app-check': { port: 8080 } };
/** apply flags that make every corpus workload take the strategy (their containers have probes). */
const APPLY_FLAGS: Record<string, string[]> = {
  'nmi-probes': ['--on-conflict', 'sidecar'], 'identity-probes': ['--on-conflict', 'sidecar'], 'workload-identity-probes': ['--on-conflict', 'sidecar'],
};

const crd = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../../../shared/schemas/kyverno.io_clusterpolicies.yaml'), 'utf8'));
const validateKyverno = new Ajv({ strict: false, allErrors: true }).compile(crd.spec.versions.find((v: any) => v.name === 'v1').schema.openAPIV3Schema);

describe('kyverno', () => {
  // What the policy does to workloads is checked by the real Kyverno CLI: test/slow/pipelines/kyverno.test.ts.
  it.each(ALL)('%s: valid against the Kyverno CRD, as the CLI writes it and per corpus workload', (id) => {
    for (const w of corpusWorkloads()) {
      const plan = planFor(id, { ...OPTIONS[id], containers: [templateOf(w).spec.containers[0].name] });
      const policy = kyvernoPolicy(plan, { name: `identity-health-${id}`, match: bindingRequirement(getStrategy(id).checks), summary: 'x' });
      expect(validateKyverno(policy), JSON.stringify(validateKyverno.errors)).toBe(true);
    }
    const r = run(['policy', '--engine', 'kyverno', '-s', id, ...Object.entries(OPTIONS[id] ?? {}).flatMap(([k, v]) => [`--${k}`, String(v)])]);
    expect(r.code, r.stderr).toBe(0);
    expect(validateKyverno(docs(r.stdout)[0]), JSON.stringify(validateKyverno.errors)).toBe(true);
  });

  it('the CLI writes it: binding label by default, --selector overrides, app checks without --port are refused', () => {
    const r = run(['policy', '--engine', 'kyverno', '-s', 'workload-identity-probes', '--exchange']);
    expect(r.code).toBe(0);
    const [p] = docs(r.stdout);
    expect(validateKyverno(p)).toBe(true);
    // Label conditions as preconditions, not a match selector (with a selector Kyverno generates no controller rules).
    expect(p.spec.rules[0].match).toEqual({ any: [{ resources: { kinds: ['Pod'] } }] });
    expect(p.spec.rules[0].preconditions).toEqual({ all: [{ key: `{{ request.object.metadata.labels."azure.workload.identity/use" || '' }}`, operator: 'Equals', value: 'true' }] });
    expect(p.metadata.annotations['pod-policies.kyverno.io/autogen-controllers']).toBe('Deployment,StatefulSet,DaemonSet,ReplicaSet,Job,CronJob');
    expect(p.spec.rules[0].mutate.patchStrategicMerge.spec.containers[0]['(name)']).toBe('*');
    const s = docs(run(['policy', '--engine', 'kyverno', '-s', 'nmi-init', '--selector', 'team=payments,!legacy']).stdout)[0];
    expect(s.spec.rules[0].preconditions.all).toEqual([
      { key: `{{ request.object.metadata.labels."team" || '' }}`, operator: 'Equals', value: 'payments' },
      { key: '{{ keys(request.object.metadata.labels || `{}`) }}', operator: 'AllNotIn', value: ['legacy'] },
    ]);
    const bad = run(['policy', '--engine', 'kyverno', '-s', 'nmi-app-check']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/give --port/);
    expect(run(['policy', '--engine', 'kyverno', '-s', 'nmi-init', '--selector', "a=b'; x"]).code).toBe(2);
  });
});

describe('vap', () => {
  const bindingLabels = (id: string): Record<string, string> => getStrategy(id).checks === 'workload-identity' ? { 'azure.workload.identity/use': 'true' } : { aadpodidbinding: 'app-identity' };

  it.each(ALL)('%s: valid Kubernetes objects; every corpus workload is rejected before apply and admitted after', (id) => {
    const [policy, binding] = vapObjects(getStrategy(id), { name: `identity-health-${id}`, match: bindingRequirement(getStrategy(id).checks) }) as any[];
    const models = require('kubernetes-models/admissionregistration.k8s.io/v1');
    new models.ValidatingAdmissionPolicy(policy).validate();
    new models.ValidatingAdmissionPolicyBinding(binding).validate();

    const labelled = corpusWorkloads().map((w) => withTemplateLabels(w, bindingLabels(id)));
    for (const w of corpusWorkloads()) expect(vapAdmits(policy, w).admitted, `unlabelled ${w.metadata.name}`).toBe(true);
    for (const w of labelled) expect(vapAdmits(policy, w).admitted, `${w.kind} ${w.metadata.name} before apply`).toBe(false);
    const stream = labelled.map((w) => YAML.stringify(w)).join('---\n');
    const optFlags = Object.entries(OPTIONS[id] ?? {}).flatMap(([k, v]) => [`--${k}`, String(v)]);
    const r = run(['apply', '-s', id, ...optFlags, ...(APPLY_FLAGS[id] ?? ['--on-conflict', 'skip']), '-'], { input: stream });
    expect(r.code, r.stderr).toBe(0);
    const skipped = new Set([...r.stderr.matchAll(/skipped \w+ (\S+):/g)].map((m) => m[1]));
    const after = docs(r.stdout);
    expect(after.length).toBe(labelled.length);
    for (const w of after) {
      const want = !skipped.has(w.metadata.name);
      expect(vapAdmits(policy, w), `${w.kind} ${w.metadata.name} after apply`).toMatchObject({ admitted: want });
    }
    // The audit agrees on every one of them.
    const audit = JSON.parse(run(['audit', '-', '--format', 'json'], { input: r.stdout }).stdout).workloads as any[];
    for (const a of audit) expect(a.strategies.includes(id)).toBe(vapAdmits(policy, after.find((w) => w.metadata.name === a.name)).admitted);
  });

  const pod = (cmd: string, env: any[] = [{ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }]) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { aadpodidbinding: 'x' } },
    spec: { containers: [{ name: 'app', image: 'a', env, readinessProbe: { exec: { command: ['/bin/sh', '-c', cmd] }, timeoutSeconds: 5 }, livenessProbe: { exec: { command: ['/bin/sh', '-c', cmd] }, timeoutSeconds: 5 } }] },
  });
  const policyFor = (id: string) => vapObjects(getStrategy(id), { name: 'p', match: bindingRequirement(getStrategy(id).checks) })[0] as any;

  it('rejects hand-written defective checks, admits the same checks done right (as audit --require)', () => {
    const nmi = policyFor('nmi-probes');
    const ident = policyFor('identity-probes');
    const cases: Array<[any, string, boolean]> = [
      [nmi, 'curl -s --max-time 2 http://$HOST_IP:8085/healthz | grep -q Active', false],
      [nmi, 'curl -sf --max-time 2 http://$HOST_IP:8085/healthz', false],
      [nmi, 'curl -sf --max-time 2 http://$HOST_IP:8085/healthz | grep -q Active', true],
      [nmi, 'body=$(curl --fail -s -m 2 http://$HOST_IP:8085/healthz); [ "$body" == Active ]', false],
      [nmi, 'body=$(curl --fail -s -m 2 http://$HOST_IP:8085/healthz); [ "$body" = Active ]', true],
      [ident, "curl -s -m 4 -H 'Metadata: true' 'http://169.254.169.254/metadata/identity/oauth2/token?resource=x'", false],
      [ident, "curl -s --fail -m 4 'http://169.254.169.254/metadata/identity/oauth2/token?resource=x'", false],
      [ident, "curl -s --fail-with-body -m 4 -H 'Metadata: true' 'http://169.254.169.254/metadata/identity/oauth2/token?resource=x'", true],
      [ident, "timeout 4 wget -q -O - --header 'Metadata: true' 'http://169.254.169.254/metadata/identity/oauth2/token?resource=x'", true],
    ];
    for (const [policy, cmd, ok] of cases) {
      expect(vapAdmits(policy, pod(cmd)).admitted, cmd).toBe(ok);
      const audit = JSON.parse(run(['audit', '-', '--format', 'json'], { input: YAML.stringify(pod(cmd)) }).stdout).workloads[0];
      expect(audit.strategies.length > 0, `audit: ${cmd}`).toBe(ok);
    }
    // HOST_IP used but not set.
    expect(vapAdmits(nmi, pod('curl -sf -m 2 http://$HOST_IP:8085/healthz | grep -q Active', [])).admitted).toBe(false);
  });

  it('workload identity: a check without the webhook label is rejected when --selector picks the pods', () => {
    const policy = vapObjects(getStrategy('workload-identity-probes'), { name: 'p', match: parseSelector('team=x') })[0] as any;
    const planned = applyPlan({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { team: 'x' } }, spec: { containers: [{ name: 'a', image: 'a' }] } }, planFor('workload-identity-probes', { useLabel: false })).doc;
    expect(vapAdmits(policy, planned).failed.join()).toMatch(/azure.workload.identity\/use/);
    (planned.metadata as any).labels['azure.workload.identity/use'] = 'true';
    expect(vapAdmits(policy, planned).admitted).toBe(true);
  });

  it.each(['nmi-probes', 'identity-probes', 'workload-identity-probes'])('%s: follows the probe file to its annotation; a file that cannot be there is rejected, as audit --require', (id) => {
    const policy = policyFor(id);
    const base = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: bindingLabels(id) }, spec: { containers: [{ name: 'a', image: 'a' }] } };
    const applied = applyPlan(base, planFor(id)).doc as any;
    const broken: Record<string, (p: any) => void> = {
      none: () => {},
      annotation: (p) => { delete p.metadata.annotations[`identity-health.io/${id}-script`]; },
      volume: (p) => { p.spec.volumes = p.spec.volumes.filter((v: any) => !v.downwardAPI); },
      mount: (p) => { p.spec.containers[0].volumeMounts = p.spec.containers[0].volumeMounts.filter((m: any) => !m.mountPath.startsWith('/etc/')); },
      'other file': (p) => { p.spec.volumes.find((v: any) => v.downwardAPI).downwardAPI.items[0].path = 'other.sh'; },
    };
    for (const [what, breakIt] of Object.entries(broken)) {
      const pod = JSON.parse(JSON.stringify(applied));
      breakIt(pod);
      const admitted = vapAdmits(policy, pod).admitted;
      expect(admitted, what).toBe(what === 'none');
      expect(auditWorkload(pod)!.strategies.includes(id as any), `audit: ${what}`).toBe(admitted);
    }
  });

  it('the CLI writes both objects', () => {
    const r = run(['policy', '--engine', 'vap', '-s', 'identity-init']);
    expect(r.code).toBe(0);
    expect(docs(r.stdout).map((d) => d.kind)).toEqual(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
  });
});
