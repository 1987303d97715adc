/**
 * The Kyverno CLI (built by scripts/slow-setup.d/10-engines-pipelines.sh) runs our policies:
 * `kyverno apply` of `identity-health policy --engine kyverno` to every workload of the corpus, the
 * synthesized examples and fixtures of the kinds the corpus lacks (its Pod rule reaches the
 * controllers through Kyverno's autogen) gives what `identity-health apply` gives, compared as
 * parsed objects; and `policy --engine vap` (ValidatingAdmissionPolicy + binding) through the same
 * CLI rejects bound workloads without the check and admits them with it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { getStrategy, STRATEGY_IDS, WORKLOAD_IDENTITY_STRATEGY_IDS } from '../../../strategies';
import { docs, run } from '../../cli/helpers';
import { engine } from '../engines';
import {
  byKey, clone, corpusWorkloads, example, exampleFlags, fixtures, key, runEngine, tempDir, templateOf, twoContainerPod,
  withoutProbes, withTemplateLabels, yamlStream,
} from './helpers';

const kyverno = engine('kyverno');
const versionOut = runEngine(kyverno, ['version']);
console.log(`kyverno CLI ${kyverno.version}: ${versionOut.stdout.trim().split('\n').join('; ')}`);

const ALL = [...STRATEGY_IDS, ...WORKLOAD_IDENTITY_STRATEGY_IDS];
const CLIENT_ID = '6e1e2d3c-0000-4000-8000-00000000abcd';
/** The same flags for `policy` and `apply`, a few non-default options each (app checks need --port for Kyverno). */
const FLAGS: Record<string, string[]> = {
  'nmi-init': ['--deadline', '120', '--client', 'wget'],
  'nmi-probes': ['--nmi-port', '8086', '--readiness-period', '5'],
  'nmi-app-check': ['--port', '8080'],
  'identity-init': ['--client-id', CLIENT_ID, '--resource', 'https://vault.azure.net'],
  'identity-probes': ['--client-id', CLIENT_ID, '--token-cache-ttl', '30'],
  'identity-app-check': ['--port', '8080', '--client-id', CLIENT_ID],
  'workload-identity-init': ['--client-id', CLIENT_ID, '--exchange'],
  'workload-identity-probes': ['--client-id', CLIENT_ID],
  'workload-identity-app-check': ['--port', 'http'],
};
const bindingLabels = (id: string): Record<string, string> =>
  getStrategy(id).checks === 'workload-identity' ? { 'azure.workload.identity/use': 'true' } : { aadpodidbinding: 'app-identity' };

/** `kyverno apply <policies> --resource <resources> -o <file>`: the engine's result and every resource it wrote. */
function kyvernoApply(policies: string, resources: any[], extra: string[] = []): { code: number; stdout: string; stderr: string; out: Map<string, any> } {
  const dir = tempDir('kyverno');
  const p = path.join(dir, 'policy.yaml');
  const r = path.join(dir, 'resources.yaml');
  const o = path.join(dir, 'mutated.yaml');
  fs.writeFileSync(p, policies);
  fs.writeFileSync(r, yamlStream(resources));
  const res = runEngine(kyverno, ['apply', p, '--resource', r, '-o', o, '--remove-color', ...extra], { cwd: dir });
  // The CLI gives a resource without a namespace `namespace: default` (as an API server would): drop it to compare.
  const out = new Map<string, any>(fs.existsSync(o) ? docs(fs.readFileSync(o, 'utf8')).filter(Boolean).map((d) => {
    if (d.metadata?.namespace === 'default' && !resources.find((r) => key(r) === key({ ...d, metadata: { ...d.metadata, namespace: undefined } }))?.metadata?.namespace) delete d.metadata.namespace;
    return [key(d), d];
  }) : []);
  return { ...res, out };
}

/**
 * Env vars, volume mounts and volumes are maps keyed by name (their order means nothing to Kubernetes
 * here): Kyverno's strategic merge puts the patch's items before the pod's own, apply appends ours.
 * Init containers keep their order (both put ours first), as do containers.
 */
function byNameLists(d: any): any {
  if (!d) return d;
  const x = clone(d);
  const sort = (l?: any[]) => l && [...l].sort((a, b) => a.name.localeCompare(b.name));
  const spec = templateOf(x).spec;
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) for (const k of ['env', 'volumeMounts']) if (c[k]) c[k] = sort(c[k]);
  if (spec.volumes) spec.volumes = sort(spec.volumes);
  return x;
}

function cli(args: string[], input?: string): string {
  const r = run(args, { input });
  expect(r.code, `identity-health ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** `apply` on the same documents: the expectation, by resource key. */
const applied = (id: string, flags: string[], ds: any[]) => byKey(docs(cli(['apply', '-q', '-s', id, ...flags, '-'], yamlStream(ds))));

describe(`kyverno ${kyverno.version}: policy --engine kyverno`, () => {
  it.each(ALL)('%s: kyverno apply equals identity-health apply on the corpus, fixtures of every kind, and the examples', (id) => {
    const flags = FLAGS[id];
    // Where apply would report a conflict (the corpus's own probes) Kyverno keeps the pod's value: compare without them.
    const strip = getStrategy(id).placement === 'init' ? (d: any) => d : withoutProbes;
    const bound = [...corpusWorkloads(), ...fixtures()].map((d) => withTemplateLabels(strip(d), bindingLabels(id)));
    const unbound = { ...clone(fixtures()[0]), metadata: { name: 'unbound' } };
    const policy = cli(['policy', '--engine', 'kyverno', '-s', id, ...flags]);
    const k = kyvernoApply(policy, [...bound, unbound]);
    expect(k.code, k.stdout + k.stderr).toBe(0);
    const want = applied(id, flags, bound);
    for (const d of bound) expect(byNameLists(k.out.get(key(d))), key(d)).toEqual(byNameLists(want.get(key(d))));
    // Not bound: not touched (apply, without a selector, would change it).
    expect(k.out.get(key(unbound)) ?? unbound).toEqual(unbound);

    // The synthesized example of this strategy (options as main.ts gives them): already has it; both leave it as it is.
    const ex = example(id).filter((d) => d.kind !== 'ServiceAccount');
    const exPolicy = cli(['policy', '--engine', 'kyverno', '-s', id, ...exampleFlags(id)]);
    const kx = kyvernoApply(exPolicy, ex);
    expect(kx.code, kx.stdout + kx.stderr).toBe(0);
    const wantEx = applied(id, exampleFlags(id), ex);
    for (const d of ex) {
      expect(wantEx.get(key(d))).toEqual(d);
      expect(kx.out.get(key(d)) ?? d, `example ${key(d)}`).toEqual(d);
    }
  });

  it('--selector (k=v, k!=v, k, !k) picks the pod templates apply --selector picks, controllers included', () => {
    const sel = 'team=payments,tier!=batch,!legacy';
    const base = fixtures();
    const variants: Array<[string, Record<string, string>]> = [
      ['in', { team: 'payments' }], ['other-team', { team: 'orders' }], ['legacy', { team: 'payments', legacy: 'yes' }],
      ['batch', { team: 'payments', tier: 'batch' }], ['web-tier', { team: 'payments', tier: 'web' }], ['none', {}],
    ];
    // The policy's selector reads pod-template labels, apply's reads the workload's own (as kubectl -l): give both.
    const ds = variants.flatMap(([suffix, labels]) => base.map((d) => withTemplateLabels({ ...clone(d), metadata: { ...d.metadata, name: `${d.metadata.name}-${suffix}`, labels } }, labels)));
    const k = kyvernoApply(cli(['policy', '--engine', 'kyverno', '-s', 'nmi-init', '--selector', sel]), ds);
    expect(k.code, k.stdout + k.stderr).toBe(0);
    const want = applied('nmi-init', ['--selector', sel], ds);
    for (const d of ds) expect(byNameLists(k.out.get(key(d)) ?? d), key(d)).toEqual(byNameLists(want.get(key(d))));
    const changed = ds.filter((d) => templateOf(k.out.get(key(d)) ?? d).metadata.annotations?.['identity-health.io/strategies']).map((d) => d.metadata.name.replace(/^[a-z]+-/, ''));
    expect([...new Set(changed)].sort()).toEqual(['in', 'web-tier']);
  });

  it('--containers: only the named container of a two-container pod, as apply', () => {
    for (const id of ['identity-probes', 'nmi-app-check']) {
      const flags = [...FLAGS[id], '--containers', 'app'];
      const pod = withTemplateLabels(twoContainerPod(), bindingLabels(id));
      const k = kyvernoApply(cli(['policy', '--engine', 'kyverno', '-s', id, ...flags]), [pod]);
      expect(k.code, k.stdout + k.stderr).toBe(0);
      expect(byNameLists(k.out.get(key(pod))), id).toEqual(byNameLists(applied(id, flags, [pod]).get(key(pod))));
      expect(k.out.get(key(pod)).spec.containers[1]).toEqual(pod.spec.containers[1]);
    }
  });

  it('where apply reports a conflict, Kyverno keeps the probes the pod has and adds only the absent ones; a same-named env var takes our value', () => {
    const own = { httpGet: { path: '/ready', port: 8080 } };
    const pod = withTemplateLabels(twoContainerPod(), { aadpodidbinding: 'x' });
    pod.spec.containers[0].readinessProbe = own;
    pod.spec.containers[0].env.push({ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
    const k = kyvernoApply(cli(['policy', '--engine', 'kyverno', '-s', 'identity-probes', '--containers', 'app']), [pod]);
    expect(k.code, k.stdout + k.stderr).toBe(0);
    const app = k.out.get(key(pod)).spec.containers[0];
    expect(app.readinessProbe).toEqual(own);
    expect(app.livenessProbe.exec.command[3]).toBe('/etc/identity-health/identity-probes/probe.sh');
    // The script the probe runs: the annotation Kyverno added, projected by the volume it added.
    expect(k.out.get(key(pod)).metadata.annotations['identity-health.io/identity-probes-script']).toMatch(/metadata\/identity\/oauth2\/token/);
    expect(k.out.get(key(pod)).spec.volumes.map((v: any) => v.name)).toContain('identity-health-identity-probes');
    // An env var of the same name takes our value (apply reports it as a conflict instead).
    expect(app.env.find((e: any) => e.name === 'HOST_IP')).toEqual({ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } });
    expect(app.env.find((e: any) => e.name === 'LOG_LEVEL')).toEqual({ name: 'LOG_LEVEL', value: 'info' });
    // apply refuses the same pod, naming the probe.
    const r = run(['apply', '-s', 'identity-probes', '--containers', 'app', '-'], { input: yamlStream([pod]) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already has a readinessProbe/);
  });
});

interface Verdict { result: string; message?: string }

/** `kyverno apply` of a VAP and its binding: the policy report's result per resource (pass / fail / error / skip). */
function vapVerdicts(objects: string, resources: any[]): Map<string, Verdict> {
  const k = kyvernoApply(objects, resources, ['--policy-report', '--output-format', 'json']);
  // Exit 1 is Kyverno's answer when a resource fails ("exit as there are policy violations"); anything else is an error.
  expect([0, 1], k.stdout + k.stderr).toContain(k.code);
  const json = k.stdout.slice(k.stdout.indexOf('{'), k.stdout.lastIndexOf('}') + 1);
  const report = JSON.parse(json);
  const out = new Map<string, Verdict>();
  // Resources without a namespace are reported in `default` (see kyvernoApply); ours have none.
  for (const r of report.results ?? []) for (const ref of r.resources ?? []) out.set(`${ref.kind}//${ref.name}`, { result: r.result, message: r.message });
  return out;
}

const renamed = (d: any, suffix: string) => ({ ...clone(d), metadata: { ...d.metadata, name: `${d.metadata.name}${suffix}` } });

describe(`kyverno ${kyverno.version}: policy --engine vap (ValidatingAdmissionPolicy with its binding)`, () => {
  it.each(ALL)('%s: bound workloads rejected without the check, admitted after apply, unbound admitted', (id) => {
    const vap = cli(['policy', '--engine', 'vap', '-s', id]);
    const bound = [...corpusWorkloads(), ...fixtures()].map((d) => withTemplateLabels(d, bindingLabels(id)));
    const unbound = fixtures().map((d) => renamed(d, '-unbound'));
    const onConflict = getStrategy(id).placement === 'probes' ? 'sidecar' : 'skip';
    const r = run(['apply', '-s', id, ...FLAGS[id], '--on-conflict', onConflict, '-'], { input: yamlStream(bound) });
    expect(r.code, r.stderr).toBe(0);
    const skipped = new Set([...r.stderr.matchAll(/skipped \w+ (\S+):/g)].map((m) => m[1]));
    const after = docs(r.stdout).map((d) => renamed(d, '-after'));
    const v = vapVerdicts(vap, [...bound, ...unbound, ...after]);
    for (const d of bound) {
      expect(v.get(key(d))?.result, `${key(d)} before apply`).toBe('fail');
      expect(v.get(key(d))?.message).toMatch(new RegExp(`must have the ${id} check`));
    }
    for (const d of unbound) expect(v.get(key(d))?.result, `${key(d)} unbound`).toBe('pass');
    for (const d of after) {
      const want = skipped.has(d.metadata.name.replace(/-after$/, '')) ? 'fail' : 'pass';
      expect(v.get(key(d))?.result, `${key(d)} after apply`).toBe(want);
    }
    expect(after.filter((d) => v.get(key(d))?.result === 'pass').length).toBeGreaterThan(0);
  });

  const pod = (name: string, cmd: string, env: any[] = [{ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }]) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { aadpodidbinding: 'x' } },
    spec: { containers: [{ name: 'app', image: 'a', env, readinessProbe: { exec: { command: ['/bin/sh', '-c', cmd] }, timeoutSeconds: 5 }, livenessProbe: { exec: { command: ['/bin/sh', '-c', cmd] }, timeoutSeconds: 5 } }] },
  });

  it('rejects hand-written defective checks, admits the same checks done right (as audit --require)', () => {
    const cases: Array<[string, string, boolean, any[]?]> = [
      ['nmi-probes', 'curl -s --max-time 2 http://$HOST_IP:8085/healthz | grep -q Active', false],
      ['nmi-probes', 'curl -sf --max-time 2 http://$HOST_IP:8085/healthz', false],
      ['nmi-probes', 'curl -sf --max-time 2 http://$HOST_IP:8085/healthz | grep -q Active', true],
      ['nmi-probes', 'body=$(curl --fail -s -m 2 http://$HOST_IP:8085/healthz); [ "$body" == Active ]', false],
      ['nmi-probes', 'body=$(curl --fail -s -m 2 http://$HOST_IP:8085/healthz); [ "$body" = Active ]', true],
      ['nmi-probes', 'curl -sf -m 2 http://$HOST_IP:8085/healthz | grep -q Active', false, []],
      ['identity-probes', "curl -s -m 4 -H 'Metadata: true' 'http://169.254.169.254/metadata/identity/oauth2/token?resource=x'", false],
      ['identity-probes', "curl -s --fail -m 4 'http://169.254.169.254/metadata/identity/oauth2/token?resource=x'", false],
      ['identity-probes', "curl -s --fail-with-body -m 4 -H 'Metadata: true' 'http://169.254.169.254/metadata/identity/oauth2/token?resource=x'", true],
      ['identity-probes', "timeout 4 wget -q -O - --header 'Metadata: true' 'http://169.254.169.254/metadata/identity/oauth2/token?resource=x'", true],
    ];
    for (const id of ['nmi-probes', 'identity-probes']) {
      const mine = cases.map((c, i) => [c, pod(`case-${i}`, c[1], c[3])] as const).filter(([c]) => c[0] === id);
      const v = vapVerdicts(cli(['policy', '--engine', 'vap', '-s', id]), mine.map(([, p]) => p));
      for (const [[, cmd, ok], p] of mine) {
        expect(v.get(key(p))?.result, `${id}: ${cmd}`).toBe(ok ? 'pass' : 'fail');
        const audit = JSON.parse(cli(['audit', '-', '--format', 'json'], yamlStream([p]))).workloads[0];
        expect(audit.strategies.includes(id), `audit: ${cmd}`).toBe(ok);
      }
    }
  });

  it('workload identity with --selector: a pod without the webhook label is rejected with the label message', () => {
    const vap = cli(['policy', '--engine', 'vap', '-s', 'workload-identity-probes', '--selector', 'team=x']);
    const base = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wi', labels: { team: 'x' } }, spec: { containers: [{ name: 'a', image: 'a' }] } };
    const planned = docs(cli(['apply', '-s', 'workload-identity-probes', '--no-use-label', '-'], yamlStream([base])))[0];
    const labelled = withTemplateLabels(renamed(planned, '-labelled'), { 'azure.workload.identity/use': 'true' });
    const v = vapVerdicts(vap, [planned, labelled]);
    expect(v.get(key(planned))).toMatchObject({ result: 'fail', message: expect.stringMatching(/azure\.workload\.identity\/use/) });
    expect(v.get(key(labelled))?.result).toBe('pass');
  });
});
