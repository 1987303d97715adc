/**
 * The published shape: `npm pack`, install the tarball into a scratch project, and use it from
 * plain Node and from TypeScript as a user's infra repo would.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
let dir: string;

function run(cmd: string, args: string[], cwd = dir): string {
  try {
    return execFileSync(cmd, args, { cwd, stdio: 'pipe', env: { ...process.env, npm_config_update_notifier: 'false' } }).toString();
  } catch (e: any) {
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stdout}${e.stderr}`);
  }
}

describe('npm pack tarball', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-pack-'));
    const tgz = run('npm', ['pack', '--silent', '--pack-destination', dir], ROOT).trim().split('\n').pop()!;
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true }));
    // Peers as a user has them; the npm cache already holds every package (npm ci ran before).
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, tgz), 'cdk8s@^2', 'constructs@^10.5', 'cdk8s-plus-27@^2', 'typescript@5.9.3']);
  }, 240_000);
  afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  it('ships the compiled library with types and without tests or sources', () => {
    const pkg = path.join(dir, 'node_modules/cdk8s-identity-health');
    expect(fs.existsSync(path.join(pkg, 'lib/src/index.js'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'lib/src/index.d.ts'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'test'))).toBe(false);
    expect(fs.existsSync(path.join(pkg, 'lib/main.js'))).toBe(false);
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
