/**
 * `identity-health policy --engine vap` on a real kube-apiserver (+ etcd): the policy and its
 * binding pass the server's own validation (CEL compilation and cost estimate), then the server
 * itself rejects bound workloads without the check (and with a defective one) and admits what
 * `identity-health apply` produced. The server's messages are printed for docs/pipelines.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { STRATEGY_IDS, WORKLOAD_IDENTITY_STRATEGY_IDS } from '../../../strategies/types';
import { docs, run } from '../../cli/helpers';
import { Cluster, eventually, startCluster } from './cluster';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
  // No controller manager runs: make the ServiceAccount it would have made, or Pods are refused for lack of it.
  expect((await cluster.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } })).status).toBe(201);
  console.log(`cluster suite (VAP) on: ${Object.entries(cluster.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
});
afterAll(async () => { await cluster?.stop(); });

const isWi = (id: string) => id.startsWith('workload-identity');
const bindingLabel = (id: string): Record<string, string> => (isWi(id) ? { 'azure.workload.identity/use': 'true' } : { aadpodidbinding: 'app-id' });

/** A plain workload of `kind` whose pod template carries the binding label and has no probes. */
function workload(kind: string, name: string, labels: Record<string, string>): any {
  const template = { metadata: { labels: { app: name, ...labels } }, spec: { containers: [{ name: 'app', image: 'example/app:1', ports: [{ containerPort: 8080 }] }] } };
  const sel = { selector: { matchLabels: { app: name } } };
  const meta = { name };
  switch (kind) {
    case 'Pod': return { apiVersion: 'v1', kind, metadata: { ...meta, labels: template.metadata.labels }, spec: template.spec };
    case 'Job': return { apiVersion: 'batch/v1', kind, metadata: meta, spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } };
    case 'CronJob': return { apiVersion: 'batch/v1', kind, metadata: meta, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } } } };
    case 'StatefulSet': return { apiVersion: 'apps/v1', kind, metadata: meta, spec: { ...sel, serviceName: name, template } };
    default: return { apiVersion: 'apps/v1', kind, metadata: meta, spec: { ...sel, template } };
  }
}

function applied(doc: any, id: string): any {
  const r = run(['apply', '--strategy', id, '--quiet', '-'], { input: YAML.stringify(doc) });
  expect(r.code, r.stderr).toBe(0);
  return docs(r.stdout)[0];
}

/** The pod template (metadata and spec) inside any workload kind. */
function templateOf(doc: any): any {
  if (doc.kind === 'Pod') return doc;
  if (doc.kind === 'CronJob') return doc.spec.jobTemplate.spec.template;
  return doc.spec.template;
}

async function installPolicy(id: string, extra: string[] = [], probeLabels = bindingLabel(id)): Promise<string> {
  const r = run(['policy', '--engine', 'vap', '--strategy', id, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  const [policy, binding] = docs(r.stdout);
  for (const d of [policy, binding]) {
    const res = await cluster.create(d);
    expect(res.status, `${d.kind} ${d.metadata.name}: ${JSON.stringify(res.body)}`).toBe(201);
  }
  // The policy takes effect once the server's informers see it: wait until a bare bound Pod is refused.
  await eventually(`policy ${policy.metadata.name} enforced`, 30_000,
    () => cluster.create(workload('Pod', 'probe-policy', probeLabels), { dryRun: true }), (x) => x.status === 422);
  return policy.metadata.name;
}

async function removePolicy(name: string, probeLabels: Record<string, string>): Promise<void> {
  for (const kind of ['validatingadmissionpolicybindings', 'validatingadmissionpolicies']) {
    const res = await cluster.request('DELETE', `/apis/admissionregistration.k8s.io/v1/${kind}/${name}`);
    expect(res.status).toBe(200);
  }
  await eventually(`policy ${name} gone`, 30_000,
    () => cluster.create(workload('Pod', 'probe-policy', probeLabels), { dryRun: true }), (x) => x.status === 201);
}

const messages: string[] = [];

/** A namespace of its own (with the ServiceAccount a controller manager would have made), so names never clash. */
async function namespace(ns: string): Promise<string> {
  expect((await cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status).toBe(201);
  expect((await cluster.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }, { namespace: ns })).status).toBe(201);
  return ns;
}

describe.each([...STRATEGY_IDS, ...WORKLOAD_IDENTITY_STRATEGY_IDS])('VAP for %s on kube-apiserver', (id) => {
  it('is accepted by the server; the server rejects bound workloads without the check or with a defective one and admits apply\'s output', async () => {
    const namespaced = await namespace(id);
    const name = await installPolicy(id);
    try {
      for (const kind of ['Deployment', 'Pod', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']) {
        const bare = workload(kind, `bare-${kind.toLowerCase()}`, bindingLabel(id));
        const refused = await cluster.create(bare, { namespace: namespaced, dryRun: true });
        expect(refused.status, `${kind} without the check: ${JSON.stringify(refused.body)}`).toBe(422);
        expect(refused.body.message).toContain(`must have the ${id} check`);
        if (kind === 'Deployment') messages.push(`${id}: ${refused.body.message}`);

        const withCheck = applied(bare, id);
        const admitted = await cluster.create(withCheck, { namespace: namespaced });
        expect(admitted.status, `${kind} after apply: ${JSON.stringify(admitted.body.message)}`).toBe(201);

        // Unbound workloads are not the policy's business.
        const unbound = await cluster.create(workload(kind, `unbound-${kind.toLowerCase()}`, {}), { namespace: namespaced, dryRun: true });
        expect(unbound.status, `${kind} without the binding label`).toBe(201);
      }

      // Defects the audit calls errors, put into apply's own output: each is refused by the server.
      const good = applied(workload('Deployment', 'defects', bindingLabel(id)), id);
      for (const [what, spoil] of defectsFor(id)) {
        const bad = structuredClone(good);
        spoil(templateOf(bad));
        const res = await cluster.create(bad, { namespace: namespaced, dryRun: true });
        expect(res.status, `${id}, ${what}: ${JSON.stringify(res.body.message)}`).toBe(422);
      }
    } finally {
      await removePolicy(name, bindingLabel(id));
    }
  });
});

/** Spoils a pod template (metadata and spec) in place. */
type Spoil = (template: any) => void;
/** Every script in a pod template: a multi-line command argument, or a multi-line annotation (the probe strategies' script file). */
const scripts = (template: any): { args: Record<string | number, string>; i: string | number }[] => {
  const out: { args: Record<string | number, string>; i: string | number }[] = [];
  const spec = template.spec;
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const p of [c, c.readinessProbe?.exec, c.livenessProbe?.exec, c.startupProbe?.exec]) {
      if (p?.command) p.command.forEach((s: string, i: number) => { if (/\n/.test(s)) out.push({ args: p.command, i }); });
    }
  }
  const annotations = template.metadata?.annotations ?? {};
  for (const k of Object.keys(annotations)) if (/\n/.test(annotations[k])) out.push({ args: annotations, i: k });
  return out;
};
const editScripts = (f: (s: string) => string): Spoil => (template) => {
  const found = scripts(template);
  expect(found.length).toBeGreaterThan(0);
  for (const { args, i } of found) args[i] = f(args[i]);
};

function defectsFor(id: string): [string, Spoil][] {
  const template = templateOf(applied(workload('Deployment', 'x', bindingLabel(id)), id));
  const out: [string, Spoil][] = [];
  const all = scripts(template).map((x) => x.args[x.i]).join('\n');
  if (all.includes('--fail')) out.push(['curl without --fail', editScripts((s) => s.replace(/ --fail(?:-with-body)?(?= )/g, ''))]);
  if (/" = /.test(all)) out.push(['== inside [ ]', editScripts((s) => s.replace(/" = /, '" == '))]);
  if (all.includes('HOST_IP')) {
    out.push(['HOST_IP used, not set', ({ spec: sp }) => {
      for (const c of [...(sp.initContainers ?? []), ...sp.containers]) c.env = c.env?.filter((e: any) => e.name !== 'HOST_IP');
    }]);
  }
  if (all.includes("'Active'")) out.push(['NMI checked by status only', editScripts((s) => s.replace(/\[ "\$body" = 'Active' \] \|\|/, 'true ||').replace(/'Active'/g, "'ok'"))]);
  if (scripts(template).some((x) => typeof x.i === 'string')) {
    // The probe strategies' script file: the annotation, the volume or the mount gone (audit: probe-script-missing).
    out.push(['probe script annotation removed', (t) => { for (const k of Object.keys(t.metadata.annotations)) if (k.endsWith('-script')) delete t.metadata.annotations[k]; }]);
    out.push(['probe script volume removed', ({ spec: sp }) => { sp.volumes = sp.volumes.filter((v: any) => !v.downwardAPI); }]);
    out.push(['probe script mount removed', ({ spec: sp }) => { for (const c of sp.containers) c.volumeMounts = c.volumeMounts?.filter((m: any) => !m.mountPath.startsWith('/etc/identity-health/')); }]);
  }
  if (!scripts(template).length) {
    out.push(['app check env names another kind', ({ spec: sp }) => {
      for (const c of sp.containers) c.env = c.env?.map((e: any) => (e.name === 'IDENTITY_HEALTH_CHECK' ? { ...e, value: e.value === 'nmi' ? 'identity' : 'nmi' } : e));
    }]);
    out.push(['no httpGet probe', ({ spec: sp }) => { for (const c of sp.containers) { delete c.readinessProbe; delete c.livenessProbe; delete c.startupProbe; } }]);
  }
  expect(out.length, `${id}: defects to try`).toBeGreaterThan(0);
  return out;
}

describe('hand-written checks on kube-apiserver', () => {
  it('nmi-init: a check whose curl lacks --fail and whose HOST_IP is not set is refused; the same check written right is admitted', async () => {
    const name = await installPolicy('nmi-init');
    try {
      const pod = (script: string, env: any[]) => ({
        ...workload('Pod', 'hand-written', bindingLabel('nmi-init')),
        spec: {
          initContainers: [{ name: 'wait-nmi', image: 'curlimages/curl:8.11.1', command: ['/bin/sh', '-c', script], env }],
          containers: [{ name: 'app', image: 'example/app:1' }],
        },
      });
      const hostIp = [{ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }];
      const sloppy = await cluster.create(pod('until curl -s http://$HOST_IP:8085/healthz | grep -q Active; do sleep 2; done', []), { dryRun: true });
      expect(sloppy.status, JSON.stringify(sloppy.body)).toBe(422);
      messages.push(`hand-written: ${sloppy.body.message}`);
      const noEnv = await cluster.create(pod('until curl -sf http://$HOST_IP:8085/healthz | grep -qx Active; do sleep 2; done', []), { dryRun: true });
      expect(noEnv.status).toBe(422);
      const right = await cluster.create(pod('until curl -sf --max-time 2 http://$HOST_IP:8085/healthz | grep -qx Active; do sleep 2; done', hostIp), { dryRun: true });
      expect(right.status, JSON.stringify(right.body.message)).toBe(201);
    } finally {
      await removePolicy(name, bindingLabel('nmi-init'));
    }
  });

  it('workload identity with --selector: a selected pod without azure.workload.identity/use is refused with the label message', async () => {
    const name = await installPolicy('workload-identity-probes', ['--selector', 'tier=backend', '--name', 'wi-backend'], { tier: 'backend' });
    try {
      const base = workload('Deployment', 'wi-backend', { tier: 'backend' });
      const noLabel = applied(base, 'workload-identity-probes');
      delete noLabel.spec.template.metadata.labels['azure.workload.identity/use'];
      const refused = await cluster.create(noLabel, { dryRun: true });
      expect(refused.status).toBe(422);
      expect(refused.body.message).toContain('azure.workload.identity/use');
      messages.push(`wi label: ${refused.body.message}`);
      expect((await cluster.create(applied(base, 'workload-identity-probes'), { dryRun: true })).status).toBe(201);
    } finally {
      await removePolicy(name, { tier: 'backend' });
    }
    console.log(`server messages:\n${messages.join('\n')}`);
  });
});
