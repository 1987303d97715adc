/**
 * Property: any field of a workload (pod template included) replaced by a value of another type
 * gives exit 0 with a correct result, or exit 2 naming the file; never an internal error (70).
 * Run in-process through the CLI's entry function (fast), plus a few real processes.
 */
import * as fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { ROOT, run } from './helpers';

// The built CLI (its commands load their modules lazily with require, as the shipped bin does).
const { main } = require(path.join(ROOT, 'lib/src/cli/main.js')) as { main(args: string[]): Promise<number> };

const BASE = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' }, annotations: { team: 'a' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' }, annotations: { note: 'x' } },
      spec: {
        serviceAccountName: 'web',
        initContainers: [{ name: 'setup', image: 'busybox:1', command: ['sh', '-c', 'true'] }],
        containers: [{
          name: 'web', image: 'example/web:1', args: ['--port', '8080'],
          ports: [{ containerPort: 8080, name: 'http' }],
          env: [{ name: 'A', value: '1' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          startupProbe: { exec: { command: ['sh', '-c', 'true'] }, periodSeconds: 5 },
          resources: { limits: { cpu: '1' } },
        }],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    },
  },
};

/** Every path to a value in BASE (objects, arrays and scalars alike). */
function paths(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out.slice(at.length ? 0 : 1);
}
const PATHS = paths(BASE);

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const anyValue = fc.oneof(
  fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true }),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxKeys: 3 }),
);

function mutated(p: Array<string | number>, value: unknown): unknown {
  const doc = structuredClone(BASE) as any;
  let at = doc;
  for (const k of p.slice(0, -1)) at = at[k];
  at[p[p.length - 1]] = value;
  return doc;
}

/** A case: a path, and a value whose type differs from what is there. */
const wrongType = fc.tuple(fc.constantFrom(...PATHS), anyValue).filter(([p, v]) => {
  let at: any = BASE;
  for (const k of p) at = at[k];
  return typeOf(at) !== typeOf(v);
});

const STRATEGIES = ['nmi-init', 'identity-probes', 'nmi-app-check', 'workload-identity-init'];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-prop-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The CLI in this process: exit code and what it wrote. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const o = process.stdout.write, e = process.stderr.write;
  process.stdout.write = ((s: any) => { stdout += String(s); return true; }) as any;
  process.stderr.write = ((s: any) => { stderr += String(s); return true; }) as any;
  process.exitCode = undefined;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
    process.exitCode = undefined;
  }
}

function checkApply(r: { code: number; stdout: string; stderr: string }, strategy: string, input: any): void {
  expect(r.stderr).not.toMatch(/internal error|TypeError|ReferenceError/);
  expect([0, 2]).toContain(r.code);
  if (r.code === 2) { expect(r.stderr).toMatch(/w\.yaml/); return; }
  const out = YAML.parse(r.stdout);
  // Exit 0: a workload got the strategy (recorded on its pod template), anything else is unchanged.
  if (input?.kind === 'Deployment') {
    expect(r.stderr).toMatch(/1 workload\(s\) changed|1 already had it/);
    expect(out.spec.template.metadata.annotations['identity-health.io/strategies']).toContain(strategy);
  } else expect(out).toEqual(input);
}

describe('structurally wrong manifests (fast-check)', () => {
  it('in-process: exit 0 with a correct result or exit 2 naming the file; never an internal error', async () => {
    await fc.assert(fc.asyncProperty(wrongType, fc.constantFrom(...STRATEGIES), async ([p, value], strategy) => {
      const input = mutated(p, value);
      const file = path.join(dir, 'w.yaml');
      fs.writeFileSync(file, YAML.stringify(input));
      const a = await cli(['apply', '-s', strategy, file]);
      checkApply(a, strategy, input);
      const au = await cli(['audit', '--output', 'json', file]);
      expect(au.stderr).not.toMatch(/internal error|TypeError/);
      expect([0, 2]).toContain(au.code);
      if (au.code === 2) expect(au.stderr).toMatch(/w\.yaml/);
      else JSON.parse(au.stdout);
    }), { numRuns: 120, seed: 14 });
  }, 300_000);

  it('a few real processes', () => {
    const samples = fc.sample(wrongType, { numRuns: 6, seed: 7 });
    for (const [i, [p, value]] of samples.entries()) {
      const input = mutated(p, value);
      fs.writeFileSync(path.join(dir, 'w.yaml'), YAML.stringify(input));
      const strategy = STRATEGIES[i % STRATEGIES.length];
      checkApply(run(['apply', '-s', strategy, 'w.yaml'], { cwd: dir }), strategy, input);
    }
  }, 120_000);
});
