/**
 * Go: apps/go (a module using the generated Go package with cdk8s-core-go and cdk8s-plus-27's Go
 * package, through replace directives to the generated modules) synthesizes the TypeScript app's
 * YAML and reports the same conflict message.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { APPS, ENV, manifest, Outputs, outputs, reference, run, sameAsTypeScript, satisfies, tmp } from './artifacts';

describe('Go module', () => {
  const m = manifest();
  let app: string;
  let ref: Outputs;
  let lang: Outputs;
  const env = { ...ENV, GOFLAGS: '-mod=mod' };

  beforeAll(() => {
    ref = reference();
    app = tmp('go-app');
    fs.cpSync(path.join(APPS, 'go'), app, { recursive: true });
    const replaces = [[m.go.module, m.go.dir], ...Object.values(m.go.cdk8s).map((b) => [b.module, b.dir])];
    // The versions of this build and of the TypeScript app's cdk8s (the project's node_modules).
    const requires = [[m.go.module, m.version], ...Object.values(m.go.cdk8s).map((b) => [b.module, b.version])];
    run('go', ['mod', 'edit', ...requires.map(([mod, v]) => `-require=${mod}@v${v}`), ...replaces.map(([mod, dir]) => `-replace=${mod}=${dir}`)], { cwd: app, env });
    run('go', ['mod', 'tidy'], { cwd: app, env });
    const bin = path.join(app, 'app');
    run('nice', ['-n', '10', 'go', 'build', '-o', bin, '.'], { cwd: app, env });
    lang = outputs('go', (out, mode) => run(bin, [out, ...(mode ? [mode] : [])], { env }));
  });

  it('requires the versions of cdk8s and constructs the assembly depends on, and the TypeScript app\'s cdk8s', () => {
    const mods: Array<{ Path: string; Version?: string; Replace?: { Path: string } }> = run('go', ['list', '-m', '-json', 'all'], { cwd: app, env })
      .split(/\n(?=\{)/).map((j) => JSON.parse(j));
    const version = (p: string) => mods.find((x) => x.Path === p)?.Version ?? '';
    expect(satisfies(version('github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2'), m.dependencies.cdk8s)).toBe(true);
    expect(satisfies(version('github.com/aws/constructs-go/constructs/v10'), m.dependencies.constructs)).toBe(true);
    expect(version('github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2')).toBe(`v${m.cdk8s.cdk8s}`);
    expect(version('github.com/cdk8s-team/cdk8s-plus-go/cdk8splus27/v2')).toBe(`v${m.cdk8s['cdk8s-plus-27']}`);
    // The replaced modules are the generated ones, and carry these versions' npm tarballs.
    expect(mods.find((x) => x.Path === m.go.module)?.Replace?.Path).toBe(m.go.dir);
    expect(fs.readdirSync(path.join(m.go.cdk8s.cdk8s.dir, 'jsii'))).toContain(`cdk8s-${m.cdk8s.cdk8s}.tgz`);
  });

  sameAsTypeScript(() => ({ lang, ref }));
});
