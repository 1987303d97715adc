/**
 * What a new user hits first (issue 10): selection shared by apply and krm, the pod identity
 * binding warning, Helm hooks in the audit gate, recommend's questions, explain's bounds, and the
 * CLI's manners (did-you-mean, no command, -h, --color, 80 columns, errors worded with flags).
 */
import { Chart, Testing, ApiObject } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { planFor } from '../../src/transform';
import { NmiProbes, withNmiProbes } from '../../src';
import { docs, run } from './helpers';

const GUID = '6e1e2d3c-0000-4000-8000-00000000abcd';
const sa = (name: string) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
const deployment = (name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name, ...extra } }, spec: { serviceAccountName: name, containers: [{ name, image: 'example.azurecr.io/x:1' }] } },
  },
});
const ITEMS = [sa('api'), sa('web'), sa('batch'), deployment('api', { team: 'a' }), deployment('web', { team: 'b' }), deployment('batch', { team: 'c' })];
const STREAM = ITEMS.map((d) => YAML.stringify(d)).join('---\n');
const annotated = (ds: any[]) => ds.filter((d) => d.kind === 'ServiceAccount' && d.metadata.annotations?.['azure.workload.identity/client-id']).map((d) => d.metadata.name).sort();
const changed = (ds: any[]) => ds.filter((d) => d.kind === 'Deployment' && d.spec.template.metadata.annotations?.['identity-health.io/strategies']).map((d) => d.metadata.name).sort();

describe('one selection for apply and krm', () => {
  it.each([
    ['team=a', ['api']],
    ['team in (a,b)', ['api', 'web']],
    ['team notin (a,b)', ['batch']],
    ['team!=a,team!=c', ['web']],
  ])('selector %s: the same workloads and only their ServiceAccounts, in apply -l and krm', (selector, want) => {
    const applied = run(['apply', '-s', 'workload-identity-init', '--client-id', GUID, '-l', selector, '-'], { input: STREAM });
    expect(applied.code, applied.stderr).toBe(0);
    expect(changed(docs(applied.stdout))).toEqual(want);
    expect(annotated(docs(applied.stdout))).toEqual(want);
    for (const fc of [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fn' }, data: { strategy: 'workload-identity-init', 'client-id': GUID, selector } },
      { apiVersion: 'identity-health.io/v1alpha1', kind: 'IdentityHealthStrategy', metadata: { name: 'fn' }, spec: { strategy: 'workload-identity-init', options: { clientId: GUID }, selector } },
    ]) {
      const r = run(['krm', '--output', 'json'], { input: JSON.stringify({ apiVersion: 'config.kubernetes.io/v1', kind: 'ResourceList', items: ITEMS, functionConfig: fc }) });
      expect(r.code, r.stderr).toBe(0);
      const items = JSON.parse(r.stdout).items;
      expect(changed(items), fc.kind).toEqual(want);
      expect(annotated(items), fc.kind).toEqual(want);
    }
  });

  it('without a selector every ServiceAccount is annotated (as the mixin on a chart); a bad selector is a usage error', () => {
    expect(annotated(docs(run(['apply', '-s', 'workload-identity-init', '--client-id', GUID, '-'], { input: STREAM }).stdout))).toEqual(['api', 'batch', 'web']);
    const bad = run(['apply', '-s', 'nmi-init', '-l', 'team in (a', '-'], { input: STREAM });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid --selector "team in \(a"/);
  });
});

describe('pod identity token checks without the aadpodidbinding label', () => {
  const plain = YAML.stringify(deployment('api', {}));
  const bound = YAML.stringify(deployment('api', {}, { aadpodidbinding: 'api-identity' }));

  it.each(['identity-init', 'identity-probes', 'identity-app-check'])('%s: apply warns, audit reports a defect; the label (or --pod-identity-binding) silences both', (id) => {
    const port = id === 'identity-app-check' ? ['--port', '8080'] : [];
    const r = run(['apply', '-s', id, ...port, '-'], { input: plain });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Deployment api: warning: token checks need the pod label aadpodidbinding/);
    const defects = JSON.parse(run(['audit', '-', '--format', 'json'], { input: r.stdout }).stdout).workloads[0].defects;
    expect(defects).toContainEqual(expect.objectContaining({ code: 'pod-identity-binding-missing', severity: 'warning' }));
    for (const ok of [run(['apply', '-s', id, ...port, '-'], { input: bound }), run(['apply', '-s', id, ...port, '--pod-identity-binding', 'api-identity', '-'], { input: plain })]) {
      expect(ok.stderr).not.toMatch(/aadpodidbinding/);
      expect(JSON.parse(run(['audit', '-', '--format', 'json'], { input: ok.stdout }).stdout).workloads[0].defects.map((d: any) => d.code)).not.toContain('pod-identity-binding-missing');
    }
  });

  it('krm reports it as a warning result, as apply warns', () => {
    const list = (d: object) => JSON.stringify({ apiVersion: 'config.kubernetes.io/v1', kind: 'ResourceList', items: [d], functionConfig: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fn' }, data: { strategy: 'identity-probes' } } });
    const r = run(['krm', '--output', 'json'], { input: list(deployment('api', {})) });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results).toContainEqual(expect.objectContaining({ severity: 'warning', message: expect.stringMatching(/aadpodidbinding/) }));
    const bound = JSON.parse(run(['krm', '--output', 'json'], { input: list(deployment('api', {}, { aadpodidbinding: 'api' })) }).stdout);
    expect(bound.results.filter((x: any) => x.severity === 'warning')).toEqual([]);
  });

  it('NMI-only strategies need no binding: no warning', () => {
    const r = run(['apply', '-s', 'nmi-probes', '-'], { input: plain });
    expect(r.stderr).not.toMatch(/aadpodidbinding/);
  });
});

describe('audit --skip-helm-hooks', () => {
  // The stock `helm create` chart's test hook, as `helm template` prints it after the post-rendered manifests.
  const hook = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-test-connection\n  annotations:\n    "helm.sh/hook": test\nspec:\n  containers:\n    - name: wget\n      image: busybox\n      command: ['wget']\n      args: ['web:80']\n  restartPolicy: Never\n`;
  const preInstall = hook.replace('web-test-connection', 'web-migrate').replace('"helm.sh/hook": test', '"helm.sh/hook": pre-install,pre-upgrade');
  const rendered = () => run(['apply', '-q', '-s', 'nmi-probes', '-'], { input: YAML.stringify(deployment('web', {})) }).stdout + '---\n' + hook + '---\n' + preInstall;

  it('leaves the given hook types out of the report and the gate, and says so', () => {
    const all = run(['audit', '-', '--require', 'nmi-probes'], { input: rendered() });
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(/Pod web-test-connection/);
    const tests = run(['audit', '-', '--require', 'nmi-probes', '--skip-helm-hooks', 'test', '--format', 'json'], { input: rendered() });
    expect(tests.code).toBe(1);
    const j = JSON.parse(tests.stdout);
    expect(j.workloads.map((w: any) => w.workload)).toEqual(['Deployment web', 'Pod web-migrate']);
    expect(j.skippedHelmHooks).toEqual(['Pod web-test-connection (test)']);
    expect(tests.stderr).toMatch(/left out 1 Helm hook\(s\)/);
    const every = run(['audit', '-', '--require', 'nmi-probes', '--skip-helm-hooks'], { input: rendered() });
    expect(every.code, every.stdout + every.stderr).toBe(0);
    expect(every.stdout).toMatch(/OK: all 1 workload\(s\) meet --require nmi-probes/);
  });
});

describe('recommend', () => {
  it('asks pod or workload identity first, then only what matters for it', () => {
    const wi = run(['recommend', '--interactive'], { input: 'workload\ny\ny\nn\ny\ny\n' });
    expect(wi.code, wi.stderr).toBe(0);
    expect(wi.stderr.indexOf('Which identity')).toBe(0);
    expect(wi.stderr.slice(wi.stderr.indexOf('[pod/workload]'))).not.toMatch(/NMI/);
    expect(wi.stdout).toMatch(/^Recommended: workload-identity-probes$/m);
    const pod = run(['recommend', '--interactive'], { input: 'pod\nn\ny\ny\n' });
    expect(pod.code, pod.stderr).toBe(0);
    // No runtime detection: the endpoint and image questions are not asked.
    expect(pod.stderr).not.toMatch(/health endpoint|shell/);
    expect(pod.stdout).toMatch(/^Recommended: identity-init$/m);
    expect(run(['recommend', '--interactive', '--identity', 'workload'], { input: 'n\n' }).stderr).not.toMatch(/Which identity/);
  });

  it('end of input (Ctrl-D) before the last answer aborts with exit 2 and recommends nothing', () => {
    const r = run(['recommend', '--interactive'], { input: 'pod\ny\n' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/aborted/);
    expect(run(['recommend', '--interactive'], { input: '' }).code).toBe(2);
  });

  it('rejects a non-boolean value of a yes/no flag; true/false are fine', () => {
    const r = run(['recommend', '--image-has-shell=maybe']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--image-has-shell is a yes\/no flag.*"maybe"/);
    expect(run(['apply', '-s', 'identity-probes', '--verify-identity=nope', '-'], { input: '' }).code).toBe(2);
    expect(JSON.parse(run(['recommend', '--image-has-shell=false', '--output', 'json']).stdout).answers.imageHasShell).toBe(false);
  });
});

describe('explain: NMI loss bound from the part of the check that fails', () => {
  const worst = (args: string[]) => {
    const out = run(['explain', ...args]).stdout;
    const m = /NMI lost -> NotReady: +(\d+) s \((\d+) s if refused\)/.exec(out);
    return m && { bound: Number(m[1]), refused: Number(m[2]) };
  };
  it('identity-probes: 2 x 4 s + the 2 s NMI request bound, not the whole probe timeout; at or above the measured 7.0-7.4 s', () => {
    expect(worst(['identity-probes'])).toEqual({ bound: 10, refused: 8 });
    expect(worst(['identity-probes', '--nmi-timeout', '3', '--readiness-period', '5'])).toEqual({ bound: 13, refused: 10 });
    expect(worst(['nmi-probes'])).toEqual({ bound: 10, refused: 8 });
    // The app checks' NMI request is bounded at 1 s by the runtime module.
    expect(worst(['identity-app-check'])).toEqual({ bound: 9, refused: 8 });
  });
});

describe('CLI manners', () => {
  it('no command prints the command list (exit 2); -h is --help', () => {
    const r = run([]);
    expect(r.code).toBe(2);
    for (const c of ['list', 'explain', 'recommend', 'synth', 'apply', 'audit', 'policy', 'krm']) expect(r.stderr).toMatch(new RegExp(`identity-health ${c}\\b`));
    expect(r.stderr).not.toMatch(/see the list above/);
    const h = run(['-h']);
    expect(h.code).toBe(0);
    expect(h.stdout).toBe(run(['--help']).stdout);
    expect(run(['apply', '-h']).stdout).toMatch(/--on-conflict/);
  });

  it('did you mean: commands, flags (listed once), strategies, library option keys', () => {
    expect(run(['lsit']).stderr).toMatch(/unknown command "lsit" \(did you mean list\?\)/);
    const flag = run(['apply', '-s', 'nmi-probes', '--nmi-prot', '1', '-'], { input: '' });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown argument: --nmi-prot \(did you mean --nmi-port\?\)/);
    expect(flag.stderr).not.toMatch(/nmiProt/);
    expect(run(['list', '--bogus', '--bogus']).stderr).toMatch(/unknown argument: --bogus\n/);
    expect(run(['explain', 'nmi-probs']).stderr).toMatch(/unknown strategy "nmi-probs" \(did you mean nmi-probes\?\)/);
    expect(run(['audit', '-', '--require', 'identity-probe'], { input: '' }).stderr).toMatch(/did you mean identity-probes\?/);
    expect(() => planFor('nmi-probes', { nmiPrt: 8086 } as any)).toThrow(/did you mean nmiPort\?/);
    expect(() => planFor('identity-probes', { readiness: { periodSecond: 5 } } as any)).toThrow(/did you mean periodSeconds\?/);
  });

  it('errors name the flag, not the option key, and carry one prefix', () => {
    const r = run(['explain', 'identity-probes', '--readiness-period', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('identity-health: invalid --readiness-period 0: expected whole seconds from 1 to 3600\n');
    expect(run(['explain', 'nmi-probes', '--nmi-port', 'x']).stderr).toBe('identity-health: invalid --nmi-port "x": expected an integer port from 1 to 65535\n');
    expect(run(['explain', 'identity-probes']).stdout).toMatch(/per --token-cache-ttl/);
    // synth: the mixin's error, with one prefix and the flag.
    const noPort = run(['synth', '-s', 'nmi-app-check', '--name', 'api', '--image', 'x:1']);
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toBe('identity-health: Deployment api: container "api" declares no port: set --port to the port of its health endpoint\n');
    // synth: --image is the app's image, --check-image the init check's.
    expect(run(['synth', '-s', 'nmi-init', '--name', 'a', '--image', 'x:1', '--check-image', 'bad;image']).stderr).toMatch(/^identity-health: invalid --check-image "bad;image"/);
    expect(run(['synth', '-s', 'nmi-init', '--name', 'a', '--image', 'bad;image']).stderr).toMatch(/^identity-health: invalid --image "bad;image"/);
  });

  it('--color forces colour into a pipe; NO_COLOR and --no-color turn it off', () => {
    expect(run(['list', '--color']).stdout).toMatch(/\x1b\[1m/);
    expect(run(['audit', '-', '--color'], { input: YAML.stringify(deployment('api', {})) }).stdout).toMatch(/\x1b\[/);
    expect(run(['list']).stdout).not.toMatch(/\x1b\[/);
    expect(run(['list', '--no-color'], { env: { NO_COLOR: '' } }).stdout).not.toMatch(/\x1b\[/);
  });

  it('help and list fit 80 columns, wrapped at word boundaries; nine strategies, never "six"', () => {
    for (const args of [['--help'], ...['list', 'explain', 'recommend', 'synth', 'apply', 'audit', 'policy', 'krm'].map((c) => [c, '--help']), ['list']]) {
      const out = run(args).stdout;
      const long = out.split('\n').filter((l) => l.length > 80 && !/\/docs\//.test(l));
      expect(long, args.join(' ')).toEqual([]);
      expect(out, args.join(' ')).not.toMatch(/\bsix\b/i);
    }
    // Every word of a long help paragraph is whole in the wrapped output.
    const words = (s: string) => s.split(/\s+/).filter(Boolean);
    const epilogue = 'Conflicts: a container that already has a readiness or liveness probe is an error (exit 2) naming the workload, container and probe; --on-conflict skip leaves such workloads unchanged and lists them on stderr. Re-running apply changes nothing.';
    const out = words(run(['apply', '--help']).stdout);
    for (const w of words(epilogue)) expect(out, w).toContain(w);
    // Examples too: long tokens stay whole.
    expect(out).toContain('./identity-health-post-render.sh');
    expect(words(run(['krm', '--help']).stdout)).toContain('--enable-alpha-plugins');
    expect(run(['list']).stdout).toMatch(/^9  workload-identity-app-check/m);
  });
});

describe('synth and the library', () => {
  it('synth with a workload identity strategy also writes the ServiceAccount it annotates', () => {
    const r = run(['synth', '-s', 'workload-identity-init', '--name', 'api', '--image', 'example.azurecr.io/api:1', '--client-id', GUID]);
    expect(r.code, r.stderr).toBe(0);
    const [account, dep] = docs(r.stdout);
    expect(account).toMatchObject({ kind: 'ServiceAccount', metadata: { name: 'api', annotations: { 'azure.workload.identity/client-id': GUID } } });
    expect(dep.kind).toBe('Deployment');
    expect(dep.spec.template.spec.serviceAccountName).toBe('api');
    expect(docs(run(['synth', '-s', 'nmi-init', '--name', 'api', '--image', 'example.azurecr.io/api:1']).stdout).map((d) => d.kind)).toEqual(['Deployment']);
  });

  it('chart.with(mixin) on a construct with no workload says so, as withX does', () => {
    const chart = new Chart(Testing.app(), 'empty');
    new ApiObject(chart, 'cm', { apiVersion: 'v1', kind: 'ConfigMap' });
    expect(() => withNmiProbes(chart)).toThrow(/empty holds no workload/);
    expect(() => chart.with(new NmiProbes())).toThrow(/empty holds no workload/);
    const ok = new Chart(Testing.app(), 'ok');
    new ApiObject(ok, 'd', { apiVersion: 'apps/v1', kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'a', image: 'x' }] } } } });
    const m = new NmiProbes();
    expect(() => { ok.with(m); ok.with(m); }).not.toThrow();
    expect(Testing.synth(ok)[0].spec.template.spec.containers[0].readinessProbe.exec).toBeDefined();
  });
});
