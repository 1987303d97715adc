/**
 * What the language tests share: the build manifest that scripts/slow-setup.d/40-languages.sh
 * wrote (scripts/languages/build.ts), the TypeScript reference app's output, and the comparison.
 */
import { execFileSync, ExecFileSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { Manifest } from '../../../scripts/languages/build';

export const REPO = path.resolve(__dirname, '../../..');
export const APPS = path.join(__dirname, 'apps');
export const CACHE = process.env.IH_LANGUAGES_CACHE
  ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'cdk8s-identity-health', 'languages');

/** The build the setup step made, or an error that says how to make it. */
export function manifest(): Manifest {
  const file = path.join(CACHE, 'languages.json');
  if (!fs.existsSync(file)) {
    throw new Error(`the Python/Go/Java packages are not built: run "npm run test:slow" (its setup scripts/slow-setup.d/40-languages.sh builds them into ${CACHE}) or "npm run languages"`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Env of the language apps: the jsii runtime's Node, without its Node-version banner; caches outside the repo. */
export const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: process.versions.node.split('.')[0],
  JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: process.versions.node.split('.')[0],
  JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION: process.versions.node.split('.')[0],
  PIP_CACHE_DIR: path.join(CACHE, 'pip'),
  PIP_DISABLE_PIP_VERSION_CHECK: '1',
};

export function run(cmd: string, args: string[], opts: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(cmd, args, { env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts }) as string;
  } catch (e: any) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${e.status}):\n${String(e.stderr ?? '').slice(-4000)}\n${String(e.stdout ?? '').slice(-2000)}`);
  }
}

export function tmp(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `languages-${name}-`));
}

/** Every file an app synthesized, by name. */
export function synthesized(outdir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(outdir).sort().map((f) => [f, fs.readFileSync(path.join(outdir, f), 'utf8')]));
}

export interface Outputs {
  /** The YAML of the three charts (one workload; a whole chart; workload identity on a chart). */
  yaml: Record<string, string>;
  /** The conflict error line. */
  conflict: string;
  /** The `onConflict` SKIP run: the skipped workloads it printed, and its YAML. */
  skipped: string[];
  skipYaml: Record<string, string>;
}

/** Runs an app (`start(outdir, mode)` returns its stdout) in its three modes. */
export function outputs(name: string, start: (outdir: string, mode?: string) => string): Outputs {
  const out = tmp(`${name}-out`);
  start(out);
  const conflict = errorLine(start(tmp(`${name}-conflict`), 'conflict'));
  const skipOut = tmp(`${name}-skip`);
  const skipped = start(skipOut, 'skip').split('\n').filter((l) => l.startsWith('SKIPPED: '));
  return { yaml: synthesized(out), conflict, skipped, skipYaml: synthesized(skipOut) };
}

/** The TypeScript reference app (apps/typescript/main.ts). */
export function reference(): Outputs {
  const tsx = path.join(REPO, 'node_modules/.bin/tsx');
  return outputs('typescript', (out, mode) => run(tsx, [path.join(APPS, 'typescript/main.ts'), out, ...(mode ? [mode] : [])], { cwd: REPO }));
}

/**
 * The tests every language shares: `get()` gives the language app's outputs and the reference's
 * (computed once, in the suite's beforeAll).
 */
export function sameAsTypeScript(get: () => { lang: Outputs; ref: Outputs }): void {
  it('synthesizes the same YAML as the TypeScript app (one workload; whole charts with chart.with)', () => {
    const { lang, ref } = get();
    expect(Object.keys(ref.yaml)).toEqual(['billing.k8s.yaml', 'orders.k8s.yaml', 'workers.k8s.yaml']);
    expect(ref.yaml['orders.k8s.yaml']).toContain('identity-health.io/strategies: identity-probes');
    expect(ref.yaml['workers.k8s.yaml'].match(/strategies: nmi-init/g)).toHaveLength(2);
    expect(ref.yaml['billing.k8s.yaml']).toContain('azure.workload.identity/client-id: 11111111-1111-1111-1111-111111111111');
    expect(lang.yaml).toEqual(ref.yaml);
  });

  it('raises a conflict with the same message as TypeScript', () => {
    const { lang, ref } = get();
    expect(ref.conflict).toMatch(/^ERROR: ConflictError: identity-health identity-probes at conflict\/legacy\/Resource: .*already has a readinessProbe/);
    expect(lang.conflict).toBe(ref.conflict);
  });

  it('with onConflict SKIP, lists the same skipped workload (mixin.skipped) and leaves it as TypeScript does', () => {
    const { lang, ref } = get();
    expect(ref.skipped).toEqual([expect.stringMatching(/^SKIPPED: conflict\/legacy\/Resource: skipped Deployment .*already has a readinessProbe/)]);
    expect(lang.skipped).toEqual(ref.skipped);
    expect(lang.skipYaml).toEqual(ref.skipYaml);
  });
}
/** The first "ERROR: ..." line an app printed (Java's JsiiError appends the kernel's stack on later lines). */
export function errorLine(stdout: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith('ERROR: '));
  if (!line) throw new Error(`the app printed no ERROR line:\n${stdout}`);
  return line;
}

/** Whether `version` satisfies an npm range of the forms the assembly uses (^x.y.z, x.y.z). */
export function satisfies(version: string, range: string): boolean {
  const parse = (v: string) => v.replace(/^[v^]/, '').split('.').map(Number);
  const [v, r] = [parse(version), parse(range)];
  if (!range.startsWith('^')) return v.join('.') === r.join('.');
  if (v[0] !== r[0]) return false;
  for (let i = 0; i < 3; i++) if (v[i] !== r[i]) return v[i] > r[i];
  return true;
}
