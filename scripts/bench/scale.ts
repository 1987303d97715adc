/**
 * Input scale: `apply -s nmi-init` and `audit` on 50 MB of Deployments, as one stream and as a
 * directory of 1,000 files. Targets (issue 13): <= 10 s and peak RSS <= 1 GiB each. Reference in
 * the same run: the same command on 5 MB, times 10, both less the start-up (the same command on one
 * Deployment); linear time means a ratio near 1 (target <= 1.25). The small runs are best of 3.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { deployment } from './cli';
import { figure } from './figures';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'lib/src/cli/main.js');
const PRELOAD = path.join(__dirname, 'maxrss.cjs');
const MB = 2 ** 20;

/** Deployments of about `mb` MB, as one text. */
function stream(mb: number, from = 0): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = from; size < mb * MB; i++) { const t = (parts.length ? '---\n' : '') + deployment(i); parts.push(t); size += t.length; }
  return parts.join('');
}

/** Wall ms and peak RSS (MiB) of one CLI run, stdout to a file. */
function measure(args: string[], cwd: string): { ms: number; rss: number } {
  const rssFile = path.join(cwd, 'rss.txt');
  const out = fs.openSync(path.join(cwd, 'out.yaml'), 'w');
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--require', PRELOAD, CLI, ...args], { cwd, stdio: ['ignore', out, 'pipe'], env: { ...process.env, IH_MAXRSS_FILE: rssFile } });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  fs.closeSync(out);
  if (r.status !== 0) throw new Error(`identity-health ${args.join(' ')} failed: ${r.stderr}`);
  return { ms, rss: Number(fs.readFileSync(rssFile, 'utf8')) / 1024 };
}

export async function run(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-bench-scale-'));
  fs.writeFileSync(path.join(dir, 'small.yaml'), stream(5));
  fs.writeFileSync(path.join(dir, 'big.yaml'), stream(50));
  fs.mkdirSync(path.join(dir, 'files'));
  let n = 0;
  for (let f = 0; f < 1000; f++) { const t = stream(0.05, n); n += t.split('\n---\n').length; fs.writeFileSync(path.join(dir, 'files', `f${String(f).padStart(4, '0')}.yaml`), t); }
  fs.writeFileSync(path.join(dir, 'one.yaml'), deployment(0));
  const best3 = (args: string[]) => Math.min(...[0, 1, 2].map(() => measure(args, dir).ms));
  for (const cmd of [['apply', '-q', '-s', 'nmi-init'], ['audit']]) {
    const name = cmd[0];
    const start = best3([...cmd, 'one.yaml']);
    const small = best3([...cmd, 'small.yaml']);
    for (const [what, input] of [['50 MB stream', 'big.yaml'], ['1,000 files (50 MB)', 'files']]) {
      const big = measure([...cmd, input], dir);
      const ratio = (big.ms - start) / ((small - start) * 10);
      const label = name === 'apply' ? '`apply -s nmi-init`' : '`audit`';
      figure({ what: `${label}, ${what} of Deployments: time`, measured: `${(big.ms / 1000).toFixed(1)} s`, reference: '-', target: '<= 10 s', met: big.ms <= 10_000 });
      figure({ what: `${label}, ${what}: peak RSS`, measured: `${big.rss.toFixed(0)} MiB`, reference: '-', target: '<= 1024 MiB', met: big.rss <= 1024 });
      figure({ what: `${label}, ${what}: linearity`, measured: `${ratio.toFixed(2)}x`, reference: `10 x the 5 MB run (${(small / 1000).toFixed(2)} s), start-up (${start.toFixed(0)} ms) taken off both`, target: '<= 1.25x', met: ratio <= 1.25 });
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) run().catch((e) => { console.error(e); process.exit(1); });
