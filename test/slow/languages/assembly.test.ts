/**
 * The jsii assembly the language packages are generated from: documented (every option with a
 * description and @default), complete (every strategy, every option key), depending on the
 * library's cdk8s and constructs ranges, without the CLI and the runtime module, and docs/api/
 * generated from it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as lib from '../../../src';
import { optionKeys } from '../../../strategies/options';
import { manifest, REPO, run } from './artifacts';

describe('jsii assembly', () => {
  const m = manifest();
  const asm = JSON.parse(fs.readFileSync(m.assembly, 'utf8'));
  const types: any[] = Object.values(asm.types);
  const byName = (n: string) => types.find((t) => t.name === n);

  it('documents every type, member and option; every option has a @default', () => {
    const missing: string[] = [];
    for (const t of types) {
      if (!t.docs?.summary) missing.push(`${t.name}: no description`);
      for (const p of t.properties ?? []) {
        if (!p.docs?.summary) missing.push(`${t.name}.${p.name}: no description`);
        if (t.datatype && p.optional && p.docs?.default === undefined) missing.push(`${t.name}.${p.name}: no @default`);
      }
      for (const x of [...(t.methods ?? []), ...(t.members ?? [])]) if (!x.docs?.summary) missing.push(`${t.name}.${x.name}: no description`);
    }
    expect(missing).toEqual([]);
  });

  it('has a mixin class, an options struct and a Strategies.withX method for every strategy, with every option key', () => {
    const statics: string[] = byName('Strategies').methods.map((x: any) => x.name);
    expect(statics).toHaveLength(Object.keys(lib.STRATEGIES).length + Object.keys(lib.WORKLOAD_IDENTITY_STRATEGIES).length);
    const ids = new Set<string>();
    for (const name of statics) {
      expect(typeof (lib as any)[name], name).toBe('function');
      const cls = byName(name.replace(/^with/, ''));
      expect(cls.base).toBe(`${asm.name}.StrategyMixin`);
      // The TypeScript mixin of the same name says which strategy and option keys it has.
      const strategy: lib.Strategy = new (lib as any)[cls.name]().strategy;
      ids.add(strategy.id);
      expect(byName(`${cls.name}Options`).properties.map((p: any) => p.name).sort()).toEqual(optionKeys(strategy.optionGroups));
    }
    expect(ids.size).toBe(statics.length);
    expect(byName('StrategyMixin').interfaces).toEqual(['constructs.IMixin']);
  });

  it('depends on the cdk8s and constructs ranges of the npm package', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    expect(asm.dependencies).toEqual({ cdk8s: pkg.peerDependencies.cdk8s, constructs: pkg.peerDependencies.constructs });
    expect(m.dependencies).toEqual(asm.dependencies);
  });

  it('bundles neither the CLI nor the runtime module (Node programs)', () => {
    const files = run('tar', ['tzf', m.tarball]).trim().split('\n');
    expect(files).toContain('package/lib/src/languages.js');
    expect(files).toContain('package/lib/src/pod-template/apply.js');
    expect(files.filter((f) => /\/cli\/|\/runtime\/(?!env\.)|yargs/.test(f))).toEqual([]);
  });

  it('is what docs/api/ documents (regenerate with `npm run languages -- --docs`)', () => {
    for (const l of ['typescript', 'python', 'go', 'java']) {
      const built = fs.readFileSync(path.join(m.project, 'docs', `${l}.md`), 'utf8');
      expect(built).toContain('IdentityProbesOptions');
      expect(fs.readFileSync(path.join(REPO, 'docs/api', `${l}.md`), 'utf8'), `docs/api/${l}.md is stale`).toBe(built);
    }
  });
});
