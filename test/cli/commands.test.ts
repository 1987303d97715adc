/** list, explain, recommend, synth, help, global flags and exit codes. */
import { spawnSync } from 'child_process';
import { describe, expect, it } from 'vitest';
import { CLI, docs, ROOT, run, validateK8s } from './helpers';

describe('list', () => {
  it('prints the nine strategies (pod and workload identity) with the three claims', () => {
    const r = run(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^#\s+STRATEGY\s+IDENTITY\s+START GATED\s+RUNTIME\s+OTHER FAULTS$/m);
    expect(r.stdout).toMatch(/^4\s+identity-init\s+pod\s+yes\s+no\s+at start only\n   init container waits/m);
    expect(r.stdout).toMatch(/^8\s+workload-identity-probes\s+workload\s+yes\s+yes\s+with exchange$/m);
    const json = JSON.parse(run(['list', '--output', 'json']).stdout);
    // Workload identity first; pod identity with its upstream status and the migration guide.
    expect(json.map((s: any) => s.id)).toEqual(['workload-identity-init', 'workload-identity-probes', 'workload-identity-app-check',
      'nmi-init', 'nmi-probes', 'nmi-app-check', 'identity-init', 'identity-probes', 'identity-app-check']);
    expect(json.map((s: any) => s.identity)).toEqual([...Array(3).fill('workload'), ...Array(6).fill('pod')]);
    expect(r.stdout.indexOf('workload-identity-init')).toBeLessThan(r.stdout.indexOf('nmi-init'));
    expect(r.stdout).toMatch(/archived 2023-10-02/);
    expect(r.stdout).toContain('learn.microsoft.com/azure/aks/workload-identity-migrate-from-pod-identity');
  });
});

describe('explain', () => {
  it('computes worst-case detection and load from the timing flags', () => {
    const r = run(['explain', 'nmi-probes', '--readiness-period', '5', '--readiness-failure-threshold', '3', '--output', 'json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    // 3 failures 5 s apart, the last one lasting as long as the NMI request may (2 s; the probe timeout is 3 s).
    expect(j.analysis.notReady.nmiFault).toBe(3 * 5 + 2);
    expect(j.analysis.notReady.nmiRefused).toBe(3 * 5);
    expect(j.analysis.restart.nmiFault).toBe(3 * 10 + 2);
    expect(j.analysis.load.nmiPerPod).toBeCloseTo(1 / 5 + 1 / 10, 3);
    expect(j.analysis.load.nmiPerNode).toBeCloseTo(30 * (1 / 5 + 1 / 10), 3);
    expect(j.template.spec.containers[0].readinessProbe.periodSeconds).toBe(5);
  });

  it('warns when the token load per node passes the IMDS limit', () => {
    const r = run(['explain', 'identity-probes', '--token-cache-ttl', '0', '--readiness-period', '1', '--readiness-timeout', '7', '--pods-per-node', '30']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/warning: 33 token requests\/s per node is above the documented IMDS managed-identity limit of 20\/s per VM/);
    expect(run(['explain', 'identity-probes']).stdout).not.toMatch(/warning/);
  });

  it('init strategies: no runtime detection, start window from the flags', () => {
    const r = run(['explain', 'identity-init', '--deadline', '120', '--interval', '5']);
    expect(r.stdout).toMatch(/NMI lost -> NotReady: +never \(no runtime check\)/);
    expect(r.stdout).toMatch(/tries every 5s and fails loudly after 120s/);
    expect(r.stdout).toMatch(/identity-health-identity-init/);
  });

  it('rejects an unknown strategy and foreign flags (exit 2)', () => {
    expect(run(['explain', 'nope']).code).toBe(2);
    const r = run(['explain', 'nmi-init', '--token-cache-ttl', '5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--token-cache-ttl does not apply to strategy nmi-init/);
  });
});

describe('recommend', () => {
  const rec = (...flags: string[]) => JSON.parse(run(['recommend', '--output', 'json', ...flags]).stdout).strategies;
  it('picks from the flags', () => {
    expect(rec()).toEqual(['identity-probes']);
    expect(rec('--no-need-identity-check')).toEqual(['nmi-probes']);
    expect(rec('--app-has-health-endpoint')).toEqual(['identity-app-check']);
    expect(rec('--no-image-has-shell')).toEqual(['identity-init']);
    expect(rec('--no-need-runtime-detection')).toEqual(['identity-init']);
    expect(rec('--no-need-runtime-detection', '--no-nmi-v15')).toEqual(['nmi-init']);
    expect(rec('--pods-per-node', '500')).toEqual(['identity-init', 'nmi-probes']);
  });

  it('asks on --interactive (answers from stdin) and says why', () => {
    const r = run(['recommend', '--interactive'], { input: 'pod\ny\nn\nn\ny\ny\ny\n' });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Must a fault at runtime/);
    expect(r.stdout).toMatch(/^Recommended: nmi-probes$/m);
    expect(r.stdout).toMatch(/nmi-probes: reacts at runtime/);
    expect(r.stdout).toMatch(/identity-health apply --strategy nmi-probes/);
  });
});

describe('synth', () => {
  it('writes a cdk8s-plus Deployment with the strategy; it validates and audit reports it', () => {
    const r = run(['synth', '-s', 'identity-probes', '--name', 'api', '--image', 'myacr.azurecr.io/api:1.4', '--port', '8080', '--client-id', '6e1e2d3c-0000-4000-8000-00000000abcd']);
    expect(r.code).toBe(0);
    const [d] = docs(r.stdout);
    validateK8s(d);
    expect(d.metadata.name).toBe('api');
    const a = JSON.parse(run(['audit', '-', '--format', 'json'], { input: r.stdout }).stdout).workloads[0];
    expect(a.strategies).toEqual(['identity-probes']);
  });

  it('validates its own flags (exit 2)', () => {
    expect(run(['synth', '-s', 'nmi-init', '--name', 'Bad_Name', '--image', 'x:1']).stderr).toMatch(/invalid --name "Bad_Name"/);
    expect(run(['synth', '-s', 'nmi-init', '--name', 'a']).code).toBe(2);
  });
});

describe('help and globals', () => {
  it('--help and every command except synth load neither cdk8s nor cdk8s-plus', () => {
    const probe = (args: string[]) => spawnSync(process.execPath, ['-e', `
      const m = require(${JSON.stringify(CLI)});
      m.main(${JSON.stringify(args)}).then(() => {
        const loaded = Object.keys(require.cache).filter((f) => /node_modules\\/(cdk8s|cdk8s-plus-27|cdk8s-plus-33|constructs)\\//.test(f));
        process.stderr.write('LOADED=' + loaded.length + '\\n');
      });`], { cwd: ROOT, encoding: 'utf8', input: '' }).stderr;
    expect(probe(['--help'])).toMatch(/LOADED=0/);
    expect(probe(['list'])).toMatch(/LOADED=0/);
    expect(probe(['explain', 'nmi-probes'])).toMatch(/LOADED=0/);
    expect(probe(['audit', '-'])).toMatch(/LOADED=0/);
    expect(probe(['synth', '-s', 'nmi-init', '--name', 'a', '--image', 'x:1'])).not.toMatch(/LOADED=0/);
  });

  it('--help shows examples; unknown commands and flags exit 2', () => {
    const h = run(['apply', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/Examples:/);
    expect(h.stdout).toMatch(/--on-conflict/);
    expect(run(['frobnicate']).code).toBe(2);
    expect(run([]).code).toBe(2);
  });

  it('colour only on request: NO_COLOR and --no-color win', () => {
    expect(run(['list']).stdout).not.toMatch(/\x1b\[/);
    expect(run(['list', '--no-color'], { env: { NO_COLOR: '' } }).stdout).not.toMatch(/\x1b\[/);
  });
});
