/** Apply then audit, on copies of the real manifests in ../shared/corpus, for every strategy. */
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { comments, contains, CORPUS_FILES, docs, isWorkload, run, tempCorpus, validateK8s } from './helpers';

const STRATEGIES: Array<[string, string[]]> = [
  ['nmi-init', []],
  ['identity-init', ['--client-id', '6e1e2d3c-0000-4000-8000-00000000abcd']],
  // The corpus containers already have probes: the check moves to a sidecar.
  ['nmi-probes', ['--on-conflict', 'sidecar']],
  ['identity-probes', ['--on-conflict', 'sidecar', '--resource', 'https://vault.azure.net']],
  // App checks cannot move to a sidecar: workloads with probes are skipped; --port covers those without ports.
  ['nmi-app-check', ['--on-conflict', 'skip', '--port', '8080']],
  ['identity-app-check', ['--on-conflict', 'skip', '--port', '8080']],
];

describe.each(CORPUS_FILES)('%s', (file) => {
  it.each(STRATEGIES)('apply %s keeps everything else, validates, is idempotent, and audit reports it', (strategy, flags) => {
    const dir = tempCorpus();
    const input = path.join(dir, file);
    const before = fs.readFileSync(input, 'utf8');
    const r = run(['apply', '--strategy', strategy, ...flags, input]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const out = r.stdout;

    const a = docs(before);
    const b = docs(out);
    expect(b.length).toBe(a.length);
    const changed: string[] = [];
    a.forEach((orig, i) => {
      if (!isWorkload(orig)) { expect(b[i]).toEqual(orig); return; }
      expect(contains(b[i], orig)).toBeUndefined();
      validateK8s(b[i]);
      if (JSON.stringify(b[i]) !== JSON.stringify(orig)) changed.push(orig.metadata.name);
    });
    for (const c of comments(before)) expect(out).toContain(c);

    // Skipped workloads are listed; every other one changed.
    const skipped = [...r.stderr.matchAll(/skipped \w+ (\S+):/g)].map((m) => m[1]);
    expect(changed.length + skipped.length).toBe(a.filter(isWorkload).length);
    if (!flags.includes('skip')) expect(skipped).toEqual([]);

    // Second run: byte-identical.
    fs.writeFileSync(input, out);
    const again = run(['apply', '--strategy', strategy, ...flags, input]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(out);

    // The audit reports the strategy on every changed workload, and --require agrees.
    const audit = run(['audit', input, '--format', 'json']);
    expect(audit.code).toBe(0);
    const report = JSON.parse(audit.stdout).workloads as any[];
    for (const w of report) {
      if (changed.includes(w.name)) {
        expect(w.strategies, w.workload).toEqual([strategy]);
        expect(w.annotated).toEqual([strategy]);
        expect(w.defects.filter((d: any) => d.severity === 'error')).toEqual([]);
      } else expect(w.strategies).toEqual([]);
    }
    const names = changed.map((n) => ['--name', n]).flat();
    if (changed.length) expect(run(['audit', input, '--require', strategy, ...names]).code).toBe(0);
    if (skipped.length) expect(run(['audit', input, '--require', strategy]).code).toBe(1);
  });
});

describe('conflicts with existing probes', () => {
  it('error names the workloads, containers and probes, exit 2, nothing on stdout', () => {
    const dir = tempCorpus();
    const r = run(['apply', '-s', 'nmi-probes', path.join(dir, 'aks-store-all-in-one.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Deployment order-service: container "order-service" already has a readinessProbe; container "order-service" already has a livenessProbe/);
    expect(r.stderr).toMatch(/--on-conflict skip/);
    expect(r.stderr).toMatch(/--on-conflict sidecar/);
    expect(r.stderr).toMatch(/aks-store-all-in-one\.yaml:164:/);
  });

  it('--on-conflict skip lists what was skipped and leaves the stream byte-identical', () => {
    const dir = tempCorpus();
    const file = path.join(dir, 'aks-store-all-in-one.yaml');
    const r = run(['apply', '-s', 'identity-probes', '--on-conflict', 'skip', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(fs.readFileSync(file, 'utf8'));
    expect(r.stderr).toMatch(/skipped StatefulSet documentdb: container "documentdb" already has a readinessProbe/);
    expect(r.stderr).toMatch(/0 workload\(s\) changed, 0 already had it, 9 skipped/);
  });
});

describe('--in-place', () => {
  it('rewrites only changed files, atomically, and a second run leaves them as they are', () => {
    const dir = tempCorpus();
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'svc.yml'), 'apiVersion: v1\nkind: Service # only a service\nmetadata: {name: s}\n');
    const r = run(['apply', '-s', 'nmi-init', '-i', dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/21 workload\(s\) changed.*2 file\(s\) rewritten/);
    expect(fs.readFileSync(path.join(dir, 'sub', 'svc.yml'), 'utf8')).toBe('apiVersion: v1\nkind: Service # only a service\nmetadata: {name: s}\n');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const snapshot = CORPUS_FILES.map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    const again = run(['apply', '-s', 'nmi-init', '-i', dir]);
    expect(again.stderr).toMatch(/0 workload\(s\) changed, 21 already had it/);
    expect(CORPUS_FILES.map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))).toEqual(snapshot);
  });

  it('--diff shows the change as a unified diff', () => {
    const dir = tempCorpus();
    const r = run(['apply', '-s', 'nmi-init', '--name', 'frontend', '--diff', path.join(dir, 'microservices-demo.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^--- a\/.*microservices-demo\.yaml\n\+\+\+ b\//);
    expect(r.stdout).toMatch(/\n\+ {8}identity-health\.io\/strategies: nmi-init\n/);
    expect(r.stdout).toMatch(/\n\+ {6}initContainers:\n/);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'))).toEqual([]);
  });
});
