/**
 * CLI speed, each as a ratio to a reference measured in the same run (interleaved, best of N):
 * - `identity-health apply` on a stream of 1,000 Deployments vs kustomize (`kubectl kustomize`, or
 *   the standalone one from the engines cache) applying an equivalent strategic-merge patch (the
 *   same init container and annotation, generated from the same plan) to the same stream. Target:
 *   at most 0.15x. Without either kustomize, the time is printed with a note and no ratio.
 * - `identity-health --help` vs `node -e ''` (Node's own start). Target: at most 2.5x.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { planFor } from '../../src/transform';
import { figure } from './figures';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'lib/src/cli/main.js');
const N = 1000;

export function deployment(i: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${i}
  labels:
    app: app-${i}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: app-${i}
  template:
    metadata:
      labels:
        app: app-${i}
    spec:
      containers:
      - name: app
        image: example.azurecr.io/app:1.0
        ports:
        - containerPort: 8080
`;
}

/** Wall time of one command in ms (stdout to a file, as a pipeline would). */
function wall(cmd: string, args: string[], cwd: string): number {
  const out = fs.openSync(path.join(cwd, 'out.yaml'), 'w');
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', out, 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  fs.closeSync(out);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

/** The minimum: the run least disturbed by other load on the machine. */
const best = (xs: number[]) => Math.min(...xs);

/**
 * The kustomize to compare with: `kubectl kustomize` (its embedded kustomize) where kubectl is on
 * the PATH, else the standalone kustomize the slow suites' setup builds into the engines cache
 * (test/slow/engines.ts), else none (then no ratio is printed).
 */
function kustomizeReference(): { cmd: string; args: string[]; label: string } | undefined {
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (kubectl.status === 0) {
    const v = (re: RegExp) => re.exec(kubectl.stdout)?.[1] ?? '?';
    return { cmd: 'kubectl', args: ['kustomize', '.'], label: `kubectl kustomize (kubectl ${v(/Client Version: (\S+)/)}, kustomize ${v(/Kustomize Version: (\S+)/)})` };
  }
  try {
    const { engine } = require('../../test/slow/engines') as typeof import('../../test/slow/engines');
    const k = engine('kustomize');
    return { cmd: k.bin, args: ['build', '.'], label: `kustomize build (standalone ${k.version}, engines cache)` };
  } catch { return undefined; }
}

export async function run(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-bench-cli-'));
  fs.writeFileSync(path.join(dir, 'stream.yaml'), Array.from({ length: N }, (_, i) => deployment(i)).join('---\n'));

  // The same change as `apply --strategy nmi-init`, as a kustomize patch on every Deployment.
  const plan = planFor('nmi-init');
  const patch = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'any' },
    spec: { template: { metadata: { annotations: { 'identity-health.io/strategies': 'nmi-init' } }, spec: { initContainers: plan.initContainers } } },
  };
  fs.writeFileSync(path.join(dir, 'kustomization.yaml'), JSON.stringify({ resources: ['stream.yaml'], patches: [{ target: { kind: 'Deployment' }, patch: JSON.stringify(patch) }] }));
  // The exact patch, for the docs (docs/cli.md "Limits and speed" shows it).
  if (process.env.IH_BENCH_PRINT_PATCH) console.log(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'));

  const ref = kustomizeReference();
  const ours: number[] = [];
  const theirs: number[] = [];
  wall(process.execPath, [CLI, 'apply', '-s', 'nmi-init', '-q', 'stream.yaml'], dir); // warm the file cache
  for (let i = 0; i < 7; i++) {
    ours.push(wall(process.execPath, [CLI, 'apply', '-s', 'nmi-init', '-q', 'stream.yaml'], dir));
    if (ref) theirs.push(wall(ref.cmd, ref.args, dir));
  }
  const a = best(ours);
  if (ref) {
    const k = best(theirs);
    const ratio = a / k;
    figure({ what: `\`apply -s nmi-init\` on a stream of ${N} Deployments ([the patch](docs/cli.md#input-output-and-limits))`, measured: `${a.toFixed(0)} ms = ${ratio.toFixed(3)}x`, reference: `${ref.label} with the same patch ${k.toFixed(0)} ms`, target: '<= 0.15x', met: ratio <= 0.15 });
  } else {
    figure({ what: `\`apply -s nmi-init\` on a stream of ${N} Deployments`, measured: `${a.toFixed(0)} ms (no ratio)`, reference: 'none: neither kubectl nor a standalone kustomize in the engines cache', target: '<= 0.15x' });
  }

  const help: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < 15; i++) {
    help.push(wall(process.execPath, [CLI, '--help'], dir));
    bare.push(wall(process.execPath, ['-e', ''], dir));
  }
  const h = best(help);
  const b = best(bare);
  figure({ what: '`identity-health --help`', measured: `${h.toFixed(0)} ms = ${(h / b).toFixed(2)}x`, reference: `\`node -e ''\` ${b.toFixed(0)} ms`, target: '<= 2.5x', met: h / b <= 2.5 });
  fs.rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) run().catch((e) => { console.error(e); process.exit(1); });
