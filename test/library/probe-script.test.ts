/**
 * One probe script per pod (strategies 2, 5, 8): the script is a pod annotation that a
 * downwardAPI volume projects as a file; each probe runs that file. The earlier inline form is
 * recognised as ours and upgraded in place; the audit and the Kyverno patch follow the reference.
 */
import { Include } from 'cdk8s';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { auditWorkload } from '../../src/audit';
import { applyMixin } from '../../src/cdk8s/mixin';
import { IdentityProbes, NmiProbes, WorkloadIdentityProbes } from '../../src/cdk8s/strategies';
import { applyPlan, ConflictError, Plan } from '../../src/pod-template/apply';
import type { Container, KubeObject } from '../../src/pod-template/types';
import { kyvernoPolicy, kyvernoSafe, podPatch } from '../../src/policy/kyverno';
import { planFor } from '../../src/transform';
import { allContainers, newChart, probeScriptOf, synth, validateK8s, workloads } from './helpers';

const PROBES = ['nmi-probes', 'identity-probes', 'workload-identity-probes'] as const;
const CLIENT = '11111111-1111-1111-1111-111111111111';
const opts = (id: string, o: object = {}) => ({ ...(id === 'nmi-probes' ? {} : { clientId: CLIENT }), ...o });
const MODES = { readinessProbe: 'readiness', livenessProbe: 'liveness', startupProbe: 'startup' } as const;

function deployment(containers: Container[] = [{ name: 'app', image: 'example/app:1' }]): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers } } },
  };
}
const template = (d: KubeObject) => (d.spec as any).template;
const appOf = (d: KubeObject) => template(d).spec.containers[0] as Container;
const countOf = (text: string, part: string) => text.split(part).length - 1;

/**
 * What the previous release wrote for `plan`, spelled out here rather than derived by the code
 * under test: each probe `sh -c <script> identity-health <mode>`, no annotation, volume or mount
 * for the script.
 */
function previousRelease(plan: Plan, d: KubeObject = deployment()): KubeObject {
  const script = probeScriptOf(plan);
  const fresh = applyPlan(d, plan).doc;
  const t = template(fresh);
  delete t.metadata.annotations[Object.keys(plan.podAnnotations)[0]];
  t.spec.volumes = t.spec.volumes.filter((v: any) => !v.downwardAPI);
  for (const c of t.spec.containers as Container[]) {
    if (c.volumeMounts) c.volumeMounts = c.volumeMounts.filter((m) => m.mountPath.startsWith('/var/run/'));
    for (const k of Object.keys(MODES) as Array<keyof typeof MODES>) {
      if (c[k]?.exec) c[k] = { ...c[k], exec: { command: ['/bin/sh', '-c', script, 'identity-health', MODES[k]] } };
    }
  }
  return fresh;
}

describe.each(PROBES)('%s', (id) => {
  const plan = planFor(id, opts(id));

  it('writes the script once, into an annotation projected as a file that each probe runs', () => {
    const d = applyPlan(deployment(), plan).doc;
    const t = template(d);
    const script = probeScriptOf(plan);
    const key = `identity-health.io/${id}-script`;
    expect(t.metadata.annotations[key]).toBe(script);
    expect(t.spec.volumes).toContainEqual({ name: `identity-health-${id}`, downwardAPI: { items: [{ path: 'probe.sh', fieldRef: { fieldPath: `metadata.annotations['${key}']` } }] } });
    const app = appOf(d);
    expect(app.volumeMounts).toContainEqual({ name: `identity-health-${id}`, mountPath: `/etc/identity-health/${id}`, readOnly: true });
    for (const [k, mode] of Object.entries(MODES)) {
      const cmd = (app as any)[k].exec.command as string[];
      expect(cmd.slice(0, 2)).toEqual(['/bin/sh', '-c']);
      expect(cmd.slice(3)).toEqual([`/etc/identity-health/${id}/probe.sh`, mode]);
      expect(cmd[2].length).toBeLessThan(150);
    }
    // Once in the whole object: a script line appears nowhere else.
    expect(countOf(JSON.stringify(d), JSON.stringify(script).slice(1, 60))).toBe(1);
    validateK8s(d);
  });

  it('upgrades the earlier inline form in place (apply), to exactly what a fresh apply writes; then nothing to do', () => {
    const fresh = applyPlan(deployment(), plan).doc;
    const old = previousRelease(plan);
    expect(JSON.stringify(old)).not.toContain('/etc/identity-health');
    const r = applyPlan(old, plan);
    expect(r.outcome).toBe('applied');
    expect(r.doc).toEqual(fresh);
    expect(applyPlan(r.doc, plan).outcome).toBe('unchanged');
  });

  it('upgrades the earlier inline sidecar in place, keeping the app\'s own probes', () => {
    const own = { httpGet: { path: '/health', port: 8080 } };
    const withOwn = () => deployment([{ name: 'app', image: 'x', readinessProbe: own }]);
    const sidecarPlan = planFor(id, opts(id, { onConflict: 'sidecar' }));
    const fresh = applyPlan(withOwn(), sidecarPlan).doc;
    expect(template(fresh).spec.containers[1].volumeMounts).toContainEqual(expect.objectContaining({ mountPath: `/etc/identity-health/${id}` }));
    const r = applyPlan(previousRelease(sidecarPlan, withOwn()), sidecarPlan);
    expect(r.outcome).toBe('applied');
    expect(r.doc).toEqual(fresh);
    expect(appOf(r.doc).readinessProbe).toEqual(own);
  });

  it('an earlier apply with other options (same timings) is ours: rewritten to the current options', () => {
    const other = planFor(id, opts(id, { startupGrace: 90 }));
    const fresh = applyPlan(deployment(), plan).doc;
    for (const earlier of [previousRelease(other), applyPlan(deployment(), other).doc]) {
      const r = applyPlan(earlier, plan);
      expect(r.outcome).toBe('applied');
      expect(r.doc).toEqual(fresh);
    }
  });

  it('probes of other timings are not ours to replace: a conflict, in either form', () => {
    const other = planFor(id, opts(id, { readiness: { periodSeconds: 9 } }));
    for (const earlier of [previousRelease(other), applyPlan(deployment(), other).doc]) {
      expect(() => applyPlan(earlier, plan)).toThrow(ConflictError);
      expect(() => applyPlan(earlier, plan)).toThrow(/already has a readinessProbe/);
    }
  });

  it('audit: reads the script through mount, volume and annotation; a file that cannot be there is an error', () => {
    const ok = auditWorkload(applyPlan(deployment(), plan).doc)!;
    expect(ok.strategies).toContain(id);
    expect(ok.parts.find((p) => p.placement === 'probes')).toMatchObject({ ours: true, probes: ['readiness', 'liveness', 'startup'] });
    expect(ok.defects.filter((x) => x.severity === 'error')).toEqual([]);

    const broken = {
      annotation: (t: any) => { delete t.metadata.annotations[`identity-health.io/${id}-script`]; },
      volume: (t: any) => { t.spec.volumes = t.spec.volumes.filter((v: any) => !v.downwardAPI); },
      mount: (t: any) => { for (const c of t.spec.containers) c.volumeMounts = c.volumeMounts.filter((m: any) => !m.mountPath.startsWith('/etc/')); },
    };
    for (const [what, breakIt] of Object.entries(broken)) {
      const d = applyPlan(deployment(), plan).doc;
      breakIt(template(d));
      const a = auditWorkload(d)!;
      expect(a.strategies, what).not.toContain(id);
      expect(a.defects.filter((x) => x.code === 'probe-script-missing').length, what).toBe(3);
      expect(a.defects.find((x) => x.code === 'probe-script-missing'), what).toMatchObject({ severity: 'error', where: 'container app readinessProbe' });
    }
    // The earlier inline form is audited as before: ours, the same strategy.
    const old = auditWorkload(previousRelease(plan))!;
    expect(old.strategies).toContain(id);
    expect(old.parts.find((p) => p.placement === 'probes')?.ours).toBe(true);
  });

  it('Kyverno: the patch carries the annotation (added where absent), the volume and the mount', () => {
    const patch = podPatch(plan) as any;
    expect(patch.metadata.annotations[`+(identity-health.io/${id}-script)`]).toBe(probeScriptOf(plan));
    expect(patch.spec.volumes.map((v: any) => v.name)).toContain(`identity-health-${id}`);
    expect(patch.spec.containers[0].volumeMounts.map((m: any) => m.name)).toContain(`identity-health-${id}`);
    // Kyverno would read `$(x)` (no space) as a variable: escaped in the annotation as in the probes before.
    const policy = kyvernoPolicy(plan, { name: 'p', match: [], summary: 'x' }) as any;
    const value = policy.spec.rules[0].mutate.patchStrategicMerge.metadata.annotations[`+(identity-health.io/${id}-script)`] as string;
    expect(value).toBe(kyvernoSafe(probeScriptOf(plan)));
    for (const m of probeScriptOf(plan).match(/\$\([^\n][^ )]*\)/g) ?? []) expect(value).toContain(`\\${m}`);
  });
});

/**
 * What real earlier releases' `apply` wrote (test/library/fixtures/earlier-releases: made by each
 * release's own code, for an app Deployment and one whose own readiness probe sent the check into
 * the sidecar): the release before one script per pod (scripts inline, 2bf6ed5) and the first
 * with it (longer scripts, successThreshold written, 1a1b634). Applying the current release
 * upgrades each in place to exactly what it writes on the bare Deployment.
 */
describe.each(['2bf6ed5-inline', '1a1b634-file'])('upgrade from release %s', (release) => {
  const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(__dirname, 'fixtures/earlier-releases', `${release}.yaml`), 'utf8')).map((d) => d.toJS() as KubeObject);
  it.each(docs.map((d) => [d.metadata!.name!, d] as const))('%s', (name, earlier) => {
    const id = PROBES.find((p) => name.startsWith(`${p}-`))!;
    const sidecar = name.endsWith('-sidecar');
    const plan = planFor(id, opts(id, sidecar ? { onConflict: 'sidecar' } : {}));
    const bare = structuredClone(earlier);
    const t = template(bare);
    delete t.metadata.annotations;
    t.spec.containers = [t.spec.containers[0]];
    const app = t.spec.containers[0];
    for (const k of ['env', 'volumeMounts', 'livenessProbe', 'startupProbe', ...(sidecar ? [] : ['readinessProbe'])]) delete app[k];
    delete t.spec.volumes;
    expect(app).toEqual({ name: 'app', image: 'example/app:1', ...(sidecar ? { readinessProbe: { httpGet: { path: '/health', port: 8080 } } } : {}) });
    const r = applyPlan(earlier, plan);
    expect(r.outcome).toBe('applied');
    expect(r.doc).toEqual(applyPlan(bare, plan).doc);
    expect(applyPlan(r.doc, plan).outcome).toBe('unchanged');
  });
});

describe('two probe strategies in one pod', () => {
  it("nmi-probes in the app and identity-probes in the sidecar ('sidecar'): each probe runs its own script", () => {
    const nmi = applyPlan(deployment(), planFor('nmi-probes')).doc;
    const both = applyPlan(nmi, planFor('identity-probes', { onConflict: 'sidecar' })).doc;
    const t = template(both);
    const [app, sidecar] = t.spec.containers as Container[];
    expect(sidecar.name).toBe('identity-health-check');
    const scriptOf = (c: Container) => auditWorkload({ ...both, spec: { ...both.spec, template: { ...t, spec: { ...t.spec, containers: [c] } } } })!.strategies;
    expect(scriptOf(app)).toEqual(['nmi-probes']);
    expect(scriptOf(sidecar)).toEqual(['identity-probes']);
    expect(auditWorkload(both)!.strategies).toEqual(['nmi-probes', 'identity-probes']);
    validateK8s(both);
  });
});

describe('mixins', () => {
  it('synthesize the script once per workload and upgrade an Include-d workload in the inline form', () => {
    for (const [Mixin, id] of [[NmiProbes, 'nmi-probes'], [IdentityProbes, 'identity-probes'], [WorkloadIdentityProbes, 'workload-identity-probes']] as const) {
      const options = opts(id);
      const plan = planFor(id, options);
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ih-inline-')), 'web.yaml');
      fs.writeFileSync(file, YAML.stringify(previousRelease(plan)));
      const chart = newChart();
      new Include(chart, 'web', { url: file });
      applyMixin(chart, new Mixin(options));
      const [d] = workloads(synth(chart));
      expect(d).toEqual(applyPlan(deployment(), plan).doc);
      expect(allContainers(d)[0].readinessProbe?.exec?.command[3]).toBe(`/etc/identity-health/${id}/probe.sh`);
    }
  });
});
