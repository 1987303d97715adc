/**
 * Synthesis overhead of a strategy on a whole chart, as a user sees it (issue 13: <= 1.15x the CPU
 * and peak RSS of the same app without it): whole processes (synth-child.cjs), each building 1,000
 * cdk8s-plus-27 Deployments and running app.synth() into a temp outdir, with `chart.with(<strategy>)`
 * (the library loaded from lib/, the build) or without. CPU time (user + sys) and peak RSS come from
 * the child's own process.resourceUsage().
 * Next to the strategies, two floors: the fields a probe strategy must add to each Deployment
 * besides its script, hand-written through cdk8s's JsonPatch escape hatch, with no script and no
 * library. `floor`: exec readiness and liveness probes running a script file, and the Memory
 * emptyDir (with its mount) that holds their state (startup grace, token cache): what every probe
 * strategy adds. `floor-pod-identity`: the same plus env HOST_IP, which the pod identity probe
 * strategies (nmi-probes, identity-probes) need to reach NMI. Observed (no target): the part of a
 * probe strategy's cost that no shorter script, or other form of it, can remove.
 * Interleaved runs (none, floor, ..., a, b, ..., none, ...), 11 rounds. Each round's case is divided
 * by that round's run without anything (so a machine that slows down for a while slows both), and
 * the figure is the median of those paired ratios, with their range: on a shared 2-core machine
 * CPU time moves by +-10% between runs, which the range shows. Strategies' targets: CPU <= 1.15x,
 * RSS <= 1.15x.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { figure } from './figures';

const N = 1000;
const ROUNDS = 11;
const CHILD = path.join(__dirname, 'synth-child.cjs');
const LIB = path.resolve(__dirname, '../../lib/src/index.js');
const CASES = ['none', 'floor', 'floor-pod-identity', 'nmi-probes', 'identity-probes', 'workload-identity-probes', 'nmi-init'] as const;
const FLOORS: Record<string, { name: string; what: string }> = {
  floor: { name: 'the floor', what: 'what every probe strategy adds besides its script (exec readiness and liveness probes, the state emptyDir and its mount), hand-written with JsonPatch' },
  'floor-pod-identity': { name: 'the pod identity floor', what: 'the floor plus env HOST_IP (nmi-probes, identity-probes)' },
};
const TARGET = 1.15;

interface Sample { cpuMs: number; rssKiB: number; bytes: number }

function once(which: string): Sample {
  const r = spawnSync(process.execPath, [CHILD, which, String(N)], { encoding: 'utf8', cwd: path.dirname(CHILD) });
  if (r.status !== 0) throw new Error(`synth ${which} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

export async function run(): Promise<void> {
  if (!fs.existsSync(LIB)) throw new Error(`${LIB} missing: run npm run build`);
  const samples = new Map<string, Sample[]>(CASES.map((c) => [c, []]));
  once('none'); // warm the file cache
  for (let r = 0; r < ROUNDS; r++) for (const c of CASES) samples.get(c)!.push(once(c));
  const med = (c: string, k: keyof Sample) => median(samples.get(c)!.map((s) => s[k]));
  /** Median and range of the case's per-round ratios to the same round's run without anything. */
  const paired = (c: string, k: 'cpuMs' | 'rssKiB') => {
    const rs = samples.get(c)!.map((s, r) => s[k] / samples.get('none')![r][k]);
    return { ratio: median(rs), range: `rounds ${Math.min(...rs).toFixed(2)}-${Math.max(...rs).toFixed(2)}` };
  };
  const base = { cpu: med('none', 'cpuMs'), rss: med('none', 'rssKiB') / 1024, mb: med('none', 'bytes') / 2 ** 20 };
  console.log(`synth of ${N} cdk8s-plus-27 Deployments, whole process (app.synth to a temp dir; ${ROUNDS} interleaved rounds, medians of per-round ratios):`);
  console.log(`  without a strategy: CPU ${base.cpu.toFixed(0)} ms, peak RSS ${base.rss.toFixed(0)} MiB, output ${base.mb.toFixed(2)} MB (reference)`);
  for (const c of CASES.slice(1)) {
    const cpu = paired(c, 'cpuMs');
    const rss = paired(c, 'rssKiB');
    const mb = med(c, 'bytes') / 2 ** 20;
    const floor = FLOORS[c];
    const target = (ratio: number) => floor ? { target: '-' } : { target: `<= ${TARGET}x`, met: ratio <= TARGET };
    const name = floor?.name ?? `chart.with(${c})`;
    figure({ what: `synth CPU, ${floor ? `${name}: ${floor.what}` : name} (output ${mb.toFixed(1)} MB)`, measured: `${med(c, 'cpuMs').toFixed(0)} ms = ${cpu.ratio.toFixed(2)}x (${cpu.range})`, reference: `without a strategy ${base.cpu.toFixed(0)} ms (output ${base.mb.toFixed(1)} MB)`, ...target(cpu.ratio) });
    figure({ what: `synth peak RSS, ${name}`, measured: `${(med(c, 'rssKiB') / 1024).toFixed(0)} MiB = ${rss.ratio.toFixed(2)}x (${rss.range})`, reference: `without a strategy ${base.rss.toFixed(0)} MiB`, ...target(rss.ratio) });
  }
}

if (require.main === module) run().catch((e) => { console.error(e); process.exit(1); });
