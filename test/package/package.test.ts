/**
 * The published shape, for the three audiences: `npm run package` makes both tarballs (from the
 * lib/ that `npm test` built), and each is installed into a scratch project as its user would:
 * cdk8s users (library from plain Node and from TypeScript, including the stock cdk8s
 * TypeScript template's tsconfig), CLI users (global install: every command, synth included),
 * app runtime users (the runtime package alone: measured, and the figures are the README's).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
let dir: string;
let tarballs: { main: string; runtime: string };

/** Installed packages and their size (file bytes) under `project`/node_modules. */
export function footprint(project: string): { packages: number; mb: number } {
  const lock = JSON.parse(fs.readFileSync(path.join(project, 'package-lock.json'), 'utf8'));
  // Installed ones: the lockfile also lists optional packages left out (--omit=optional).
  const packages = Object.keys(lock.packages).filter((k) => k.includes('node_modules/') && fs.existsSync(path.join(project, k))).length;
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else if (e.isFile()) bytes += fs.statSync(p).size;
    }
  };
  walk(path.join(project, 'node_modules'));
  return { packages, mb: Math.round(bytes / 1e5) / 10 };
}

function scratch(name: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `ih-${name}-`));
  fs.writeFileSync(path.join(d, 'package.json'), JSON.stringify({ name: `scratch-${name}`, version: '1.0.0', private: true }));
  return d;
}

const INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund'];

let tgzDir: string;
beforeAll(() => {
  tgzDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-tgz-'));
  // lib/ is already built (npm test builds first); rebuilding here would race the other test files.
  const [main, runtime] = run('node', ['scripts/package.mjs', '--no-build', '--out', tgzDir], ROOT).trim().split('\n');
  tarballs = { main, runtime };
}, 120_000);
afterAll(() => { if (tgzDir) fs.rmSync(tgzDir, { recursive: true, force: true }); });

function run(cmd: string, args: string[], cwd = dir): string {
  try {
    return execFileSync(cmd, args, { cwd, stdio: 'pipe', env: { ...process.env, npm_config_update_notifier: 'false' } }).toString();
  } catch (e: any) {
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stdout}${e.stderr}`);
  }
}

describe('npm pack tarball', () => {
  beforeAll(() => {
    dir = scratch('lib');
    // Peers as a user has them; the npm cache already holds nearly every package (npm ci ran before).
    run('npm', [...INSTALL, tarballs.main, 'cdk8s@^2', 'constructs@^10.5', 'cdk8s-plus-27@^2', 'typescript@5.9.3', '@types/node@^14']);
  }, 240_000);
  afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  it('ships the compiled library with types and without tests or sources', () => {
    const pkg = path.join(dir, 'node_modules/cdk8s-identity-health');
    expect(fs.existsSync(path.join(pkg, 'lib/src/index.js'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'lib/src/index.d.ts'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'test'))).toBe(false);
    expect(fs.existsSync(path.join(pkg, 'lib/main.js'))).toBe(false);
    // The full Apache-2.0 text, and the docs that --help names.
    expect(fs.readFileSync(path.join(pkg, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/);
    for (const doc of ['cli.md', 'pipelines.md', 'runtime.md', 'design.md']) expect(fs.existsSync(path.join(pkg, 'docs', doc)), doc).toBe(true);
  });

  it('works from plain Node', () => {
    fs.writeFileSync(path.join(dir, 'plain.js'), `
      const { Chart, Testing } = require('cdk8s');
      const kplus = require('cdk8s-plus-27');
      const { withNmiProbes, IdentityInitCheck } = require('cdk8s-identity-health');
      const chart = new Chart(Testing.app(), 'c');
      const d = new kplus.Deployment(chart, 'web', { containers: [{ image: 'curlimages/curl:8.11.1', portNumber: 8080 }] });
      withNmiProbes(d);
      chart.with(new IdentityInitCheck({ resource: 'https://vault.azure.net' }));
      const [dep] = Testing.synth(chart);
      const spec = dep.spec.template.spec;
      console.log(JSON.stringify({ init: spec.initContainers.map((c) => c.name), readiness: !!spec.containers[0].readinessProbe.exec }));
    `);
    expect(JSON.parse(run('node', ['plain.js']))).toEqual({ init: ['identity-health-identity-init'], readiness: true });
  });

  it('ships the runtime subpath without cdk8s and the identity-health bin', () => {
    fs.writeFileSync(path.join(dir, 'runtime.js'), `
      const rt = require('cdk8s-identity-health/runtime');
      const loaded = Object.keys(require.cache).some((f) => /node_modules\\/cdk8s\\//.test(f));
      console.log(JSON.stringify({ fns: ['checkNmi', 'checkIdentity', 'createHealthHandlers', 'fromEnv'].every((f) => typeof rt[f] === 'function'), cdk8sLoaded: loaded }));
    `);
    expect(JSON.parse(run('node', ['runtime.js']))).toEqual({ fns: true, cdk8sLoaded: false });
    const help = run(path.join(dir, 'node_modules/.bin/identity-health'), ['--help']);
    expect(help).toMatch(/identity-health <command>/);
    expect(run(path.join(dir, 'node_modules/.bin/identity-health'), ['list', '--output', 'json'])).toContain('"nmi-init"');
  });

  it('resolves both entries under the stock cdk8s TypeScript template (module CommonJS: moduleResolution node10)', () => {
    const tpl = path.join(ROOT, 'node_modules/cdk8s-cli/templates/typescript-app/tsconfig.json');
    const t = path.join(dir, 'template');
    fs.mkdirSync(t);
    fs.copyFileSync(tpl, path.join(t, 'tsconfig.json'));
    expect(JSON.parse(fs.readFileSync(tpl, 'utf8')).compilerOptions.moduleResolution).toBeUndefined();
    fs.writeFileSync(path.join(t, 'main.ts'), `
      import { App, Chart } from 'cdk8s';
      import { NmiProbes } from 'cdk8s-identity-health';
      import { createHealthHandlers, fromEnv, HealthHandlers } from 'cdk8s-identity-health/runtime';
      const chart = new Chart(new App(), 'c');
      chart.with(new NmiProbes());
      const h: HealthHandlers = createHealthHandlers(fromEnv());
      export const ok: boolean = typeof h.handle === 'function';
    `);
    const tsc = path.join(dir, 'node_modules/typescript/bin/tsc');
    expect(() => run('node', [tsc, '-p', '.', '--noEmit'], t)).not.toThrow();
    fs.writeFileSync(path.join(t, 'main.ts'), `import { noSuchExport } from 'cdk8s-identity-health/runtime';\nexport const x = noSuchExport;\n`);
    expect(() => run('node', [tsc, '-p', '.', '--noEmit'], t)).toThrow(/noSuchExport/);
  });

  it('type-checks from TypeScript (options are typed, typos are compile errors)', () => {
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'node16', moduleResolution: 'node16', target: 'es2022', noEmit: true, skipLibCheck: true, types: [] },
      files: ['infra.ts'],
    }));
    const good = `
      import { App, Chart, Duration } from 'cdk8s';
      import * as kplus from 'cdk8s-plus-27';
      import { withIdentityProbes, NmiInitCheck, IdentityProbesOptions } from 'cdk8s-identity-health';
      const chart = new Chart(new App(), 'c');
      const d = new kplus.Deployment(chart, 'web', { containers: [{ image: 'x', portNumber: 8080 }] });
      const o: IdentityProbesOptions = { clientId: '11111111-1111-1111-1111-111111111111', readiness: { periodSeconds: Duration.seconds(5) } };
      const same: kplus.Deployment = withIdentityProbes(d, o);
      chart.with(new NmiInitCheck({ client: 'wget' }));
      void same;
    `;
    fs.writeFileSync(path.join(dir, 'infra.ts'), good);
    const tsc = path.join(dir, 'node_modules/typescript/bin/tsc');
    expect(() => run('node', [tsc, '-p', '.'])).not.toThrow();
    fs.writeFileSync(path.join(dir, 'infra.ts'), good.replace(`client: 'wget'`, `clinet: 'wget'`));
    expect(() => run('node', [tsc, '-p', '.'])).toThrow(/clinet/);
  });
});

describe('runtime only: the app that wants just the app-level checks', () => {
  let app: string;
  beforeAll(() => {
    app = scratch('runtime');
    run('npm', [...INSTALL, tarballs.runtime], app);
  }, 240_000);
  afterAll(() => { if (app) fs.rmSync(app, { recursive: true, force: true }); });

  it('installs one package with no dependencies, no install scripts and no warnings; the README has the figures', () => {
    const f = footprint(app);
    expect(f.packages).toBe(1);
    expect(f.mb).toBeLessThan(0.5);
    const lock = JSON.parse(fs.readFileSync(path.join(app, 'package-lock.json'), 'utf8'));
    expect(Object.values(lock.packages).some((p: any) => p.hasInstallScript)).toBe(false);
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const m = /runtime only \(`cdk8s-identity-health-runtime`\) \| (\d+) packages? \| ([\d.]+) MB/.exec(readme);
    expect(m, 'README: the Install table row for the runtime package').not.toBeNull();
    expect({ packages: Number(m![1]), mb: Number(m![2]) }).toEqual(f);
  });

  it('works from plain Node and TypeScript, the same API as cdk8s-identity-health/runtime', () => {
    fs.writeFileSync(path.join(app, 'app.js'), `
      const rt = require('cdk8s-identity-health-runtime');
      const h = rt.createHealthHandlers({ ...rt.fromEnv(), checks: [] });
      console.log(JSON.stringify({ exports: Object.keys(rt).sort(), handle: typeof h.handle }));
    `);
    const got = JSON.parse(run('node', ['app.js'], app));
    expect(got.handle).toBe('function');
    expect(got.exports).toEqual(Object.keys(require(path.join(ROOT, 'lib/src/runtime'))).sort());
    expect(fs.readFileSync(path.join(app, 'node_modules/cdk8s-identity-health-runtime/LICENSE'), 'utf8')).toMatch(/Apache License/);
  });
});

describe('CLI users: the package alone, as npx or a global install gets it', () => {
  let project: string;
  beforeAll(() => {
    project = scratch('cli');
    // npm installs the cdk8s and constructs peers with it, so every command works, synth included.
    run('npm', [...INSTALL, tarballs.main], project);
  }, 240_000);
  afterAll(() => { if (project) fs.rmSync(project, { recursive: true, force: true }); });

  it('installs a few packages, no install scripts; the README has the figures', () => {
    const f = footprint(project);
    const lock = JSON.parse(fs.readFileSync(path.join(project, 'package-lock.json'), 'utf8'));
    expect(Object.values(lock.packages).some((p: any) => p.hasInstallScript)).toBe(false);
    const m = /library and CLI \(`cdk8s-identity-health`\) \| (\d+) packages? \| ([\d.]+) MB/.exec(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    expect(m, 'README: the Install table row for the main package').not.toBeNull();
    // Peer and dependency versions float within their ranges: the figures may drift a little.
    expect(Math.abs(f.packages - Number(m![1]))).toBeLessThanOrEqual(3);
    expect(Math.abs(f.mb - Number(m![2]))).toBeLessThanOrEqual(3);
  });

  it('runs every command, synth included, from its bin', () => {
    const bin = path.join(project, 'node_modules/.bin/identity-health');
    expect(run(bin, ['--help'], project)).toMatch(/identity-health <command>/);
    const out = run(bin, ['synth', '-s', 'workload-identity-init', '--name', 'api', '--image', 'example.azurecr.io/api:1', '--client-id', '11111111-1111-1111-1111-111111111111'], project);
    expect(out).toMatch(/kind: ServiceAccount[\s\S]*kind: Deployment[\s\S]*identity-health-workload-identity-init/);
    expect(run(bin, ['list', '--output', 'json'], project)).toContain('"workload-identity-probes"');
    // --help names the docs where they are installed.
    const docs = /Docs:\s+(\S+cli\.md)/.exec(run(bin, ['--help'], project));
    expect(docs && fs.existsSync(docs[1]) && docs[1].startsWith(project)).toBe(true);
  });
});
