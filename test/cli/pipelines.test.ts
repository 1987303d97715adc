/** Pipelines: `apply -` as a Helm post-renderer, and `krm` as a KRM function (piped, through kubectl's kustomize and through kpt; standalone kustomize and Helm run in test/slow/pipelines). */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { CLI, CORPUS, docs, isWorkload, run, tempCorpus } from './helpers';

/** What Helm hands a post-renderer: every rendered template, each after `---` and a `# Source:` comment. */
function helmStream(): string {
  const text = fs.readFileSync(path.join(CORPUS, 'aks-store-all-in-one.yaml'), 'utf8');
  return YAML.parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean)
    .map((d, i) => `---\n# Source: store/templates/${String(d.kind).toLowerCase()}-${i}.yaml\n${YAML.stringify(d)}`).join('');
}

describe('Helm post-renderer', () => {
  it('a wrapper script with flags: manifests on stdin, the result on stdout, every document and Source comment kept', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-helm-'));
    const wrapper = path.join(dir, 'identity-health-post-render.sh');
    // As in docs/pipelines.md, with the built CLI in place of `npx --no-install identity-health`.
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec node ${JSON.stringify(CLI)} apply --quiet --strategy identity-probes --on-conflict sidecar --client-id 6e1e2d3c-0000-4000-8000-00000000abcd -\n`, { mode: 0o755 });
    const input = helmStream();
    const r = spawnSync(wrapper, [], { input, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const before = docs(input);
    const after = docs(r.stdout);
    expect(after.length).toBe(before.length);
    expect(r.stdout.match(/^# Source: .*$/gm)).toEqual(input.match(/^# Source: .*$/gm));
    for (const [i, d] of after.entries()) {
      if (isWorkload(d)) expect(d.spec.template.metadata.annotations['identity-health.io/strategies']).toBe('identity-probes');
      else expect(d).toEqual(before[i]);
    }
    // Helm stops the release when the post-renderer fails: a conflict exits 2 and writes nothing to stdout.
    const conflict = run(['apply', '-s', 'nmi-probes', '-'], { input });
    expect(conflict.code).toBe(2);
    expect(conflict.stdout).toBe('');
  });
});

const resourceList = (items: unknown[], functionConfig: unknown) => YAML.stringify({ apiVersion: 'config.kubernetes.io/v1', kind: 'ResourceList', items, functionConfig });
const corpusItems = () => docs(fs.readFileSync(path.join(CORPUS, 'aks-store-all-in-one.yaml'), 'utf8')).filter(Boolean)
  .map((d, i) => ({ ...d, metadata: { ...d.metadata, annotations: { ...(d.metadata?.annotations ?? {}), 'config.kubernetes.io/path': `store/${i}.yaml` } } }));

describe('KRM function', () => {
  it('ConfigMap functionConfig: items transformed, skips reported as warnings with their file', () => {
    const items = corpusItems();
    const r = run(['krm'], { input: resourceList(items, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fn' }, data: { strategy: 'nmi-probes', 'on-conflict': 'skip' } }) });
    expect(r.code, r.stderr).toBe(0);
    const out = YAML.parse(r.stdout);
    expect(out.kind).toBe('ResourceList');
    expect(out.items.length).toBe(items.length);
    const warnings = out.results.filter((x: any) => x.severity === 'warning');
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toMatchObject({ resourceRef: { kind: expect.any(String) }, file: { path: expect.stringMatching(/^store\//) } });
    const changed = out.items.filter((d: any) => d.spec?.template?.metadata?.annotations?.['identity-health.io/strategies'] === 'nmi-probes');
    expect(changed.length + warnings.length).toBe(items.filter(isWorkload).length);
  });

  it('typed functionConfig (IdentityHealthStrategy): workload identity, ServiceAccounts annotated; conflicts are error results and exit 1', () => {
    const items = [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'api' } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api' }, spec: { selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { serviceAccountName: 'api', containers: [{ name: 'api', image: 'a' }] } } } },
    ];
    const fc = { apiVersion: 'identity-health.io/v1alpha1', kind: 'IdentityHealthStrategy', metadata: { name: 'fn' }, spec: { strategy: 'workload-identity-init', options: { clientId: '6e1e2d3c-0000-4000-8000-00000000abcd' } } };
    const r = run(['krm', '--output', 'json'], { input: resourceList(items, fc) });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.items[0].metadata.annotations).toEqual({ 'azure.workload.identity/client-id': '6e1e2d3c-0000-4000-8000-00000000abcd' });
    expect(out.items[1].spec.template.metadata.labels['azure.workload.identity/use']).toBe('true');
    expect(out.items[1].spec.template.spec.initContainers[0].name).toMatch(/workload-identity-init/);

    const withProbe = JSON.parse(JSON.stringify(items[1]));
    withProbe.spec.template.spec.containers[0].readinessProbe = { httpGet: { path: '/', port: 80 } };
    const bad = run(['krm'], { input: resourceList([withProbe], { ...fc, spec: { strategy: 'nmi-probes' } }) });
    expect(bad.code).toBe(1);
    const results = YAML.parse(bad.stdout).results;
    expect(results[0]).toMatchObject({ severity: 'error', resourceRef: { kind: 'Deployment', name: 'api' } });
    expect(results[0].message).toMatch(/already has a readinessProbe.*--on-conflict skip/);
  });

  it('bad input: not a ResourceList, unknown option key, unknown strategy: exit 2 with a message', () => {
    expect(run(['krm'], { input: 'kind: Deployment\n' }).stderr).toMatch(/not a ResourceList/);
    const cm = (data: Record<string, string>) => resourceList([], { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fn' }, data });
    const unknownKey = run(['krm'], { input: cm({ strategy: 'nmi-init', 'nmi-prot': '1' }) });
    expect(unknownKey.code).toBe(2);
    expect(unknownKey.stderr).toMatch(/unknown key\(s\) nmi-prot/);
    expect(run(['krm'], { input: cm({ strategy: 'nope' }) }).stderr).toMatch(/unknown strategy "nope"/);
    expect(run(['krm'], { input: cm({ strategy: 'nmi-init', 'nmi-port': '80; id' }) }).code).toBe(2);
  });

  it('what we write reads the same to a YAML 1.1 reader (kustomize, Kyverno): 2018-02-01 stays a string', () => {
    // kustomize v5.7.1 read an unquoted `value: 2018-02-01` (the IMDS api-version) as a timestamp: test/slow/pipelines.
    const same = (text: string) => {
      const as11 = YAML.parseAllDocuments(text, { version: '1.1' }).map((d) => d.toJS());
      expect(as11).toEqual(YAML.parseAllDocuments(text).map((d) => d.toJS()));
    };
    // microservices-demo's loadgenerator has no probes: it takes the app check.
    const input = fs.readFileSync(path.join(CORPUS, 'microservices-demo.yaml'), 'utf8');
    const applied = run(['apply', '-s', 'identity-app-check', '--port', '8080', '--on-conflict', 'skip', '-'], { input });
    expect(applied.stdout).toMatch(/value: "2018-02-01"/);
    same(applied.stdout);
    const krm = run(['krm'], { input: resourceList(docs(input).filter(Boolean), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fn' }, data: { strategy: 'identity-app-check', port: '8080', 'on-conflict': 'skip' } }) });
    expect(krm.code, krm.stderr).toBe(0);
    expect(krm.stdout).toMatch(/value: "2018-02-01"/);
    same(krm.stdout);
    same(run(['policy', '--engine', 'kyverno', '-s', 'identity-app-check', '--port', '8080']).stdout);
    same(run(['synth', '-s', 'identity-app-check', '--port', '8080']).stdout);
  });

  it("kubectl's built-in kustomize: exits 0 without running the exec function (the trap docs/pipelines.md warns of), or runs it where it has --enable-exec", () => {
    const help = spawnSync('kubectl', ['kustomize', '--help'], { encoding: 'utf8' });
    if (help.error) throw new Error(`kubectl not found (${help.error.message}): this test pins down what kubectl's kustomize does with an exec KRM function; install kubectl`);
    const dir = tempCorpus();
    fs.writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources:\n  - aks-store-all-in-one.yaml\ntransformers:\n  - identity-health.yaml\n');
    fs.writeFileSync(path.join(dir, 'identity-health.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: identity-health\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./identity-health-krm.sh\ndata:\n  strategy: nmi-init\n');
    fs.writeFileSync(path.join(dir, 'identity-health-krm.sh'), `#!/bin/sh\nexec node ${JSON.stringify(CLI)} krm\n`, { mode: 0o755 });
    const hasExec = /--enable-exec/.test(help.stdout);
    const r = spawnSync('kubectl', ['kustomize', '--enable-alpha-plugins', ...(hasExec ? ['--enable-exec'] : []), dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = docs(r.stdout).filter(isWorkload);
    expect(out.length).toBeGreaterThan(0);
    for (const d of out) expect(d.spec.template.metadata.annotations?.['identity-health.io/strategies']).toBe(hasExec ? 'nmi-init' : undefined);
  });

  it('through kpt: a selector annotates only the selected workloads\' ServiceAccounts; a relative exec path resolves from the current directory', () => {
    const dir = tempCorpus();
    const pkg = path.join(dir, 'pkg');
    fs.mkdirSync(pkg);
    fs.renameSync(path.join(dir, 'microservices-demo.yaml'), path.join(pkg, 'microservices-demo.yaml'));
    fs.rmSync(path.join(dir, 'aks-store-all-in-one.yaml'));
    fs.writeFileSync(path.join(dir, 'identity-health-krm.sh'), `#!/bin/sh\nexec node ${JSON.stringify(CLI)} krm\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'fn.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: identity-health\ndata:\n  strategy: workload-identity-init\n  client-id: 6e1e2d3c-0000-4000-8000-00000000abcd\n  selector: app=frontend\n`);
    const kpt = (cwd: string) => spawnSync('kpt', ['fn', 'eval', pkg, '--exec', './identity-health-krm.sh', '--fn-config', path.join(dir, 'fn.yaml')], { cwd, encoding: 'utf8' });
    // From another directory, ./identity-health-krm.sh is not found, whatever directory the package is in.
    const elsewhere = kpt(pkg);
    if (elsewhere.error) throw new Error(`kpt not found (${elsewhere.error.message}): install kpt`);
    expect(elsewhere.stdout + elsewhere.stderr).toMatch(/identity-health-krm\.sh: no such file or directory/);
    const r = kpt(dir);
    expect(r.status, r.stderr).toBe(0);
    const out = docs(fs.readFileSync(path.join(pkg, 'microservices-demo.yaml'), 'utf8')).filter(Boolean);
    const annotatedSa = out.filter((d) => d.kind === 'ServiceAccount' && d.metadata.annotations?.['azure.workload.identity/client-id']).map((d) => d.metadata.name);
    expect(out.filter((d) => d.kind === 'ServiceAccount')).toHaveLength(11);
    expect(annotatedSa).toEqual(['frontend']);
    expect(out.filter((d) => isWorkload(d) && d.spec.template.metadata.annotations?.['identity-health.io/strategies']).map((d) => d.metadata.name)).toEqual(['frontend']);
  });
});
