/**
 * Standalone kustomize (built by scripts/slow-setup.d/10-engines-pipelines.sh): `identity-health krm`
 * as an exec KRM function (`kustomize build --enable-alpha-plugins --enable-exec`, the setup
 * docs/pipelines.md documents) gives, on the corpus, what `identity-health apply` gives.
 */
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { STRATEGY_IDS, WORKLOAD_IDENTITY_STRATEGY_IDS } from '../../../strategies';
import { CLI, CORPUS, CORPUS_FILES, docs, isWorkload, run } from '../../cli/helpers';
import { engine } from '../engines';
import { byKey, runEngine, tempDir } from './helpers';

const kustomize = engine('kustomize');
const version = runEngine(kustomize, ['version']).stdout.trim();
console.log(`kustomize ${kustomize.version} (kustomize version: ${version})`);

const CLIENT_ID = '6e1e2d3c-0000-4000-8000-00000000abcd';
/** apply's flags per strategy, as ConfigMap data (the corpus's containers have probes: sidecar or skip). */
const OPTIONS: Record<string, Record<string, string>> = {
  'nmi-init': { deadline: '120' },
  'nmi-probes': { 'on-conflict': 'sidecar' },
  'nmi-app-check': { port: '8080', 'on-conflict': 'skip' },
  'identity-init': { 'client-id': CLIENT_ID, resource: 'https://vault.azure.net' },
  'identity-probes': { 'client-id': CLIENT_ID, 'on-conflict': 'sidecar' },
  'identity-app-check': { port: '8080', 'on-conflict': 'skip' },
  'workload-identity-init': { 'client-id': CLIENT_ID, exchange: 'true' },
  'workload-identity-probes': { 'on-conflict': 'sidecar' },
  'workload-identity-app-check': { port: '8080', 'on-conflict': 'skip' },
};

/** A kustomization over the corpus with our function as an exec transformer, as docs/pipelines.md shows it. */
function kustomization(functionConfig: Record<string, unknown>): string {
  const dir = tempDir('kustomize');
  for (const f of CORPUS_FILES) fs.copyFileSync(path.join(CORPUS, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'kustomization.yaml'), YAML.stringify({ resources: CORPUS_FILES, transformers: ['identity-health.yaml'] }));
  const annotations = { 'config.kubernetes.io/function': 'exec:\n  path: ./identity-health-krm.sh\n' };
  fs.writeFileSync(path.join(dir, 'identity-health.yaml'), YAML.stringify({ ...functionConfig, metadata: { name: 'identity-health', annotations } }));
  // The documented wrapper, with the built CLI in place of `npx --no-install identity-health`.
  fs.writeFileSync(path.join(dir, 'identity-health-krm.sh'), `#!/bin/sh\nexec node ${JSON.stringify(CLI)} krm\n`, { mode: 0o755 });
  return dir;
}

const corpusStream = () => CORPUS_FILES.map((f) => fs.readFileSync(path.join(CORPUS, f), 'utf8')).join('\n---\n');

describe(`kustomize ${kustomize.version}: krm as an exec function`, () => {
  it.each([...STRATEGY_IDS, ...WORKLOAD_IDENTITY_STRATEGY_IDS])('%s: kustomize build equals apply on the corpus', (id) => {
    const data = { strategy: id, ...OPTIONS[id] };
    const dir = kustomization({ apiVersion: 'v1', kind: 'ConfigMap', data });
    const built = runEngine(kustomize, ['build', '--enable-alpha-plugins', '--enable-exec', dir]);
    expect(built.code, built.stderr).toBe(0);
    const flags = Object.entries(OPTIONS[id]).map(([k, v]) => `--${k}=${v}`);
    const applied = run(['apply', '-q', '-s', id, ...flags, '-'], { input: corpusStream() });
    expect(applied.code, applied.stderr).toBe(0);
    const want = byKey(docs(applied.stdout));
    const got = byKey(docs(built.stdout));
    // Every resource, workloads or not, as apply gives it (kustomize only reorders documents).
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, d] of got) expect(d, k).toEqual(want.get(k));
    const changed = [...got.values()].filter((d) => isWorkload(d) && d.spec.template.metadata.annotations?.['identity-health.io/strategies'] === id);
    expect(changed.length).toBeGreaterThan(0);
  });

  it('typed functionConfig (IdentityHealthStrategy) with a selector: only the selected workloads change, as apply --selector', () => {
    const dir = kustomization({ apiVersion: 'identity-health.io/v1alpha1', kind: 'IdentityHealthStrategy',
      spec: { strategy: 'identity-init', options: { clientId: CLIENT_ID, deadline: 60 }, selector: 'app=cartservice' } });
    const built = runEngine(kustomize, ['build', '--enable-alpha-plugins', '--enable-exec', dir]);
    expect(built.code, built.stderr).toBe(0);
    const applied = run(['apply', '-q', '-s', 'identity-init', '--client-id', CLIENT_ID, '--deadline', '60', '--selector', 'app=cartservice', '-'], { input: corpusStream() });
    expect(applied.code, applied.stderr).toBe(0);
    const want = byKey(docs(applied.stdout));
    const out = docs(built.stdout);
    for (const [k, d] of byKey(out)) expect(d, k).toEqual(want.get(k));
    expect(out.filter((d) => d.spec?.template?.metadata?.annotations?.['identity-health.io/strategies']).map((d) => d.metadata.name)).toEqual(['cartservice']);
  });

  it('a conflict stops kustomize: our message on stderr, kustomize\'s error after it, nothing on stdout', () => {
    const dir = kustomization({ apiVersion: 'v1', kind: 'ConfigMap', data: { strategy: 'nmi-probes' } });
    const built = runEngine(kustomize, ['build', '--enable-alpha-plugins', '--enable-exec', dir]);
    expect(built.code).not.toBe(0);
    expect(built.stdout).toBe('');
    expect(built.stderr).toMatch(/^identity-health krm: StatefulSet documentdb: container "documentdb" already has a readinessProbe/m);
    expect(built.stderr).toMatch(/--on-conflict skip/);
    expect(built.stderr).toMatch(/Error: couldn't execute function: exit status 1/);
    // Without exec enabled kustomize refuses the function (what a user sees who forgets the flags).
    const noExec = runEngine(kustomize, ['build', dir]);
    expect(noExec.code).not.toBe(0);
    console.log(`kustomize ${kustomize.version} without --enable-alpha-plugins --enable-exec: ${noExec.stderr.trim()}`);
  });
});
