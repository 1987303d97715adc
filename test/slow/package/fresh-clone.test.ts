/**
 * What a new contributor or cdk8s user does on a fresh clone (issue 10): `npm ci`, then
 * `npx cdk8s synth` with no build first; a failing app must leave the committed dist/ as it was;
 * `npm pack` of the unbuilt clone ships the compiled library (prepack builds). The clone is of
 * the committed HEAD, so this tests what is committed, not the working tree.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../../..');
const env = { ...process.env, npm_config_update_notifier: 'false', CI: '1' };
let clone: string;

function sh(cmd: string, args: string[], cwd = clone): { code: number; out: string } {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function manifests(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

describe('a fresh clone', () => {
  beforeAll(() => {
    clone = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-clone-'));
    execFileSync('git', ['clone', '--quiet', ROOT, clone]);
    const ci = sh('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund']);
    if (ci.code !== 0) throw new Error(`npm ci in the fresh clone failed:\n${ci.out}`);
  }, 900_000);
  afterAll(() => { if (clone) fs.rmSync(clone, { recursive: true, force: true }); });

  it('has no lib/ yet, and `npx cdk8s synth` writes the committed dist/ as it is', () => {
    expect(fs.existsSync(path.join(clone, 'lib'))).toBe(false);
    const committed = manifests(path.join(clone, 'dist'));
    const r = sh('npx', ['cdk8s', 'synth', '--no-check-upgrade']);
    expect(r.code, r.out).toBe(0);
    expect(manifests(path.join(clone, 'dist'))).toEqual(committed);
    expect(Object.keys(committed)).toHaveLength(9);
  });

  it('a failing app leaves dist/ as it was', () => {
    const main = path.join(clone, 'main.ts');
    const text = fs.readFileSync(main, 'utf8');
    const before = manifests(path.join(clone, 'dist'));
    fs.writeFileSync(main, text.replace(/^app\.synth\(\);$/m, 'throw new Error("broken app");'));
    try {
      const r = sh('npx', ['cdk8s', 'synth', '--no-check-upgrade']);
      expect(r.out).toMatch(/broken app/);
      expect(manifests(path.join(clone, 'dist'))).toEqual(before);
    } finally {
      fs.writeFileSync(main, text);
    }
  });

  it('`npm pack` of the unbuilt clone builds first and ships the library', () => {
    fs.rmSync(path.join(clone, 'lib'), { recursive: true, force: true });
    const r = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: clone, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    // Lifecycle output (the prepack build) may precede the JSON on stdout.
    const files: string[] = JSON.parse(r.stdout.slice(r.stdout.search(/^\[/m))).flatMap((p: any) => p.files.map((f: any) => f.path));
    for (const f of ['lib/src/index.js', 'lib/src/index.d.ts', 'lib/src/cli/main.js', 'lib/src/runtime/index.js', 'LICENSE', 'docs/cli.md']) expect(files, f).toContain(f);
    expect(files.some((f) => f.startsWith('test/') || f.endsWith('.test.js'))).toBe(false);
  });
});
